"""The piano-roll embedders of Bretan et al. (2017): four classes, seven models.

Every model embeds a 4-beat unit (a 60 x 96 onset piano roll, built per batch on
the device from the compact ``(pitch, tick)`` onsets of
:func:`~sklearn_musemb.units.segment_beats`) with the same convolutional encoder
(:class:`~sklearn_musemb.nn.piano_roll.RollNet`); they differ in what the network
is asked to produce:

==========================  ==========================================  =========
model (paper, section 4)    class and parameter                          needs y
==========================  ==========================================  =========
DAE, note / beat drop,      :class:`DenoisingRollEmbedder`,              no
octave split                ``corruption=``
next-unit prediction        :class:`ContextRollEmbedder`,                no
                            ``target="next"``
context prediction          :class:`ContextRollEmbedder`,                no
                            ``target="context"``
composer classification     :class:`ComposerRollEmbedder`                composers
regularized                 :class:`RegularizedRollEmbedder`             composers
==========================  ==========================================  =========

The decoders reuse the encoder's weights, transposed (``W' = W^T``), and the
reconstruction loss is the paper's softmax over cosine similarities (Eq. 1-3):
the target roll must be more similar to its own reconstruction than to the
reconstructions of ``n_negatives`` random training units.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from scipy.sparse import issparse
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import Tags
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_non_negative, column_or_1d, validate_data
from skorch.dataset import unpack_data

from ..encodings import piano_roll
from ..encodings.corruption import CORRUPTIONS
from ..nn.piano_roll import RollNet
from ..units.container import PAD, Units
from ..units.segment import BEAT_PITCH_RANGE, BEAT_UNIT_TICKS, unit_content_ids
from ..utils.validation import check_finite_number, check_positive_int
from .base import NetEmbedder

#: What ``target=`` of :class:`ContextRollEmbedder` reconstructs.
CONTEXT_TARGETS = ("context", "next")


def rolls_to_units(rolls: np.ndarray, pitch_low: int = 0) -> Units:
    """Compact beat units of dense piano rolls: every cell above 0 is an onset.

    Parameters
    ----------
    rolls : ndarray of shape (n_units, n_pitches, n_ticks)
    pitch_low : int, default=0
        Pitch of row 0.

    Returns
    -------
    Units
        ``kind="beats"``, one piece in row order, ``meta["pitch_range"]`` and
        ``meta["n_ticks"]`` describing the rolls.

    Examples
    --------
    >>> import numpy as np
    >>> rolls = np.zeros((2, 60, 96)); rolls[0, 24, 0] = rolls[1, 28, 48] = 1
    >>> rolls_to_units(rolls, pitch_low=36).events.tolist()
    [[[60, 0]], [[64, 48]]]
    """
    n, n_pitches, n_ticks = rolls.shape
    unit, row, tick = np.nonzero(rolls > 0)  # row-major: grouped by unit
    counts = np.bincount(unit, minlength=n)
    width = max(int(counts.max(initial=0)), 1)
    slot = np.arange(len(unit)) - np.repeat(np.cumsum(counts) - counts, counts)
    events = np.full((n, width, 2), PAD, dtype=np.int16)
    events[unit, slot, 0] = row + pitch_low
    events[unit, slot, 1] = tick
    return Units(
        events,
        n_events=counts,
        kind="beats",
        meta={
            "pitch_range": (pitch_low, pitch_low + n_pitches),
            "n_ticks": n_ticks,
        },
    )


def _roll_shape(units: Units) -> tuple[tuple[int, int], int]:
    """``pitch_range`` and ticks per unit of beat units (from their ``meta``)."""
    meta = units.meta
    pitch_range = tuple(meta.get("pitch_range", BEAT_PITCH_RANGE))
    if "n_ticks" in meta:
        n_ticks = int(meta["n_ticks"])
    elif "beats" in meta:
        n_ticks = int(meta["beats"]) * int(meta["ticks_per_beat"])
    else:
        n_ticks = BEAT_UNIT_TICKS
    return pitch_range, n_ticks


class RollEmbedder(NetEmbedder):
    """Base class of the piano-roll embedders (Bretan et al. 2017).

    Input ``X`` is :class:`~sklearn_musemb.units.Units` of kind ``"beats"``
    (:func:`~sklearn_musemb.units.segment_beats`; adjacency comes from their piece,
    variant and position columns), or dense piano rolls: an array of shape
    ``(n_units, n_pitches, n_ticks)``, or ``(n_units, 5760)`` for the paper's
    flattened 60 x 96 rolls. In arrays every cell above 0 is an onset, and a plain
    array is one piece in row order. Rolls are built per batch on the device from
    the compact onsets, so the training set costs the memory of its onsets, not of
    its rolls.

    Training items are index tuples of units (``_item_rows``): the first
    unit is the network's input, the others (summed) its reconstruction target.
    With ``drop_duplicates`` (the paper removed duplicate units, 4.68 M -> 4.00 M),
    items whose units have equal contents (and equal labels, when supervised)
    are kept once; ``n_items_`` and ``n_duplicate_items_`` count them.

    The reconstruction loss (Eq. 1-3) is a softmax over the cosine similarities of
    the flattened target roll to its reconstruction and to ``n_negatives``
    reconstructions of random training units: the reconstructions of other units
    of the same batch (a batch is a random sample of training units), so no
    extra forward pass is spent on the negatives.

    Not used directly; see :class:`DenoisingRollEmbedder`,
    :class:`ContextRollEmbedder`, :class:`ComposerRollEmbedder` and
    :class:`RegularizedRollEmbedder`.
    """

    _abstract = True
    _unit_kind = "beats"
    # batch norm needs two units per batch; and a negative needs another unit
    _min_batch_size = 2
    _batch_metrics = ("reconstruction_accuracy",)
    #: Whether ``fit`` needs composer labels.
    _supervised = False

    def __init__(
        self,
        module: type[torch.nn.Module],
        criterion: type[torch.nn.Module],
        *,
        n_negatives: int = 4,
        similarity_scale: float = 1.0,
        drop_duplicates: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(module, criterion, **kwargs)
        self.n_negatives = n_negatives
        self.similarity_scale = similarity_scale
        self.drop_duplicates = drop_duplicates

    # -- sklearn protocol ------------------------------------------------------------
    def __sklearn_tags__(self) -> Tags:
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.target_tags.required = self._supervised
        return tags

    # -- validation --------------------------------------------------------------------
    def _check_params(self) -> None:
        super()._check_params()
        name = type(self).__name__
        check_positive_int(self.n_negatives, "n_negatives", name)
        if self.batch_size not in (None, -1) and (
            check_positive_int(self.batch_size, "batch_size", name) < 2
        ):
            raise ValueError(
                f"{name}: batch_size must be at least 2 (batch norm and in-batch "
                f"negatives need two units per batch), got {self.batch_size}"
            )
        check_finite_number(
            self.similarity_scale, "similarity_scale", name, strict=True
        )
        if not isinstance(self.drop_duplicates, bool | np.bool_):
            raise ValueError(
                f"{name}: drop_duplicates must be True or False, got "
                f"{self.drop_duplicates!r}"
            )

    def _validate_units(self, X: Any, *, reset: bool) -> Units:
        name = type(self).__name__
        if isinstance(X, Units):
            if X.kind != self._unit_kind:
                raise ValueError(
                    f"{name} needs units of kind 'beats' (segment_beats), got "
                    f"{X.kind!r}"
                )
            if len(X) == 0:
                raise ValueError(f"{name}: found 0 units (n_samples=0)")
            pitch_range, n_ticks = _roll_shape(X)
            units = X
            if reset and hasattr(self, "feature_names_in_"):
                del self.feature_names_in_
        else:
            units = self._rolls_as_units(X, reset=reset)
            pitch_range, n_ticks = _roll_shape(units)
        shape = (pitch_range[1] - pitch_range[0], n_ticks)
        if shape[0] % 12:
            # out-of-range pitches are folded in by octaves, so rows span octaves
            raise ValueError(
                f"{name}: piano rolls must span whole octaves (a multiple of 12 "
                f"pitches), got {shape[0]} pitches {pitch_range[0]}..{pitch_range[1]}"
            )
        if reset:
            # a fresh fit learns the classes again (see _labels)
            vars(self).pop("classes_", None)
            vars(self).pop("label_encoder_", None)
            self.pitch_range_, self.roll_shape_ = pitch_range, shape
            self.n_features_in_ = shape[0] * shape[1]
        elif shape != tuple(self.roll_shape_):
            raise ValueError(
                f"X holds {shape[0]} x {shape[1]} piano rolls, but {name} was "
                f"fitted on {self.roll_shape_[0]} x {self.roll_shape_[1]}"
            )
        elif pitch_range != tuple(self.pitch_range_):
            raise ValueError(
                f"X holds units of pitches {pitch_range[0]}..{pitch_range[1]}, but "
                f"{name} was fitted on {self.pitch_range_[0]}..{self.pitch_range_[1]}"
            )
        ticks = units.events[..., 1]
        if ticks.max(initial=0) >= n_ticks:
            raise ValueError(
                f"{name}: onset tick {int(ticks.max())} is outside units of "
                f"{n_ticks} ticks"
            )
        return units

    def _rolls_as_units(self, X: Any, *, reset: bool) -> Units:
        name = type(self).__name__
        if not (hasattr(X, "iloc") or issparse(X)):
            X = np.asarray(X)
        if X.ndim == 3:
            shape = X.shape[1:]
            X = X.reshape(X.shape[0], shape[0] * shape[1])
        elif reset or not hasattr(self, "roll_shape_"):
            shape = (BEAT_PITCH_RANGE[1] - BEAT_PITCH_RANGE[0], BEAT_UNIT_TICKS)
        else:
            shape = tuple(self.roll_shape_)
        X = validate_data(self, X, reset=reset, dtype=np.float32)
        if X.shape[1] != shape[0] * shape[1]:
            raise ValueError(
                f"{name}: a flat piano roll must have {shape[0]} x {shape[1]} = "
                f"{shape[0] * shape[1]} columns, got {X.shape[1]}; pass rolls of "
                "shape (n_units, n_pitches, n_ticks) or Units from segment_beats"
            )
        check_non_negative(X, f"{name} (piano roll)")
        # Row 0 is the lowest pitch of the fitted model (or the paper's MIDI 36),
        # so rolls and Units of the same music embed alike.
        low = self.pitch_range_[0] if not reset else BEAT_PITCH_RANGE[0]
        return rolls_to_units(X.reshape(len(X), *shape), pitch_low=low)

    def _labels(self, y: Any, n: int, *, reset: bool) -> np.ndarray | None:
        """Class indices of ``y`` for the supervised models, ``None`` otherwise."""
        if not self._supervised:
            return None
        name = type(self).__name__
        y = column_or_1d(y, warn=True)
        if len(y) != n:
            raise ValueError(f"{name}: X has {n} units but y has {len(y)} labels")
        check_classification_targets(y)
        if reset:
            self.label_encoder_ = LabelEncoder().fit(y)
            self.classes_ = self.label_encoder_.classes_
        unknown = ~np.isin(y, self.classes_)
        if unknown.any():
            raise ValueError(
                f"{name}: y has labels unseen in the first fit: "
                f"{np.unique(y[unknown]).tolist()}"
            )
        return self.label_encoder_.transform(y).astype(np.int64)

    def _fit(self, X: Any, y: Any, *, warm: bool, **fit_params: Any) -> RollEmbedder:
        # before X is looked at, so a missing y is the error a caller sees first
        if self._supervised and y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y "
                "is None: it learns from composer labels (e.g. units.labels)"
            )
        return super()._fit(X, y, warm=warm, **fit_params)

    # -- encoding on the device ------------------------------------------------------
    def _batch_encoder(self, device: str) -> Callable[[torch.Tensor], torch.Tensor]:
        # _validate_units checked every tick once, so no batch syncs to check again
        return partial(
            piano_roll,
            n_ticks=self.roll_shape_[1],
            pitch_range=self.pitch_range_,
            check_ticks=False,
        )

    def _module_kwargs(self) -> dict[str, Any]:
        return {
            "n_pitches": self.roll_shape_[0],
            "n_ticks": self.roll_shape_[1],
            "embedding_dim": self.embedding_dim,
            **self._head_kwargs(),
        }

    def _head_kwargs(self) -> dict[str, Any]:
        """What the model adds to the encoder: ``decoder``, ``n_classes``..."""
        return {"decoder": True, "n_classes": 0}

    # -- training items --------------------------------------------------------------
    def _item_rows(self, units: Units) -> np.ndarray:
        """Index tuples ``(input, target units...)``, shape ``(n_items, k)``."""
        return np.arange(len(units), dtype=np.int64)[:, None]

    def _training_data(
        self, units: Units, y: Any = None
    ) -> tuple[np.ndarray, np.ndarray | None]:
        labels = self._labels(y, len(units), reset=not hasattr(self, "classes_"))
        items = self._item_rows(units)
        n_all = len(items)
        if self.drop_duplicates and n_all:
            key = unit_content_ids(units)[items]
            if labels is not None:
                key = np.column_stack([key, labels[items[:, 0]]])
            _, first = np.unique(key, axis=0, return_index=True)
            items = items[np.sort(first)]
        if len(items) < self._min_batch_size:
            raise ValueError(
                f"{type(self).__name__} needs at least {self._min_batch_size} "
                f"training items, found {len(items)} among n_samples={len(units)} "
                "units" + self._items_hint()
            )
        self.n_items_ = len(items)
        self.n_duplicate_items_ = n_all - len(items)
        return items, None if labels is None else labels[items[:, 0]]

    def _items_hint(self) -> str:
        return ""

    # -- the loss ----------------------------------------------------------------------
    def _corrupt(self, roll: torch.Tensor) -> torch.Tensor:
        """The network's input made from the clean input roll (no-op by default)."""
        return roll

    def _reconstruction_loss(
        self, reconstruction: torch.Tensor, target: torch.Tensor, training: bool
    ) -> torch.Tensor:
        """-log P(reconstruction | target) against in-batch negatives (Eq. 2-3)."""
        n = len(target)
        k = self.n_negatives if n > 1 else 0
        offset = torch.randint(
            1, max(n, 2), (n, k), generator=self._torch_rng, device=target.device
        )
        rows = torch.arange(n, device=target.device)[:, None]
        # column 0: the unit's own reconstruction; then k others of the batch
        columns = torch.cat([rows, (rows + offset) % n], dim=1)
        # All n x n cosines in one matrix product of unit vectors: cheaper than
        # gathering k copies of the 5760-wide reconstructions (a zero roll has
        # cosine 0 with anything, as in nn.losses.cosine_similarity).
        cosine = (
            F.normalize(target.flatten(1), dim=1)
            @ F.normalize(reconstruction.flatten(1), dim=1).T
        )
        logits = float(self.similarity_scale) * cosine.gather(1, columns)
        zero = torch.zeros(n, dtype=torch.long, device=logits.device)
        self._record(
            "reconstruction_accuracy", (logits.argmax(1) == 0).float().mean(), training
        )
        return self.get_loss(logits, zero, training=training)

    def _batch_loss(self, batch: Any, training: bool) -> torch.Tensor:
        items, labels = unpack_data(batch)
        rolls = self._encode_rows(items.flatten()).view(*items.shape, *self.roll_shape_)
        source = rolls[:, 0]
        target = rolls[:, 1:].sum(1) if items.shape[1] > 1 else source
        embedding = self.module_.embed(self._corrupt(source) if training else source)
        return self._embedding_loss(embedding, target, labels, training)

    def _embedding_loss(
        self,
        embedding: torch.Tensor,
        target: torch.Tensor,
        labels: torch.Tensor | None,
        training: bool,
    ) -> torch.Tensor:
        reconstruction = self.module_.decode(embedding)
        return self._reconstruction_loss(reconstruction, target, training)


