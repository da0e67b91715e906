"""AdjD and A-AdjD: the adjacency discriminator embedders of Bretan & Heck (2019)."""

from __future__ import annotations

from typing import Any

import torch
from skorch.dataset import unpack_data

from ..nn import AdjacencyNet, PriorDiscriminator
from .adversarial import ADVERSARY_METRICS, PriorAdversaryMixin, with_gan_lr_defaults
from .pairs import AdjacentPairEmbedder


class AdjDEmbedder(PriorAdversaryMixin, AdjacentPairEmbedder):
    """Embed 40-note units by learning which units are adjacent (AdjD, or A-AdjD).

    Two units are *related* when one directly follows the other in a piece. Both
    units go through the same encoder (tied towers, Bretan & Heck 2019, section
    3.2); a deliberately small classifier on the concatenated embeddings says
    related / not related, trained with two-class cross-entropy against
    ``n_negatives`` random units of the training set per adjacent pair. The pair
    order is flipped at random, so "before" and "after" neighbours both count.
    ``transform`` returns the encoder output only.

    With ``adversarial=True`` it is the paper's A-AdjD: a discriminator pushes the
    embeddings towards N(0, I), in its own optimisation steps after each
    adjacency step (see :mod:`sklearn_musemb.embedders.adversarial`).

    Parameters
    ----------
    representation : {"two_hot", "continuous", "relative"}, default="two_hot"
        Input encoding: 272-wide two-hot events (pitch folded into MIDI 24..95,
        10 ms interval bins up to 2 s) or standardised ``(pitch, interval)`` pairs.
    chord_ms : float, default=0.0
        Notes closer than this (ms) count as one chord, in pitch order, before
        encoding; 0 keeps the events as cut (the paper).
    augment : PerformanceModel or None, default=None
        Play every training batch through this performance model on the
        device (see :class:`~sklearn_musemb.embedders.UnitEmbedder`).
    embedding_dim : int, default=32
        Size of the embedding.
    n_negatives : int, default=1
        Random (not related) units drawn per adjacent pair, on the device, from all
        training units. A random unit is the true neighbour with probability about
        ``1 / n_units``; such collisions are not filtered.
    adversarial : bool, default=False
        Add the N(0, I) adversary (A-AdjD).
    discriminator : type of torch.nn.Module, default=PriorDiscriminator
        Discriminator class; ``discriminator__hidden_dim`` etc. configure it.
    optimizer_disc, optimizer_gen : type of torch.optim.Optimizer, default=Adam
        Optimizers of the discriminator and generator steps. Their learning rates
        are ``optimizer_disc__lr`` (default 1e-4) and ``optimizer_gen__lr``
        (default 1e-4), both grid-searchable.
    lr : float, default=1e-3
        Adam learning rate of the adjacency classifier loss.
    max_epochs : int, default=10
        Passes over the adjacent pairs.
    batch_size : int, default=256
        Adjacent pairs per step (each step encodes ``(2 + n_negatives) *
        batch_size`` units).
    device : str, default="auto"
        ``"auto"``: CUDA when available, else CPU.
    random_state : int, RandomState instance or None, default=None
        Seeds initialisation, batch order and negatives.
    verbose : int, default=0
        1 prints skorch's per-epoch table (loss, pair accuracy, time).
    **kwargs
        Other skorch parameters: ``module__hidden_dim`` (256),
        ``module__event_channels`` (64), ``module__n_layers`` (8),
        ``module__classifier_hidden_dim`` (32), ``optimizer``, ``callbacks``,
        ``train_split``...

    Attributes
    ----------
    module_ : AdjacencyNet
        The trained network (``module_.encoder`` is the embedding network).
    discriminator_ : PriorDiscriminator
        The prior discriminator (trained only with ``adversarial=True``).
    history_ : skorch.History
        Per-epoch ``train_loss`` and ``train_pair_accuracy`` and, when
        adversarial, ``train_disc_loss`` and ``train_gen_loss``.
    n_features_in_ : int
        ``2 * n_events`` of the training units.
    n_events_in_ : int
        Events per unit.
    event_mean_, event_scale_ : ndarray of shape (2,)
        Standardisation of ``(pitch, interval)`` used by the continuous encoding.
    device_ : str
        The device the model was trained on.

    See Also
    --------
    AAdjDEmbedder : the same with ``adversarial=True``.
    DSSMEmbedder : learns adjacency as a distance directly.
    sklearn_musemb.units.segment_notes : cut pieces into 40-note units.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_musemb.embedders import AdjDEmbedder
    >>> rng = np.random.default_rng(0)
    >>> X = np.stack([rng.integers(40, 90, (50, 8)),
    ...               rng.integers(0, 600, (50, 8))], axis=-1)
    >>> emb = AdjDEmbedder(max_epochs=2, random_state=0, module__hidden_dim=32)
    >>> emb.fit_transform(X).shape
    (50, 32)
    """

    def __init__(
        self,
        *,
        representation: str = "two_hot",
        chord_ms: float = 0.0,
        augment: Any = None,
        embedding_dim: int = 32,
        n_negatives: int = 1,
        adversarial: bool = False,
        module: type[torch.nn.Module] = AdjacencyNet,
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
        self.adversarial = adversarial

    _batch_metrics = ("pair_accuracy", *ADVERSARY_METRICS)

    def _batch_loss(self, batch: Any, training: bool) -> torch.Tensor:
        first, second = unpack_data(batch)
        anchor, positive, negative = self._sample_rows(first, second)
        n, k = len(anchor), self.n_negatives
        emb = self._embed(self._encode_rows(torch.cat([anchor, positive, negative])))
        a, p, neg = emb[:n], emb[n : 2 * n], emb[2 * n :]
        left = torch.cat([a, a.repeat_interleave(k, dim=0)])
        logits = self.module_.classifier(left, torch.cat([p, neg]))
        target = torch.zeros(len(logits), dtype=torch.long, device=logits.device)
        target[:n] = 1
        loss = self.get_loss(logits, target, training=training)
        accuracy = (logits.argmax(dim=1) == target).float().mean()
        self._record("pair_accuracy", accuracy, training)
        return loss


class AAdjDEmbedder(AdjDEmbedder):
    """A-AdjD: :class:`AdjDEmbedder` with the N(0, I) adversary on (Bretan & Heck
    2019, 3.2).

    ``AAdjDEmbedder(**params)`` is ``AdjDEmbedder(adversarial=True, **params)``;
    every parameter of :class:`AdjDEmbedder` applies.

    Examples
    --------
    >>> from sklearn_musemb.embedders import AAdjDEmbedder
    >>> AAdjDEmbedder().adversarial
    True
    """

    def __init__(self, *, adversarial: bool = True, **kwargs: Any) -> None:
        super().__init__(adversarial=adversarial, **kwargs)


#: The design card's spelling; the same class.
ADjDEmbedder = AdjDEmbedder
