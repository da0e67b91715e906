"""VAE and AAE embedders: the autoencoder baselines of Bretan & Heck (2019), 4.1."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from skorch.dataset import unpack_data

from ..encodings import group_chords
from ..nn import AutoencoderNet, PriorDiscriminator
from ..nn.losses import ReconstructionLoss, kl_to_standard_normal
from ..units.container import Units
from ..utils.validation import check_finite_number
from .adversarial import ADVERSARY_METRICS, PriorAdversaryMixin, with_gan_lr_defaults
from .base import UnitEmbedder


class AutoencoderEmbedder(UnitEmbedder):
    """Base class of the embedders that learn by reconstructing their input.

    skorch iterates over the training units themselves (no adjacency is used).
    The reconstruction target is the compact events for two-hot input and the
    continuous encoding otherwise (see
    :func:`~sklearn_musemb.nn.losses.reconstruction_loss`). Not used directly; see
    :class:`VAEEmbedder` and :class:`AAEEmbedder`.
    """

    _abstract = True

    def _training_data(self, units: Units, y: object = None) -> tuple[np.ndarray, None]:
        return np.arange(len(units), dtype=np.int64), None

    def _reconstruction_target(
        self, rows: torch.Tensor, encoded: torch.Tensor
    ) -> torch.Tensor:
        if self.representation != "two_hot":
            if hasattr(self, "_successor_on_device"):  # augmented: clean target
                return self._encode_batch(self._events_on_device[rows])
            return encoded
        # the clean events (a denoising target when ``augment`` is set), grouped
        # into chords as the input was
        return group_chords(self._events_on_device[rows], float(self.chord_ms))


class VAEEmbedder(AutoencoderEmbedder):
    """Embed 40-note units with a variational autoencoder (VAE).

    The shared event encoder emits the mean and log variance of a Gaussian
    posterior; a code sampled from it (reparameterisation) is decoded back to the
    input representation, and the loss is the reconstruction's negative
    log-likelihood plus ``kl_weight`` times the KL divergence from N(0, I) (the
    ELBO for ``kl_weight=1``). ``transform`` returns the posterior mean. A baseline
    of Bretan & Heck (2019): it knows nothing of adjacency.

    Parameters
    ----------
    representation : {"two_hot", "continuous", "relative"}, default="two_hot"
        Input encoding and what the decoder reconstructs: the 72 pitch and 200
        interval bins of every event (two categorical cross-entropies) for
        two-hot, the standardised ``(pitch, interval)`` pairs (squared error) for
        continuous.
    chord_ms : float, default=0.0
        Notes closer than this (ms) count as one chord, in pitch order, before
        encoding; 0 keeps the events as cut (the paper).
    augment : PerformanceModel or None, default=None
        Play every training batch through this performance model on the
        device (see :class:`~sklearn_musemb.embedders.UnitEmbedder`).
    embedding_dim : int, default=32
        Size of the embedding.
    kl_weight : float, default=1.0
        Weight of the KL term (beta of a beta-VAE); 0 gives a plain autoencoder
        with noisy codes.
    lr : float, default=1e-3
        Adam learning rate.
    max_epochs : int, default=10
        Passes over the training units.
    batch_size : int, default=256
        Units per step.
    device : str, default="auto"
        ``"auto"``: CUDA when available, else CPU.
    random_state : int, RandomState instance or None, default=None
        Seeds initialisation, batch order and the posterior samples.
    verbose : int, default=0
        1 prints skorch's per-epoch table.
    **kwargs
        Other skorch parameters: ``module__hidden_dim`` (256),
        ``module__event_channels`` (64), ``module__n_layers`` (8, for encoder and
        decoder alike), ``optimizer``, ``callbacks``, ``train_split``...

    Attributes
    ----------
    module_ : AutoencoderNet
        The trained network (``module_.encoder``, ``module_.decoder``).
    history_ : skorch.History
        Per epoch: ``train_loss`` and its parts ``train_reconstruction_loss`` and
        ``train_kl_loss``.
    n_features_in_ : int
        ``2 * n_events`` of the training units.
    n_events_in_ : int
        Events per unit.
    event_mean_, event_scale_ : ndarray of shape (2,)
        Standardisation used by the continuous encoding.
    device_ : str
        The device the model was trained on.

    See Also
    --------
    AAEEmbedder : pushes the codes to N(0, I) with a discriminator instead of KL.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_musemb.embedders import VAEEmbedder
    >>> rng = np.random.default_rng(0)
    >>> X = np.stack([rng.integers(40, 90, (50, 8)),
    ...               rng.integers(0, 600, (50, 8))], axis=-1)
    >>> vae = VAEEmbedder(max_epochs=2, random_state=0, module__hidden_dim=32)
    >>> vae.fit_transform(X).shape
    (50, 32)
    """

    _batch_metrics = ("reconstruction_loss", "kl_loss")
    _module_defaults = {"variational": True}

    def __init__(
        self,
        *,
        representation: str = "two_hot",
        chord_ms: float = 0.0,
        augment: Any = None,
        embedding_dim: int = 32,
        kl_weight: float = 1.0,
        module: type[torch.nn.Module] = AutoencoderNet,
        criterion: type[torch.nn.Module] = ReconstructionLoss,
        optimizer: type[torch.optim.Optimizer] = torch.optim.Adam,
        lr: float = 1e-3,
        max_epochs: int = 10,
        batch_size: int = 256,
        train_split: Any = None,
        callbacks: Any = None,
        verbose: int = 0,
        device: str = "auto",
        random_state: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            module,
            criterion,
            representation=representation,
            chord_ms=chord_ms,
            augment=augment,
            embedding_dim=embedding_dim,
            optimizer=optimizer,
            lr=lr,
            max_epochs=max_epochs,
            batch_size=batch_size,
            train_split=train_split,
            callbacks=callbacks,
            verbose=verbose,
            device=device,
            random_state=random_state,
            **kwargs,
        )
        self.kl_weight = kl_weight

    def _check_params(self) -> None:
        super()._check_params()
        check_finite_number(self.kl_weight, "kl_weight", type(self).__name__)

    def _batch_loss(self, batch: Any, training: bool) -> torch.Tensor:
        rows, _ = unpack_data(batch)
        encoded = self._encode_rows(rows)
        mean, log_var = self.module_.encode(encoded)
        code = mean
        if training:
            noise = torch.randn(
                mean.shape, generator=self._torch_rng, device=mean.device
            )
            code = mean + (0.5 * log_var).exp() * noise
        output = self.module_.decode(code)
        target = self._reconstruction_target(rows, encoded)
        reconstruction = self.get_loss(output, target, training=training)
        kl = kl_to_standard_normal(mean, log_var)
        self._record("reconstruction_loss", reconstruction, training)
        self._record("kl_loss", kl, training)
        return reconstruction + float(self.kl_weight) * kl


class AAEEmbedder(PriorAdversaryMixin, AutoencoderEmbedder):
    """Embed 40-note units with an adversarial autoencoder (AAE).

    The shared event encoder gives a deterministic code, decoded back to the
    input representation; after each reconstruction step a discriminator learns
    to tell the codes from N(0, I) samples and the encoder learns to fool it
    (Makhzani et al. 2016; see :mod:`sklearn_musemb.embedders.adversarial`), which
    shapes the codes like the VAE's KL term does. ``adversarial=False`` leaves a
    plain autoencoder. A baseline of Bretan & Heck (2019): it knows nothing of
    adjacency.

    Parameters
    ----------
    representation : {"two_hot", "continuous", "relative"}, default="two_hot"
        Input encoding and what the decoder reconstructs: the 72 pitch and 200
        interval bins of every event (two categorical cross-entropies) for
        two-hot, the standardised ``(pitch, interval)`` pairs (squared error) for
        continuous.
    chord_ms : float, default=0.0
        Notes closer than this (ms) count as one chord, in pitch order, before
        encoding; 0 keeps the events as cut (the paper).
    augment : PerformanceModel or None, default=None
        Play every training batch through this performance model on the
        device (see :class:`~sklearn_musemb.embedders.UnitEmbedder`).
    embedding_dim : int, default=32
        Size of the embedding.
    adversarial : bool, default=True
        Train the discriminator and the generator steps; False gives a plain
        autoencoder.
    discriminator : type of torch.nn.Module, default=PriorDiscriminator
        Discriminator class; ``discriminator__hidden_dim`` etc. configure it.
    optimizer_disc, optimizer_gen : type of torch.optim.Optimizer, default=Adam
        Optimizers of the discriminator and generator steps. Their learning rates
        are ``optimizer_disc__lr`` (default 1e-4) and ``optimizer_gen__lr``
        (default 1e-4), both grid-searchable.
    lr : float, default=1e-3
        Adam learning rate of the reconstruction loss.
    max_epochs : int, default=10
        Passes over the training units.
    batch_size : int, default=256
        Units per step.
    device : str, default="auto"
        ``"auto"``: CUDA when available, else CPU.
    random_state : int, RandomState instance or None, default=None
        Seeds initialisation, batch order and the prior samples.
    verbose : int, default=0
        1 prints skorch's per-epoch table.
    **kwargs
        Other skorch parameters: ``module__hidden_dim`` (256),
        ``module__event_channels`` (64), ``module__n_layers`` (8),
        ``optimizer``, ``callbacks``, ``train_split``...

    Attributes
    ----------
    module_ : AutoencoderNet
        The trained network (``module_.encoder``, ``module_.decoder``).
    discriminator_ : PriorDiscriminator
        The prior discriminator.
    history_ : skorch.History
        Per epoch: ``train_loss`` (reconstruction), ``train_disc_loss`` and
        ``train_gen_loss``.
    n_features_in_ : int
        ``2 * n_events`` of the training units.
    n_events_in_ : int
        Events per unit.
    event_mean_, event_scale_ : ndarray of shape (2,)
        Standardisation used by the continuous encoding.
    device_ : str
        The device the model was trained on.

    See Also
    --------
    VAEEmbedder : shapes the codes with a KL term instead.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_musemb.embedders import AAEEmbedder
    >>> rng = np.random.default_rng(0)
    >>> X = np.stack([rng.integers(40, 90, (50, 8)),
    ...               rng.integers(0, 600, (50, 8))], axis=-1)
    >>> aae = AAEEmbedder(max_epochs=2, random_state=0, module__hidden_dim=32)
    >>> aae.fit_transform(X).shape
    (50, 32)
    """

    _batch_metrics = ADVERSARY_METRICS

    def __init__(
        self,
        *,
        representation: str = "two_hot",
        chord_ms: float = 0.0,
        augment: Any = None,
        embedding_dim: int = 32,
        adversarial: bool = True,
        module: type[torch.nn.Module] = AutoencoderNet,
        discriminator: type[torch.nn.Module] = PriorDiscriminator,
        criterion: type[torch.nn.Module] = ReconstructionLoss,
        optimizer: type[torch.optim.Optimizer] = torch.optim.Adam,
        optimizer_disc: type[torch.optim.Optimizer] = torch.optim.Adam,
        optimizer_gen: type[torch.optim.Optimizer] = torch.optim.Adam,
        lr: float = 1e-3,
        max_epochs: int = 10,
        batch_size: int = 256,
        train_split: Any = None,
        callbacks: Any = None,
        verbose: int = 0,
        device: str = "auto",
        random_state: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            module,
            criterion,
            representation=representation,
            chord_ms=chord_ms,
            augment=augment,
            embedding_dim=embedding_dim,
            optimizer=optimizer,
            lr=lr,
            max_epochs=max_epochs,
            batch_size=batch_size,
            train_split=train_split,
            callbacks=callbacks,
            verbose=verbose,
            device=device,
            random_state=random_state,
            discriminator=discriminator,
            optimizer_disc=optimizer_disc,
            optimizer_gen=optimizer_gen,
            **with_gan_lr_defaults(kwargs),
        )
        self.adversarial = adversarial

    def _batch_loss(self, batch: Any, training: bool) -> torch.Tensor:
        rows, _ = unpack_data(batch)
        encoded = self._encode_rows(rows)
        output = self.module_(encoded)
        target = self._reconstruction_target(rows, encoded)
        return self.get_loss(output, target, training=training)