def _context_items(units: Units, target: str) -> np.ndarray:
    """``(U_i, U_i+1)`` pairs, or ``(U_i, U_i-1, U_i+1)`` triples, as row indices."""
    first, second = units.adjacent_pairs()
    if target == "next":
        return np.column_stack([first, second]).astype(np.int64)
    previous = np.full(len(units), -1, dtype=np.int64)
    following = np.full(len(units), -1, dtype=np.int64)
    previous[second], following[first] = first, second
    center = np.flatnonzero((previous >= 0) & (following >= 0))
    return np.column_stack([center, previous[center], following[center]])


_SHARED_PARAMETERS = """
    embedding_dim : int, default=100
        Size of the embedding (the paper's 100).
    n_negatives : int, default=4
        Reconstructions of other training units in the softmax (the paper's 4,
        5 candidates in all), drawn from the same batch.
    similarity_scale : float, default=1.0
        Multiplies the cosines before the softmax (the paper's Eq. 2 has 1).
    drop_duplicates : bool, default=True
        Train on distinct items only (see the base class).
    module : type of torch.nn.Module, default=RollNet
        The network. Its layout is set with ``module__channels`` ((32, 64, 64,
        128)), ``module__kernels`` (((12, 6), (2, 4), (2, 2), (2, 2))) and
        ``module__hidden_dims`` ((512, 256)).
    criterion : type of torch.nn.Module, default=torch.nn.CrossEntropyLoss
        Applied to the softmax logits (and to the composer logits).
    optimizer : type of torch.optim.Optimizer, default=torch.optim.Adam
    lr : float, default=1e-3
    max_epochs : int, default=10
    batch_size : int, default=100
        Training items per step (the paper's 100); a last batch of one item
        joins the one before it.
    train_split : callable or None, default=None
        skorch's validation split over items (not pieces: optimistic).
    callbacks : list or None, default=None
        skorch callbacks, e.g. ``[TimeBudget(600)]``.
    verbose : int, default=0
    device : str, default="auto"
        ``"auto"``: CUDA when available, else CPU; the device used is ``device_``.
    random_state : int, RandomState instance or None, default=None
        Seeds initialisation, batch order, negatives and corruption.
    **kwargs
        Further skorch parameters (``optimizer__weight_decay``, ...)."""

