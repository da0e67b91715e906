"""A contrastive (NT-Xent) embedder of note units, robust to how music is played."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from skorch.dataset import unpack_data

from ..nn import ContrastiveNet
from ..nn.losses import NTXentLoss
from ..units.container import Units
from ..units.performance import PerformanceModel
from ..utils.validation import check_finite_number
from .base import UnitEmbedder

POSITIVES = ("adjacent", "perturbed", "both")


class ContrastiveEmbedder(UnitEmbedder):
    """Embed note units so that performed versions and neighbours lie close.

    A contrastive method beyond the papers (in the spirit of SimCLR and its
    adaptation to symbolic piano music): each training step takes a batch of
    units and their *positives*, projects both through a small head and
    minimises NT-Xent (``sklearn_musemb.nn.losses.nt_xent_loss``): every
    unit must pick its positive among all the other units of the batch (in-batch
    negatives). The positive of a unit is

    - ``"adjacent"``: the unit just before or after it in its piece (the papers'
      context idea, as in AdjD/DSSM);
    - ``"perturbed"``: another performance of the same unit, played through
      ``augment`` (a different tempo, spread chords, jitter, a dropped note...);
    - ``"both"``: the two losses averaged, one anchor per pair.

    With ``augment`` set, every unit the loss sees is performed on the device, a
    fresh draw each time, so the embedding learns to ignore what a performance
    changes. The defaults (the tempo-free ``"relative"`` encoding, chords
    grouped under 35 ms and the typical performance of
    :meth:`~sklearn_musemb.units.PerformanceModel.typical`) are the
    configuration measured in ``benchmarks/robustness.py``; ``transform``
    returns the encoder output (the projection head is used in training only).

    Parameters
    ----------
    representation : {"two_hot", "continuous", "relative"}, default="relative"
        Input encoding (see :class:`~sklearn_musemb.embedders.UnitEmbedder`).
    chord_ms : float, default=35.0
        Notes closer than this (ms) count as one chord, in pitch order.
    augment : PerformanceModel, "typical" or None, default="typical"
        The performance model of the training views; ``"typical"`` is
        :meth:`PerformanceModel.typical()
        <sklearn_musemb.units.PerformanceModel.typical>`, None trains on the
        units as cut (then ``positives`` must be ``"adjacent"``).
    positives : {"adjacent", "perturbed", "both"}, default="both"
        What counts as the positive of a unit (see above).
    temperature : float, default=0.1
        Softmax temperature of NT-Xent (> 0).
    embedding_dim : int, default=32
        Size of the embedding.
    lr : float, default=1e-3
        Adam learning rate.
    max_epochs : int, default=10
        Passes over the training items (adjacent pairs, or units with
        ``positives="perturbed"``).
    batch_size : int, default=256
        Items per step; every item brings its own negatives (the rest of the
        batch), so larger batches make a harder task.
    device : str, default="auto"
        ``"auto"``: CUDA when available, else CPU.
    random_state : int, RandomState instance or None, default=None
        Seeds initialisation, batch order and the performances.
    verbose : int, default=0
        1 prints skorch's per-epoch table.
    **kwargs
        Other skorch parameters: ``module__hidden_dim`` (256),
        ``module__event_channels`` (64), ``module__n_layers`` (8),
        ``module__projection_dim`` (64), ``optimizer``, ``callbacks``...

    Attributes
    ----------
    module_ : ContrastiveNet
        The trained network (``module_.encoder`` is the embedding network).
    history_ : skorch.History
        Per epoch ``train_loss`` and ``train_positive_accuracy`` (how often a
        unit's nearest projection in the batch is its positive).
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
    sklearn_musemb.units.PerformanceModel : the augmentation.
    sklearn_musemb.metrics.make_robustness_scorer : score what it learned.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_musemb.embedders import ContrastiveEmbedder
    >>> from sklearn_musemb.units import Units
    >>> rng = np.random.default_rng(0)
    >>> X = Units(np.stack([rng.integers(40, 90, (60, 8)),
    ...                     rng.integers(0, 600, (60, 8))], axis=-1),
    ...           piece=np.repeat([0, 1, 2], 20))
    >>> emb = ContrastiveEmbedder(max_epochs=2, random_state=0, batch_size=16,
    ...                           module__hidden_dim=32)
    >>> emb.fit_transform(X).shape
    (60, 32)
    """

    _batch_metrics = ("positive_accuracy",)
    #: A batch of one has no negatives.
    _min_batch_size = 2

    def __init__(
        self,
        *,
        representation: str = "relative",
        chord_ms: float = 35.0,
        augment: Any = "typical",
        positives: str = "both",
        temperature: float = 0.1,
        embedding_dim: int = 32,
        module: type[torch.nn.Module] = ContrastiveNet,
        criterion: type[torch.nn.Module] = NTXentLoss,
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
        self.positives = positives
        self.temperature = temperature

    # -- validation --------------------------------------------------------------------
    def _check_params(self) -> None:
        super()._check_params()
        name = type(self).__name__
        if self.positives not in POSITIVES:
            raise ValueError(
                f"{name}: positives must be one of {POSITIVES}, got {self.positives!r}"
            )
        check_finite_number(self.temperature, "temperature", name, strict=True)
        augment = self._augmentation()
        if self.positives != "adjacent" and (augment is None or augment.is_identity()):
            raise ValueError(
                f"{name}: positives={self.positives!r} compares a unit with another "
                "performance of it, which needs augment (a PerformanceModel or "
                f"'typical') with at least one effect, got augment={self.augment!r}"
            )

    def _augmentation(self) -> PerformanceModel | None:
        if isinstance(self.augment, str):
            if self.augment != "typical":
                raise ValueError(
                    f"{type(self).__name__}: augment must be a PerformanceModel, "
                    f"'typical' or None, got {self.augment!r}"
                )
            return PerformanceModel.typical()
        return super()._augmentation()

    # -- training ----------------------------------------------------------------------
    def initialize_criterion(self) -> ContrastiveEmbedder:
        kwargs = {"temperature": float(self.temperature)}
        kwargs.update(self.get_params_for("criterion"))
        self.criterion_ = self.initialized_instance(self.criterion, kwargs)
        return self

    def _training_data(
        self, units: Units, y: object = None
    ) -> tuple[np.ndarray, np.ndarray]:
        if self.positives == "perturbed":
            rows = np.arange(len(units), dtype=np.int64)
            return rows, rows
        first, second = units.adjacent_pairs()
        if len(first) == 0:
            raise ValueError(
                f"{type(self).__name__} with positives={self.positives!r} needs "
                "adjacent units, found none among n_samples="
                f"{len(units)} units of {len(np.unique(units.piece))} piece(s); use "
                "positives='perturbed' or pieces of at least 2 units"
            )
        return first.astype(np.int64), second.astype(np.int64)

    def _project(self, rows: torch.Tensor) -> torch.Tensor:
        return self.module_(self._encode_rows(rows))

    def _batch_loss(self, batch: Any, training: bool) -> torch.Tensor:
        first, second = unpack_data(batch)
        swap = torch.rand(len(first), generator=self._torch_rng, device=first.device)
        anchor = torch.where(swap < 0.5, second, first)
        neighbour = torch.where(swap < 0.5, first, second)
        z_anchor = self._project(anchor)
        views = []
        if self.positives in ("perturbed", "both"):
            views.append(self._project(anchor))  # a second, independent performance
        if self.positives in ("adjacent", "both"):
            views.append(self._project(neighbour))
        losses = [self.get_loss(z_anchor, view, training=training) for view in views]
        with torch.no_grad():
            similarity = (
                torch.nn.functional.normalize(z_anchor.float(), dim=1)
                @ torch.nn.functional.normalize(views[0].float(), dim=1).T
            )
            hits = similarity.argmax(dim=1) == torch.arange(
                len(anchor), device=anchor.device
            )
        self._record("positive_accuracy", hits.float().mean(), training)
        return torch.stack(losses).mean()

    def get_loss(
        self, y_pred: Any, y_true: Any, X: Any = None, training: bool = False
    ) -> torch.Tensor:
        return self.criterion_(y_pred, y_true)
