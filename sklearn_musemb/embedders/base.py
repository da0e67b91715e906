"""The estimator base every embedder shares: a skorch ``NeuralNet`` that transforms.

skorch has no transformer class (skorch issue #482); :class:`NetEmbedder` is
``NeuralNet`` + :class:`sklearn.base.TransformerMixin`, and :class:`UnitEmbedder`
specialises it to note units (the piano-roll embedders of
:mod:`sklearn_musemb.embedders.piano_roll` specialise it to beat units):

- ``fit(X, y=None)`` trains on units (``y`` is ignored: the methods are
  self-supervised) and returns ``self``;
- ``transform(X)`` runs the encoder only and returns float32 ``(n, embedding_dim)``;
- the units live on the training device as compact integers and every batch is
  encoded there (:mod:`sklearn_musemb.encodings`), batches being index tensors drawn
  on the device, so nothing loops over units or notes in Python;
- ``device="auto"`` picks CUDA when present; ``random_state`` makes two fits on CPU
  give identical embeddings; pickles of GPU-trained models load on CPU-only machines.

Subclasses say how input is checked and densified (:meth:`NetEmbedder._validate_units`,
:meth:`NetEmbedder._batch_encoder`, :meth:`NetEmbedder._module_kwargs`), what skorch
iterates over (:meth:`NetEmbedder._training_data`: index arrays, e.g. of adjacent
pairs) and what the loss of one batch is (:meth:`NetEmbedder._batch_loss`); figures
other than the loss that a batch records (:meth:`NetEmbedder._record`) and that are
named in ``_batch_metrics`` reach skorch's history per epoch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

import numpy as np
import torch
from scipy.sparse import issparse
from sklearn.base import ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils import InputTags, Tags, TargetTags, TransformerTags
from sklearn.utils._available_if import available_if
from sklearn.utils.validation import check_is_fitted, check_non_negative, validate_data
from skorch import NeuralNet
from skorch.callbacks import PassthroughScoring
from skorch.dataset import Dataset
from torch.utils.data import Subset

from ..encodings import (
    REPRESENTATIONS,
    continuous,
    event_dim,
    group_chords,
    relative,
    two_hot,
)
from ..units.container import Units
from ..units.performance import (
    PerformanceModel,
    extended_windows,
    notes_after_needed,
    perform_unit_events,
    successor_rows,
)
from ..utils.distributed import DataParallel
from ..utils.skorch_utils import AutoDeviceNetMixin
from ..utils.torch_utils import autocast, check_precision, seed_from
from ..utils.validation import check_finite_number, check_positive_int

MAX_PITCH = 127
#: Rows of embeddings gathered on the device before one copy to the host.
_HOST_BLOCK_ROWS = 1 << 16
#: Event rows per block when the continuous encoding's statistics are computed.
_STATS_BLOCK_ROWS = 1 << 20


def _never(_: Any) -> bool:
    return False


class IndexBatches:
    """Iterate over a dataset of index arrays in batches of device tensors.

    Replaces skorch's ``DataLoader`` for the embedders: the dataset holds only row
    indices (of adjacent pairs, say), so a batch is a slice of a permutation drawn
    on the device, with no per-item Python call.

    Parameters
    ----------
    dataset : skorch.dataset.Dataset or torch.utils.data.Subset of one
        Holds ``X`` (and optionally ``y``) as 1-d integer arrays.
    batch_size : int
        Rows per batch.
    shuffle : bool
        Draw a new permutation for every pass.
    device : str
        Where the index tensors live.
    generator : torch.Generator or None
        Source of the permutations (must live on ``device``).
    min_size : int, default=1
        A last batch smaller than this joins the one before it (networks with
        batch norm cannot train on a batch of one unit).
    parallel : DataParallel or None, default=None
        In data-parallel training, every process draws the same permutation and
        keeps its share of each batch (``min_size`` then applies to the share).
    """

    def __init__(
        self,
        dataset: Dataset | Subset,
        batch_size: int,
        shuffle: bool,
        device: str,
        generator: torch.Generator | None = None,
        min_size: int = 1,
        parallel: DataParallel | None = None,
    ) -> None:
        X, y = self._arrays(dataset)
        self.parallel = parallel or DataParallel(None)
        self.X = torch.as_tensor(X, device=device)
        self.y = None if y is None else torch.as_tensor(y, device=device)
        self.batch_size = int(batch_size) if batch_size not in (None, -1) else len(X)
        self.shuffle = shuffle
        self.generator = generator
        n = len(self.X)
        bounds = [*range(0, n, self.batch_size), n] if n else [0]
        if self.parallel.active and n < self.parallel.world_size * min_size:
            raise ValueError(
                f"{n} training items cannot be shared by {self.parallel.world_size} "
                f"processes (each needs at least {min_size})"
            )
        if len(bounds) > 2 and bounds[-1] - bounds[-2] < min_size * (
            self.parallel.world_size
        ):
            del bounds[-2]
        self._bounds = bounds

    @staticmethod
    def _arrays(dataset: Dataset | Subset) -> tuple[np.ndarray, np.ndarray | None]:
        if isinstance(dataset, Subset):
            X, y = IndexBatches._arrays(dataset.dataset)
            idx = np.asarray(dataset.indices)
            return X[idx], None if y is None else y[idx]
        y = dataset.y
        return np.asarray(dataset.X), None if y is None else np.asarray(y)

    def __len__(self) -> int:
        return len(self._bounds) - 1

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor | None]]:
        n = len(self.X)
        if self.shuffle:
            order = torch.randperm(n, generator=self.generator, device=self.X.device)
        else:
            order = torch.arange(n, device=self.X.device)
        for start, stop in zip(self._bounds[:-1], self._bounds[1:], strict=True):
            rows = self.parallel.shard(order[start:stop])
            yield self.X[rows], None if self.y is None else self.y[rows]


class NetEmbedder(
    ClassNamePrefixFeaturesOutMixin, TransformerMixin, AutoDeviceNetMixin, NeuralNet
):
    """Base class of every embedder: skorch ``NeuralNet`` + transformer.

    Not used directly; see :class:`UnitEmbedder` (note units) and
    :class:`~sklearn_musemb.embedders.piano_roll.RollEmbedder` (beat units).

    Parameters
    ----------
    module : type of torch.nn.Module
        The network; it receives ``_module_kwargs()`` plus every ``module__*``
        parameter.
    criterion : type of torch.nn.Module
        The training loss.
    embedding_dim : int, default=32
        Size of the embedding.
    optimizer : type of torch.optim.Optimizer, default=torch.optim.Adam
    lr : float, default=1e-3
    max_epochs : int, default=10
    batch_size : int, default=256
    train_split : callable or None, default=None
        skorch's validation split, applied to the training items (pairs or
        units, not pieces, are split: validation scores are optimistic).
    callbacks : list or None, default=None
        skorch callbacks, e.g. ``[skorch.callbacks.ProgressBar()]``.
    verbose : int, default=0
        1 prints skorch's per-epoch table.
    device : str, default="auto"
        ``"auto"`` trains on CUDA when available, else CPU. The device used is
        stored in ``device_``.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, batch order and negative sampling; with an int,
        two fits on CPU give identical embeddings. ``partial_fit`` (and ``fit``
        with ``warm_start=True``) continues the random streams of the call before.
    precision : {"fp32", "bf16"}, default="fp32"
        Arithmetic of the forward passes in ``fit`` and ``transform``: float32,
        or bfloat16 autocast (faster on GPUs with bfloat16 units; weights,
        optimizer state and embeddings stay float32). See
        ``benchmarks/results/speed.md`` for what it buys on each device.
    accelerator : accelerate.Accelerator or None, default=None
        Data-parallel training over the processes of ``accelerate launch`` (one
        or many GPUs, one or many machines, or CPU processes): each process
        trains on its share of every batch, on the accelerator's device, and
        gradients are averaged after every backward pass, so ``batch_size`` is
        the global batch. ``device`` is then ignored. Every process ends with the
        same model; pickles are made without the accelerator, so they load and
        transform in a single process. See ``docs/scale.md``.
    **kwargs
        Further skorch parameters, e.g. ``module__hidden_dim=128`` or
        ``optimizer__weight_decay=1e-5``.
    """

    _abstract = True
    #: Per-batch figures recorded with :meth:`_record`, averaged per epoch into
    #: ``history_`` as ``train_<name>`` (and ``valid_<name>`` with a train_split).
    _batch_metrics: tuple[str, ...] = ()
    #: Constructor arguments of ``module`` that ``module__*`` parameters override.
    _module_defaults: dict[str, Any] = {}
    #: Smallest training batch: a smaller last batch joins the one before it.
    _min_batch_size = 1

    def __init__(
        self,
        module: type[torch.nn.Module],
        criterion: type[torch.nn.Module],
        *,
        embedding_dim: int = 32,
        optimizer: type[torch.optim.Optimizer] = torch.optim.Adam,
        lr: float = 1e-3,
        max_epochs: int = 10,
        batch_size: int = 256,
        train_split: Any = None,
        callbacks: Any = None,
        verbose: int = 0,
        device: str = "auto",
        random_state: Any = None,
        precision: str = "fp32",
        accelerator: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            module,
            criterion,
            optimizer=optimizer,
            lr=lr,
            max_epochs=max_epochs,
            batch_size=batch_size,
            train_split=train_split,
            callbacks=callbacks,
            verbose=verbose,
            device=device,
            **kwargs,
        )
        self.embedding_dim = embedding_dim
        self.random_state = random_state
        self.precision = precision
        self.accelerator = accelerator

    # -- sklearn protocol ------------------------------------------------------------
    def __sklearn_tags__(self) -> Tags:
        return Tags(
            estimator_type="transformer",
            target_tags=TargetTags(required=False),
            transformer_tags=TransformerTags(preserves_dtype=["float32"]),
            input_tags=InputTags(two_d_array=True, positive_only=True),
        )

    @property
    def _n_features_out(self) -> int:
        """Output width, for ``get_feature_names_out``."""
        return self.embedding_dim

    def __sklearn_is_fitted__(self) -> bool:
        return bool(getattr(self, "initialized_", False)) and hasattr(
            self, "n_features_in_"
        )

    # NeuralNet's predict/predict_proba make no sense for an embedder; hide them so
    # that sklearn (and hasattr) sees a pure transformer.
    predict = available_if(_never)(NeuralNet.predict)
    predict_proba = available_if(_never)(NeuralNet.predict_proba)

    # -- validation and encoding ----------------------------------------------------
    def _check_params(self) -> None:
        name = type(self).__name__
        check_positive_int(self.embedding_dim, "embedding_dim", name)
        check_precision(self.precision, name)
        # skorch takes these as given; a bad one would fail deep in its loop
        if self.batch_size not in (None, -1):
            check_positive_int(self.batch_size, "batch_size", name)
        if self.max_epochs != 0:
            check_positive_int(self.max_epochs, "max_epochs", name)
        check_finite_number(self.lr, "lr", name)  # 0 freezes: a legitimate probe

    def _autocast(self) -> Any:
        """The forward-pass context of ``precision`` on the current device."""
        return autocast(self.device, self.precision)

    # -- data-parallel training -------------------------------------------------------
    @property
    def _parallel(self) -> DataParallel:
        return DataParallel(self.accelerator)

    def _requested_device(self) -> str:
        return self._parallel.device or self.device

    def _fit_seed(self, device: str) -> int | None:
        seed = super()._fit_seed(device)
        parallel = self._parallel
        if not parallel.active:
            return seed
        # every process must draw the same batches and initial weights
        return parallel.shared_seed(seed_from(None) if seed is None else seed, device)

    def _average_gradients(self, module: torch.nn.Module) -> None:
        """Average ``module``'s gradients over the processes (no-op in one)."""
        self._parallel.average_gradients(module)

    def on_epoch_end(self, net: Any, **kwargs: Any) -> None:
        parallel = self._parallel
        for name in self._modules:
            parallel.average_buffers(getattr(self, name + "_"))

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        # a pickle is a single-process model: the accelerator (process group,
        # device handles) belongs to the run that trained it
        state["accelerator"] = None
        return state

    def _validate_units(self, X: Any, *, reset: bool) -> Units:
        """Return ``X`` as checked :class:`Units`, recording the input shape on fit."""
        raise NotImplementedError

    def _fit_encoding(self, units: Units) -> None:
        """Learn what the dense encoding needs from the training units (if any)."""

    def _batch_encoder(self, device: str) -> Callable[[torch.Tensor], torch.Tensor]:
        """The dense encoding of a batch of compact events on ``device``."""
        raise NotImplementedError

    def _module_kwargs(self) -> dict[str, Any]:
        """Constructor arguments of ``module`` that come from the data."""
        raise NotImplementedError

    def _encode_rows(self, rows: torch.Tensor) -> torch.Tensor:
        """Encode rows of the units held on the device during ``fit``."""
        return self._encode_batch(self._events_on_device[rows])

    # -- skorch hooks ----------------------------------------------------------------
    def initialize_module(self) -> NetEmbedder:
        if not hasattr(self, "n_features_in_"):
            raise RuntimeError(
                f"{type(self).__name__} builds its network from the data: call fit "
                "instead of initialize"
            )
        kwargs = {
            **self._module_kwargs(),
            **self._module_defaults,
            **self.get_params_for("module"),
        }
        self.module_ = self.initialized_instance(self.module, kwargs)
        return self

    def get_iterator(self, dataset: Dataset | Subset, training: bool = False):
        return IndexBatches(
            dataset,
            batch_size=self.batch_size,
            shuffle=training,
            device=self.device,
            generator=self._torch_rng if training else None,
            min_size=self._min_batch_size if training else 1,
            parallel=self._parallel if training else None,
        )

    @property
    def _default_callbacks(self) -> list[tuple[str, Any]]:
        callbacks = list(super()._default_callbacks)
        # before print_log, so the epoch table shows them
        callbacks[-1:-1] = [
            (
                f"{prefix}_{name}",
                PassthroughScoring(
                    name=f"{prefix}_{name}",
                    lower_is_better=not name.endswith("accuracy"),
                    on_train=prefix == "train",
                ),
            )
            for name in self._batch_metrics
            for prefix in ("train", "valid")
        ]
        return callbacks

    def _record(self, name: str, value: torch.Tensor, training: bool) -> None:
        """Keep a per-batch figure named in ``_batch_metrics`` for the history.

        The figure stays on the device until the batch ends: :meth:`on_batch_end`
        copies all of a batch's figures to the host at once, one device sync per
        batch rather than one per figure.
        """
        prefix = "train" if training else "valid"
        self._batch_figures[f"{prefix}_{name}"] = value.detach()

    def on_batch_end(self, net: Any, **kwargs: Any) -> None:
        figures = self._batch_figures
        if figures:
            values = torch.stack([v.float() for v in figures.values()]).tolist()
            for name, value in zip(figures, values, strict=True):
                self.history.record_batch(name, value)
            figures.clear()

    def _batch_loss(self, batch: Any, training: bool) -> torch.Tensor:
        """Loss of one batch of index tensors (what :meth:`_training_data` holds)."""
        raise NotImplementedError

    def train_step_single(self, batch: Any, **fit_params: Any) -> dict[str, Any]:
        self._set_training(True)
        with self._autocast():
            loss = self._batch_loss(batch, training=True)
        loss.backward()
        self._average_gradients(self.module_)
        return {"loss": loss, "y_pred": None}

    def validation_step(self, batch: Any, **fit_params: Any) -> dict[str, Any]:
        self._set_training(False)
        with torch.no_grad(), self._autocast():
            loss = self._batch_loss(batch, training=False)
        return {"loss": loss, "y_pred": None}

    # -- fitting -----------------------------------------------------------------------
    def _training_data(
        self, units: Units, y: Any = None
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Index arrays skorch iterates over in batches (X and y of its Dataset).

        ``y`` is what the caller passed to ``fit``: ignored by the self-supervised
        methods, the labels of the supervised ones.
        """
        raise NotImplementedError

    def fit(self, X: Any, y: Any = None, **fit_params: Any) -> NetEmbedder:
        """Train the embedding on units ``X``.

        A fit starts from newly initialised weights and runs ``max_epochs``
        epochs; with ``warm_start=True`` a fitted embedder trains on instead, as
        in :meth:`partial_fit`. With a
        :class:`~sklearn_musemb.callbacks.TrainingCheckpoint` whose directory
        holds a checkpoint, a fit that starts afresh resumes that checkpoint and
        runs only the epochs it has left (``docs/training.md``).

        Parameters
        ----------
        X : Units or array-like
            Training units (see the class docstring for the arrays it takes).
        y : None or array-like of shape (n_units,)
            Ignored by the self-supervised methods (accepted so the embedder
            works in a :class:`~sklearn.pipeline.Pipeline` with a classifier);
            the labels of the supervised ones.
        **fit_params : dict
            Passed on to skorch.

        Returns
        -------
        self : object
            The fitted embedder.
        """
        return self._fit(X, y, warm=self.warm_start, **fit_params)

    def partial_fit(
        self, X: Any, y: Any = None, classes: Any = None, **fit_params: Any
    ) -> NetEmbedder:
        """Continue training on ``X`` for ``max_epochs`` more epochs.

        An unfitted embedder is initialised first (as by :meth:`fit`). A fitted
        one trains on from its weights, optimizer state and ``history_``; the
        input width and encoding statistics stay those of the first fit. With an
        int ``random_state`` the random streams (batch order, sampling, dropout)
        continue where the previous call left them, so on the same data and
        device ``k`` calls with ``max_epochs=1`` give the model of one ``fit``
        with ``max_epochs=k``.

        Parameters and return value as in :meth:`fit`.
        """
        return self._fit(X, y, warm=True, **fit_params)

    def _fit(self, X: Any, y: Any, *, warm: bool, **fit_params: Any) -> NetEmbedder:
        self._check_params()
        first_fit = not (warm and self.__sklearn_is_fitted__())
        units = self._validate_units(X, reset=first_fit)
        with self._seeded_fit(warm=not first_fit) as device:
            if first_fit:
                self._fit_encoding(units)
            train_X, train_y = self._training_data(units, y)
            self._events_on_device = torch.as_tensor(units.events, device=device)
            self._encode_batch = self._batch_encoder(device)
            self._batch_figures: dict[str, torch.Tensor] = {}
            extra = self._fit_state(units, device)
            vars(self).update(extra)
            try:
                if first_fit:
                    self.initialize()
                NeuralNet.partial_fit(self, train_X, train_y, **fit_params)
            finally:
                del self._events_on_device, self._encode_batch, self._batch_figures
                for name in extra:
                    delattr(self, name)
        return self

    def _fit_state(self, units: Units, device: str) -> dict[str, Any]:
        """Private attributes a subclass needs while it fits (removed after)."""
        return {}

    # -- embedding ---------------------------------------------------------------------
    def _encoder(self) -> torch.nn.Module:
        """The embedding network: ``module_.encoder``, or ``module_`` itself."""
        return getattr(self.module_, "encoder", self.module_)

    def _embed(self, encoded: torch.Tensor) -> torch.Tensor:
        """Embedding of an encoded batch: ``module_.embed``, or the encoder's output."""
        embed = getattr(self.module_, "embed", None)
        return embed(encoded) if embed is not None else self._encoder()(encoded)

    def transform(self, X: Any) -> np.ndarray:
        """Embed units with the trained encoder.

        Parameters
        ----------
        X : Units or array-like
            Units shaped like the training units (see the class docstring).

        Returns
        -------
        ndarray of float32, shape (n_units, embedding_dim)
        """
        check_is_fitted(self)
        check_precision(self.precision, type(self).__name__)
        units = self._validate_units(X, reset=False)
        out = np.empty((len(units), self.embedding_dim), dtype=np.float32)
        batch = self.batch_size if self.batch_size not in (None, -1) else len(units)
        with self._on_resolved_device() as device, torch.inference_mode():
            self._set_training(False)
            events = torch.as_tensor(units.events, device=device)
            encode = self._batch_encoder(device)
            # Embeddings wait on the device and reach the host in large blocks:
            # one copy (and one device sync) per block, not per batch.
            pending, first = [], 0
            for start in range(0, len(units), batch):
                with self._autocast():
                    emb = self._embed(encode(events[start : start + batch]))
                pending.append(emb.float())
                stop = min(start + batch, len(units))
                if stop - first >= _HOST_BLOCK_ROWS or stop == len(units):
                    out[first:stop] = torch.cat(pending).cpu().numpy()
                    pending, first = [], stop
        return out


class UnitEmbedder(NetEmbedder):
    """Base class of the embedders of note units: skorch ``NeuralNet`` + transformer.

    Not used directly; see :class:`sklearn_musemb.embedders.AdjDEmbedder`.

    Input ``X`` is a :class:`~sklearn_musemb.units.Units` of kind ``"notes"``
    (adjacency comes from its piece and position columns), or an array of shape
    ``(n_units, n_events, 2)`` or ``(n_units, 2 * n_events)`` holding
    ``(pitch, inter-onset ms)`` pairs (flat arrays interleave them: pitch of event 0,
    interval of event 0, pitch of event 1...). A plain array carries no piece
    information, so it is taken as one piece in row order: row ``i + 1`` follows
    row ``i``. Array values are rounded to integers; pitches must lie in 0..127 and
    intervals be non-negative.

    Parameters
    ----------
    module : type of torch.nn.Module
        The network; it receives ``event_dim``, ``n_events`` and ``embedding_dim``
        plus every ``module__*`` parameter.
    criterion : type of torch.nn.Module
        The training loss.
    representation : {"two_hot", "continuous", "relative"}, default="two_hot"
        Input encoding: the papers' 272-wide two-hot events or standardised
        ``(pitch, interval)`` pairs (Bretan & Heck 2019, 4.2), or the tempo-free
        :func:`~sklearn_musemb.encodings.relative` encoding (pitch bins,
        intervals relative to the unit's median in smeared log bins, a chord
        flag).
    chord_ms : float, default=0.0
        Notes closer than this (ms) are one chord, in pitch order
        (:func:`~sklearn_musemb.encodings.group_chords`), before any encoding;
        0 keeps the events exactly as cut (the papers).
    augment : PerformanceModel or None, default=None
        Training augmentation: every training batch is played through this
        :class:`~sklearn_musemb.units.PerformanceModel` on the device (each
        unit together with the notes after it, so deletions pull in the next
        notes); ``transform`` never augments.
    **kwargs
        Every other parameter of :class:`NetEmbedder` (``embedding_dim``,
        ``lr``, ``max_epochs``, ``batch_size``, ``device``, ``random_state``...)
        and of skorch (``module__hidden_dim=128``, ``optimizer__weight_decay``...).
    """

    _abstract = True
    _unit_kind = "notes"

    def __init__(
        self,
        module: type[torch.nn.Module],
        criterion: type[torch.nn.Module],
        *,
        representation: str = "two_hot",
        chord_ms: float = 0.0,
        augment: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(module, criterion, **kwargs)
        self.representation = representation
        self.chord_ms = chord_ms
        self.augment = augment

    def __sklearn_tags__(self) -> Tags:
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        return tags

    def set_params(self, **params: Any) -> UnitEmbedder:
        """Set parameters; ``augment__<name>`` sets one of ``augment``'s.

        Parameters
        ----------
        **params : dict
            Estimator parameters, skorch's prefixed ones, and ``augment__*``
            (so a grid search can vary one strength of the performance model).

        Returns
        -------
        self : object
        """
        prefix = "augment__"
        nested = {k[len(prefix) :]: params.pop(k) for k in list(params)
                  if k.startswith(prefix)}  # fmt: skip
        if "augment" in params:
            super().set_params(augment=params.pop("augment"))
        if nested:
            if not isinstance(self.augment, PerformanceModel):
                raise ValueError(
                    f"{type(self).__name__}: augment__ parameters need augment to be "
                    f"a PerformanceModel, got augment={self.augment!r}"
                )
            self.augment.set_params(**nested)
        return super().set_params(**params) if params else self

    # -- validation --------------------------------------------------------------------
    def _check_params(self) -> None:
        super()._check_params()
        if self.representation not in REPRESENTATIONS:
            raise ValueError(
                f"{type(self).__name__}: representation must be one of "
                f"{REPRESENTATIONS}, got {self.representation!r}"
            )
        check_finite_number(self.chord_ms, "chord_ms", type(self).__name__)
        self._augmentation()

    def _augmentation(self) -> PerformanceModel | None:
        """The checked training augmentation (``augment``), or None."""
        augment = self.augment
        if augment is None:
            return None
        if not isinstance(augment, PerformanceModel):
            raise ValueError(
                f"{type(self).__name__}: augment must be a PerformanceModel or "
                f"None, got {augment!r}"
            )
        augment.strengths()  # names a strength out of range
        return augment

    def _validate_units(self, X: Any, *, reset: bool) -> Units:
        """Return ``X`` as checked :class:`Units`, recording the input width on fit."""
        name = type(self).__name__
        if isinstance(X, Units):
            if X.kind != self._unit_kind:
                raise ValueError(
                    f"{name} needs units of kind {self._unit_kind!r}, got {X.kind!r}"
                )
            if len(X) == 0:
                raise ValueError(f"{name}: found 0 units (n_samples=0)")
            units = X
            n_features = 2 * X.events.shape[1]
            if reset:
                self.n_features_in_ = n_features
                if hasattr(self, "feature_names_in_"):
                    del self.feature_names_in_
            elif n_features != self.n_features_in_:
                raise ValueError(
                    f"X has {n_features} features ({n_features // 2} events per "
                    f"unit), but {name} is expecting {self.n_features_in_} features "
                    f"as input ({self.n_features_in_ // 2} events per unit)."
                )
        else:
            if not (hasattr(X, "iloc") or issparse(X)):
                X = np.asarray(X)  # lists and other array-likes
            if X.ndim == 3:
                if X.shape[-1] != 2:
                    raise ValueError(
                        f"{name}: a 3-d X must have shape (n_units, n_events, 2), "
                        f"got {X.shape}"
                    )
                X = X.reshape(X.shape[0], -1)
            X = validate_data(self, X, reset=reset, dtype=np.float64)
            if X.shape[1] % 2:
                raise ValueError(
                    f"X has {X.shape[1]} feature(s), but {name} needs an even number "
                    "of columns: (pitch, inter-onset ms) pairs"
                )
            check_non_negative(X, f"{name} (pitches and inter-onset intervals)")
            # float -> int32 cannot overflow silently: values above 127 are refused
            # by _check_unit_values, and int32 holds any realistic interval in ms.
            events = np.rint(np.minimum(X, np.iinfo(np.int32).max))
            units = Units(events.reshape(X.shape[0], -1, 2).astype(np.int32))
        self._check_unit_values(units, name)
        if reset:
            self.n_events_in_ = units.events.shape[1]
        return units

    @staticmethod
    def _check_unit_values(units: Units, name: str) -> None:
        pitch, ioi = units.events[..., 0], units.events[..., 1]
        if pitch.min() < 0 or pitch.max() > MAX_PITCH:
            raise ValueError(
                f"{name}: unit pitches must lie in 0..{MAX_PITCH}, found "
                f"{pitch.min()}..{pitch.max()}"
            )
        if ioi.min() < 0:
            raise ValueError(
                f"{name}: inter-onset intervals must be non-negative, found {ioi.min()}"
            )

    # -- encoding on the device ------------------------------------------------------
    def _fit_encoding(self, units: Units) -> None:
        # The mean accumulates in float64 without a float64 copy of the events;
        # the squared deviations go block by block, as ``events.std`` would hold
        # a float64 temporary of all events (2.6 GB for 4 M units).
        events = units.events.reshape(-1, 2)
        self.event_mean_ = events.mean(axis=0, dtype=np.float64)
        blocks = range(0, len(events), _STATS_BLOCK_ROWS)
        squares = sum(
            np.square(events[i : i + _STATS_BLOCK_ROWS] - self.event_mean_).sum(axis=0)
            for i in blocks
        )
        scale = np.sqrt(squares / len(events))
        self.event_scale_ = np.where(scale > 0, scale, 1.0)

    def _batch_encoder(self, device: str) -> Callable[[torch.Tensor], torch.Tensor]:
        """The dense encoding of a batch of compact events on ``device``.

        The continuous encoding's statistics are copied to the device here, once
        per ``fit`` or ``transform``, not once per batch.
        """
        if self.representation == "two_hot":
            encode = two_hot
        elif self.representation == "relative":
            encode = relative
        else:
            mean, scale = (
                torch.as_tensor(stat, dtype=torch.float32, device=device)
                for stat in (self.event_mean_, self.event_scale_)
            )
            encode = partial(continuous, mean=mean, scale=scale)
        chord_ms = float(self.chord_ms)
        if chord_ms <= 0:
            return encode
        return lambda events: encode(group_chords(events, chord_ms))

    # -- augmentation on the device --------------------------------------------------
    def _fit_state(self, units: Units, device: str) -> dict[str, Any]:
        model = self._augmentation()
        if model is None or model.is_identity():
            return {}
        n_notes = units.events.shape[1]
        return {
            "_strengths": model.strengths(),
            "_hop": int(units.meta.get("hop", n_notes)),
            "_notes_after": notes_after_needed(n_notes, model.deletion_rate),
            # performed windows list chords the way the units were cut
            "_cut_chord_ms": float(units.meta.get("chord_ms", 0.0) or self.chord_ms),
            "_successor_on_device": torch.as_tensor(
                successor_rows(units), device=device
            ),
        }

    def _performed_rows(self, rows: torch.Tensor) -> torch.Tensor:
        """Events of ``rows`` played through ``augment`` (unplayable rows as cut)."""
        events = self._events_on_device
        windows, final_zero, n_real = extended_windows(
            events, rows, self._successor_on_device, self._hop, self._notes_after
        )
        performed, ok = perform_unit_events(
            windows,
            events.shape[1],
            self._strengths,
            generator=self._torch_rng,
            final_zero=final_zero,
            chord_ms=self._cut_chord_ms,
            n_real=n_real,
        )
        return torch.where(ok[:, None, None], performed, events[rows].to(torch.int32))

    def _encode_rows(self, rows: torch.Tensor) -> torch.Tensor:
        """Encode rows of the training units; performed ones while training."""
        if self.module_.training and hasattr(self, "_successor_on_device"):
            return self._encode_batch(self._performed_rows(rows))
        return self._encode_batch(self._events_on_device[rows])

    def _module_kwargs(self) -> dict[str, Any]:
        return {
            "event_dim": event_dim(self.representation),
            "n_events": self.n_events_in_,
            "embedding_dim": self.embedding_dim,
        }