_SHARED_ATTRIBUTES = """
    module_ : RollNet
        The trained network (``module_.encoder`` embeds).
    n_features_in_ : int
        Cells of a roll (5760 for 60 x 96).
    roll_shape_ : (int, int)
        Pitches and ticks of the rolls.
    pitch_range_ : (int, int)
        Pitches ``[low, high)`` of the roll rows (pitches outside are folded in
        by octaves).
    n_items_, n_duplicate_items_ : int
        Training items of the last fit, and duplicates dropped from them.
    history_ : skorch.History
        Per-epoch ``train_loss``, ``dur`` and ``train_reconstruction_accuracy``
        (how often the true target is the most similar of the candidates; not
        for the composer model) or ``train_composer_accuracy`` (supervised
        models).
    device_ : str
        The device the model was trained on."""


def _doc(text: str) -> str:
    return text.replace("{shared_parameters}", _SHARED_PARAMETERS).replace(
        "{shared_attributes}", _SHARED_ATTRIBUTES
    )


class DenoisingRollEmbedder(RollEmbedder):
    __doc__ = _doc(
        """Embed 4-beat piano rolls with a denoising autoencoder (Bretan et al. 4.1).

    The input roll is corrupted per batch on the device and the tied-weight
    convolutional autoencoder reconstructs the clean roll.

    Parameters
    ----------
    corruption : {"note_drop", "beat_drop", "octave_split"}, default="note_drop"
        50% of the onsets dropped; one whole beat (60 x 24) zeroed; the lower two
        or the upper three octaves zeroed (see
        :mod:`sklearn_musemb.encodings.corruption`).{shared_parameters}

    Attributes
    ----------{shared_attributes}

    See Also
    --------
    ContextRollEmbedder : reconstructs the neighbouring units instead.
    sklearn_musemb.units.segment_beats : cut pieces into 4-beat units.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_musemb.embedders import DenoisingRollEmbedder
    >>> rolls = (np.random.default_rng(0).random((40, 60, 96)) < 0.02)
    >>> dae = DenoisingRollEmbedder(corruption="beat_drop", embedding_dim=8,
    ...                             max_epochs=2, batch_size=10, random_state=0,
    ...                             module__channels=(4, 4, 4, 4),
    ...                             module__hidden_dims=(16,))
    >>> dae.fit_transform(rolls).shape
    (40, 8)
    """
    )

    def __init__(
        self,
        *,
        corruption: str = "note_drop",
        embedding_dim: int = 100,
        n_negatives: int = 4,
        similarity_scale: float = 1.0,
        drop_duplicates: bool = True,
        module: type[torch.nn.Module] = RollNet,
        criterion: type[torch.nn.Module] = torch.nn.CrossEntropyLoss,
        optimizer: type[torch.optim.Optimizer] = torch.optim.Adam,
        lr: float = 1e-3,
        max_epochs: int = 10,
        batch_size: int = 100,
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
            n_negatives=n_negatives,
            similarity_scale=similarity_scale,
            drop_duplicates=drop_duplicates,
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
        self.corruption = corruption

    def _check_params(self) -> None:
        super()._check_params()
        if self.corruption not in CORRUPTIONS:
            raise ValueError(
                f"{type(self).__name__}: corruption must be one of "
                f"{tuple(CORRUPTIONS)}, got {self.corruption!r}"
            )

    def _corrupt(self, roll: torch.Tensor) -> torch.Tensor:
        return CORRUPTIONS[self.corruption](roll, self._torch_rng)


class ContextRollEmbedder(RollEmbedder):
    __doc__ = _doc(
        """Embed 4-beat piano rolls by predicting their neighbours (Bretan et al. 4.2).

    The tied-weight autoencoder gets unit ``U_i`` and reconstructs ``U_i+1``
    (``target="next"``) or ``U_i-1 + U_i+1`` (``target="context"``: the summed
    rolls of both neighbours, 8 beats of context in one 60 x 96 matrix).
    Neighbours share piece and variant (transposition) and have consecutive
    positions; units without the neighbours asked for are not inputs.

    Parameters
    ----------
    target : {"context", "next"}, default="context"
        What the decoder reconstructs.{shared_parameters}

    Attributes
    ----------{shared_attributes}

    See Also
    --------
    RegularizedRollEmbedder : the same with a composer head on the embedding.
    DenoisingRollEmbedder : reconstructs the unit itself from a corrupted copy.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_musemb.embedders import ContextRollEmbedder
    >>> rolls = (np.random.default_rng(0).random((40, 60, 96)) < 0.02)
    >>> ctx = ContextRollEmbedder(target="next", embedding_dim=8, max_epochs=2,
    ...                           batch_size=10, random_state=0,
    ...                           module__channels=(4, 4, 4, 4),
    ...                           module__hidden_dims=(16,))
    >>> ctx.fit(rolls).n_items_  # a plain array is one piece: 39 (U_i, U_i+1)
    39
    """
    )

    def __init__(
        self,
        *,
        target: str = "context",
        embedding_dim: int = 100,
        n_negatives: int = 4,
        similarity_scale: float = 1.0,
        drop_duplicates: bool = True,
        module: type[torch.nn.Module] = RollNet,
        criterion: type[torch.nn.Module] = torch.nn.CrossEntropyLoss,
        optimizer: type[torch.optim.Optimizer] = torch.optim.Adam,
        lr: float = 1e-3,
        max_epochs: int = 10,
        batch_size: int = 100,
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
            n_negatives=n_negatives,
            similarity_scale=similarity_scale,
            drop_duplicates=drop_duplicates,
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
        self.target = target

    def _check_params(self) -> None:
        super()._check_params()
        if self.target not in CONTEXT_TARGETS:
            raise ValueError(
                f"{type(self).__name__}: target must be one of {CONTEXT_TARGETS}, "
                f"got {self.target!r}"
            )

    def _item_rows(self, units: Units) -> np.ndarray:
        return _context_items(units, self.target)

    def _items_hint(self) -> str:
        need = 3 if self.target == "context" else 2
        return (
            f" (target={self.target!r} needs pieces of at least {need} "
            "consecutive units)"
        )


class _ComposerHead:
    """The composer softmax on the embedding, shared by the two supervised models."""

    _supervised = True

    def _composer_loss(
        self, embedding: torch.Tensor, labels: torch.Tensor, training: bool
    ) -> torch.Tensor:
        logits = self.module_.classify(embedding)
        accuracy = (logits.argmax(1) == labels).float().mean()
        self._record("composer_accuracy", accuracy, training)
        return self.get_loss(logits, labels, training=training)


class ComposerRollEmbedder(_ComposerHead, RollEmbedder):
    __doc__ = _doc(
        """Embed 4-beat piano rolls by classifying their composer (Bretan et al. 4.3).

    The encoder's embedding feeds a softmax over the composers of ``y``
    (cross-entropy); there is no decoder. ``transform`` returns the embedding.

    Parameters
    ----------{shared_parameters}

    ``n_negatives`` and ``similarity_scale`` are unused (there is no
    reconstruction); they are kept so every piano-roll embedder takes the same
    parameters.

    Attributes
    ----------{shared_attributes}
    classes_ : ndarray of shape (n_classes,)
        The composers of ``y``.

    See Also
    --------
    RegularizedRollEmbedder : context prediction with this head as a regulariser.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_musemb.embedders import ComposerRollEmbedder
    >>> rng = np.random.default_rng(0)
    >>> rolls, y = rng.random((40, 60, 96)) < 0.02, np.repeat(["a", "b"], 20)
    >>> emb = ComposerRollEmbedder(embedding_dim=8, max_epochs=2, batch_size=10,
    ...                            random_state=0, module__channels=(4, 4, 4, 4),
    ...                            module__hidden_dims=(16,))
    >>> emb.fit(rolls, y).classes_.tolist(), emb.transform(rolls).shape
    (['a', 'b'], (40, 8))
    """
    )

    _batch_metrics = ("composer_accuracy",)

    def __init__(
        self,
        *,
        embedding_dim: int = 100,
        n_negatives: int = 4,
        similarity_scale: float = 1.0,
        drop_duplicates: bool = True,
        module: type[torch.nn.Module] = RollNet,
        criterion: type[torch.nn.Module] = torch.nn.CrossEntropyLoss,
        optimizer: type[torch.optim.Optimizer] = torch.optim.Adam,
        lr: float = 1e-3,
        max_epochs: int = 10,
        batch_size: int = 100,
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
            n_negatives=n_negatives,
            similarity_scale=similarity_scale,
            drop_duplicates=drop_duplicates,
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

    def _head_kwargs(self) -> dict[str, Any]:
        return {"decoder": False, "n_classes": len(self.classes_)}

    def _embedding_loss(self, embedding, target, labels, training):
        return self._composer_loss(embedding, labels, training)


class RegularizedRollEmbedder(_ComposerHead, ContextRollEmbedder):
    __doc__ = _doc(
        """Context prediction regularised by composer labels (Bretan et al. 4.4).

    :class:`ContextRollEmbedder`, plus a head on the embedding (a hidden layer of
    ``module__classifier_hidden_dim`` ELU units, 50 by default, then a softmax
    over the composers of ``y``). The loss is the reconstruction loss plus
    ``composer_weight`` times the composer cross-entropy (the paper gives no
    weight).

    Parameters
    ----------
    composer_weight : float, default=1.0
        Weight of the composer loss.
    target : {"context", "next"}, default="context"
        What the decoder reconstructs.{shared_parameters}

    Attributes
    ----------{shared_attributes}
    classes_ : ndarray of shape (n_classes,)
        The composers of ``y``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_musemb.embedders import RegularizedRollEmbedder
    >>> rng = np.random.default_rng(0)
    >>> rolls, y = rng.random((40, 60, 96)) < 0.02, np.repeat(["a", "b"], 20)
    >>> emb = RegularizedRollEmbedder(embedding_dim=8, max_epochs=2, batch_size=10,
    ...                               random_state=0, module__channels=(4, 4, 4, 4),
    ...                               module__hidden_dims=(16,))
    >>> sorted(k for k in emb.fit(rolls, y).history_[-1] if k.endswith("accuracy"))
    ['train_composer_accuracy', 'train_reconstruction_accuracy']
    """
    )

    _batch_metrics = ("reconstruction_accuracy", "composer_accuracy")
    _module_defaults = {"classifier_hidden_dim": 50}

    def __init__(
        self,
        *,
        composer_weight: float = 1.0,
        target: str = "context",
        **kwargs: Any,
    ) -> None:
        super().__init__(target=target, **kwargs)
        self.composer_weight = composer_weight

    def _check_params(self) -> None:
        super()._check_params()
        check_finite_number(
            self.composer_weight, "composer_weight", type(self).__name__
        )

    def _head_kwargs(self) -> dict[str, Any]:
        return {"decoder": True, "n_classes": len(self.classes_)}

    def _embedding_loss(self, embedding, target, labels, training):
        reconstruction = self.module_.decode(embedding)
        loss = self._reconstruction_loss(reconstruction, target, training)
        composer = self._composer_loss(embedding, labels, training)
        return loss + float(self.composer_weight) * composer
