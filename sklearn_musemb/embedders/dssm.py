"""DSSM and A-DSSM embedders of Bretan & Heck (2019), section 3.1."""

from __future__ import annotations

from typing import Any

import torch
from skorch.dataset import unpack_data

from ..nn import EventEncoder, PriorDiscriminator
from ..nn.losses import dssm_logits
from ..utils.validation import check_finite_number
from .adversarial import ADVERSARY_METRICS, PriorAdversaryMixin, with_gan_lr_defaults
from .pairs import AdjacentPairEmbedder


class DSSMEmbedder(PriorAdversaryMixin, AdjacentPairEmbedder):
    """Embed 40-note units so that adjacent units are near (DSSM, or A-DSSM).

    A deep structured semantic model on units: the query is a unit, the positive
    its neighbour in the piece (before or after), the negatives ``n_negatives``
    random training units. The loss is ``-log P(positive | query)``, a softmax
    over the Euclidean similarity ``1 / (1 + D)`` of the query's embedding to the
    candidates' (Bretan & Heck 2019, Eq. 1-3). The embedding is trained directly
    for the distance it is used with.

    With ``adversarial=True`` it is the paper's A-DSSM: a discriminator pushes the
    embeddings towards N(0, I), in its own optimisation steps after each DSSM
    step (see :mod:`sklearn_musemb.embedders.adversarial`).

    Parameters
    ----------
    representation : {"two_hot", "continuous", "relative"}, default="two_hot"
        Input encoding: 272-wide two-hot events or standardised
        ``(pitch, interval)`` pairs.
    chord_ms : float, default=0.0
        Notes closer than this (ms) count as one chord, in pitch order, before
        encoding; 0 keeps the events as cut (the paper).
    augment : PerformanceModel or None, default=None
        Play every training batch through this performance model on the
        device (see :class:`~sklearn_musemb.embedders.UnitEmbedder`).
    embedding_dim : int, default=32
        Size of the embedding.
    n_negatives : int, default=4
        Random units per query competing with the positive.
    similarity_scale : float, default=1.0
        Factor on the similarities before the softmax (the smoothing factor of
        the original DSSM). The paper's Eq. 2 uses 1, which leaves the softmax
        flat: similarities lie in (0, 1], so the loss saturates early. Larger
        values (e.g. 10) sharpen it.
    adversarial : bool, default=False
        Add the N(0, I) adversary (A-DSSM).
    criterion : type of torch.nn.Module, default=torch.nn.CrossEntropyLoss
        Loss on the softmax logits (the positive is class 0).
    discriminator : type of torch.nn.Module, default=PriorDiscriminator
        Discriminator class; ``discriminator__hidden_dim`` etc. configure it.
    optimizer_disc, optimizer_gen : type of torch.optim.Optimizer, default=Adam
        Optimizers of the discriminator and generator steps. Their learning rates
        are ``optimizer_disc__lr`` (default 1e-4) and ``optimizer_gen__lr``
        (default 1e-4), both grid-searchable.
    lr : float, default=1e-3
        Adam learning rate of the DSSM loss.
    max_epochs : int, default=10
        Passes over the adjacent pairs.
    batch_size : int, default=256
        Adjacent pairs per step.
    device : str, default="auto"
        ``"auto"``: CUDA when available, else CPU.
    random_state : int, RandomState instance or None, default=None
        Seeds initialisation, batch order, negatives and prior samples.
    verbose : int, default=0
        1 prints skorch's per-epoch table.
    **kwargs
        Other skorch parameters: ``module__hidden_dim`` (256),
        ``module__event_channels`` (64), ``module__n_layers`` (8),
        ``optimizer``, ``callbacks``, ``train_split``...

    Attributes
    ----------
    module_ : EventEncoder
        The trained embedding network.
    discriminator_ : PriorDiscriminator
        The prior discriminator (trained only with ``adversarial=True``).
    history_ : skorch.History
        Per epoch: ``train_loss``, ``train_nearest_accuracy`` (how often the
        positive is the nearest candidate) and, when adversarial,
        ``train_disc_loss`` and ``train_gen_loss``.
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
    ADSSMEmbedder : the same with ``adversarial=True``.
    AdjDEmbedder : learns adjacency through a classifier instead.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_musemb.embedders import DSSMEmbedder
    >>> rng = np.random.default_rng(0)
    >>> X = np.stack([rng.integers(40, 90, (50, 8)),
    ...               rng.integers(0, 600, (50, 8))], axis=-1)
    >>> emb = DSSMEmbedder(adversarial=True, max_epochs=2, random_state=0,
    ...                    module__hidden_dim=32)
    >>> emb.fit_transform(X).shape
    (50, 32)
    >>> sorted(k for k in emb.history_[-1] if k.endswith("_loss"))
    ['train_disc_loss', 'train_gen_loss', 'train_loss']
    """

    _batch_metrics = ("nearest_accuracy", *ADVERSARY_METRICS)

    def __init__(
        self,
        *,
        representation: str = "two_hot",
        chord_ms: float = 0.0,
        augment: Any = None,
        embedding_dim: int = 32,
        n_negatives: int = 4,
        similarity_scale: float = 1.0,
        adversarial: bool = False,
        module: type[torch.nn.Module] = EventEncoder,
        discriminator: type[torch.nn.Module] = PriorDiscriminator,
        criterion: type[torch.nn.Module] = torch.nn.CrossEntropyLoss,
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
        self.n_negatives = n_negatives
        self.similarity_scale = similarity_scale
        self.adversarial = adversarial

    def _check_params(self) -> None:
        super()._check_params()
        check_finite_number(
            self.similarity_scale, "similarity_scale", type(self).__name__, strict=True
        )

    def _batch_loss(self, batch: Any, training: bool) -> torch.Tensor:
        first, second = unpack_data(batch)
        anchor, positive, negative = self._sample_rows(first, second)
        n, k = len(anchor), self.n_negatives
        emb = self._embed(self._encode_rows(torch.cat([anchor, positive, negative])))
        query, pos, neg = emb[:n], emb[n : 2 * n], emb[2 * n :].view(n, k, -1)
        logits = dssm_logits(query, pos, neg, scale=float(self.similarity_scale))
        target = torch.zeros(n, dtype=torch.long, device=logits.device)
        loss = self.get_loss(logits, target, training=training)
        nearest = (logits.argmax(dim=1) == 0).float().mean()
        self._record("nearest_accuracy", nearest, training)
        return loss


class ADSSMEmbedder(DSSMEmbedder):
    """A-DSSM: :class:`DSSMEmbedder` with the N(0, I) adversary on (Bretan & Heck
    2019, 3.1).

    ``ADSSMEmbedder(**params)`` is ``DSSMEmbedder(adversarial=True, **params)``;
    every parameter of :class:`DSSMEmbedder` applies.

    Examples
    --------
    >>> from sklearn_musemb.embedders import ADSSMEmbedder
    >>> ADSSMEmbedder(lr=1e-3).adversarial
    True
    """

    def __init__(self, *, adversarial: bool = True, **kwargs: Any) -> None:
        super().__init__(adversarial=adversarial, **kwargs)
