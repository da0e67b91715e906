"""Data augmentation on :class:`Units`: transposition and tempo jitter (both papers)."""

from __future__ import annotations

from collections.abc import Iterable
from numbers import Integral
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils import check_random_state

from ..utils.pitch import fold_pitch
from ..utils.validation import check_finite_number
from .container import PAD, Units, _check_units
from .segment import BEAT_PITCH_RANGE, IOI_MAX_MS, _pack_onsets

_NEEDS = "it uses their piece ids and event layout"


def _work_dtype(pitch: np.ndarray, shifts: np.ndarray) -> type[np.integer]:
    """int16 when ``pitch + shift`` and its octave folding cannot overflow it."""
    if pitch.size == 0:
        return np.int16
    lowest = int(pitch.min()) + int(shifts.min())
    highest = int(pitch.max()) + int(shifts.max())
    # a margin of 2**14 covers the folding arithmetic (pitch - 120 and so on)
    return np.int16 if -(2**14) <= lowest and highest < 2**14 else np.int64


class Transposer(TransformerMixin, BaseEstimator):
    """Copy every unit into several keys (transposition augmentation).

    ``transform`` returns ``len(shifts)`` copies of the input: copy ``s`` (rows
    ``s * n .. (s + 1) * n - 1``) has every pitch moved by ``shifts[s]`` semitones.
    Piece, position and label are kept; ``variant`` becomes
    ``old_variant * len(shifts) + s`` so rows of different copies are never
    adjacent (see :meth:`Units.adjacent_pairs`) and a further transposition keeps
    variants distinct.

    - ``kind="beats"``: shifted pitches are folded back by octaves into
      ``meta["pitch_range"]`` (default ``(36, 96)``) and each unit is re-sorted by
      tick then pitch, with onsets that fold onto the same ``(pitch, tick)`` kept
      once. The input pitches were already folded by :func:`segment_beats`, so an
      out-of-range note may end an octave away from where transposing the raw
      MIDI would have put it (same pitch class).
    - ``kind="notes"``: raw MIDI pitches are kept; only a shifted pitch outside
      ``0..127`` is folded by octaves into ``[0, 120)``. Encoders fold into their
      own range later.

    Stateless: ``fit`` only validates. The output has more rows than the input,
    so it cannot be a step of a :class:`~sklearn.pipeline.Pipeline` (which cannot
    change the number of samples): apply it to the training units before the
    pipeline, and never to the test units.

    Parameters
    ----------
    shifts : iterable of int, default=tuple(range(-6, 6))
        Distinct semitone shifts, one copy each; the default gives all 12 keys.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.dummy import DummyClassifier
    >>> from sklearn_musemb.units import Transposer, Units
    >>> X_train = Units(np.array([[[60, 250], [64, 0]]] * 4), piece=[0, 0, 1, 1],
    ...                 position=[0, 1, 0, 1], labels=["a", "a", "b", "b"])
    >>> Xa = Transposer().fit_transform(X_train)
    >>> Xa.shape
    (48, 2, 2)
    >>> Xa.events[:8:4, 0, 0].tolist(), Xa.variant[:8:4].tolist()
    ([54, 55], [0, 1])
    >>> clf = DummyClassifier().fit(Xa, Xa.labels)
    """

    def __init__(self, shifts: Iterable[int] = tuple(range(-6, 6))) -> None:
        self.shifts = shifts

    def _validated_shifts(self) -> np.ndarray:
        try:
            shifts = list(self.shifts)
        except TypeError:
            raise ValueError(
                f"shifts must be an iterable of ints, got {self.shifts!r}"
            ) from None
        if not shifts or not all(
            isinstance(s, Integral) and not isinstance(s, bool) for s in shifts
        ):
            raise ValueError(
                f"shifts must be a non-empty iterable of ints, got {self.shifts!r}"
            )
        if len(set(shifts)) != len(shifts):
            raise ValueError(f"shifts must be distinct, got {shifts}")
        return np.asarray(shifts, dtype=np.int64)

    def fit(self, X: Units, y: Any = None) -> Transposer:
        """Validate ``shifts`` and ``X``; nothing is learned.

        Parameters
        ----------
        X : Units
            Units to transpose later.
        y : ignored

        Returns
        -------
        self : Transposer

        Raises
        ------
        TypeError
            If ``X`` is not a :class:`Units`.
        ValueError
            If ``shifts`` is empty, holds non-integers or repeats a value.
        """
        _check_units(X, type(self).__name__, _NEEDS)
        self._validated_shifts()
        return self

    def transform(self, X: Units) -> Units:
        """Return ``len(shifts)`` transposed copies of ``X``.

        Parameters
        ----------
        X : Units
            Units of kind ``"notes"`` or ``"beats"``.

        Returns
        -------
        Units
            ``len(shifts) * len(X)`` rows, copy-major.

        Raises
        ------
        TypeError
            If ``X`` is not a :class:`Units`.
        ValueError
            On invalid ``shifts``.
        """
        X = _check_units(X, type(self).__name__, _NEEDS)
        shifts = self._validated_shifts()
        if X.kind == "beats":
            events, n_events = self._transpose_beats(X, shifts)
        else:
            events, n_events = self._transpose_notes(X, shifts)
        m, n = len(shifts), len(X)
        return Units(
            events,
            piece=np.tile(X.piece, m),
            position=np.tile(X.position, m),
            labels=None if X.labels is None else np.tile(X.labels, m),
            variant=np.tile(X.variant, m) * m + np.repeat(np.arange(m), n),
            n_events=n_events,
            kind=X.kind,
            meta={**X.meta, "shifts": shifts.tolist()},
        )

    @staticmethod
    def _transpose_notes(X: Units, shifts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        m = len(shifts)
        events = np.broadcast_to(X.events, (m, *X.events.shape)).copy()
        # note units are never padded: every event is a real note
        pitch = X.events[..., 0]
        dtype = _work_dtype(pitch, shifts)
        moved = pitch.astype(dtype)[None] + shifts.astype(dtype)[:, None, None]
        outside = (moved < 0) | (moved > 127)
        moved[outside] = fold_pitch(moved[outside], 0, 120)
        events[..., 0] = moved
        return events.reshape(m * len(X), *X.events.shape[1:]), np.tile(X.n_events, m)

    @staticmethod
    def _transpose_beats(X: Units, shifts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # work on the real onsets only, then re-sort and de-duplicate every unit
        low, high = X.meta.get("pitch_range", BEAT_PITCH_RANGE)
        m, n = len(shifts), len(X)
        rows, cols = np.nonzero(X.events[..., 0] != PAD)
        pitch = X.events[rows, cols, 0].astype(np.int64)
        moved = pitch[None, :] + shifts[:, None]
        # fold_pitch is the identity inside [low, high), so applying it to all of
        # `moved` gives the same result, but folding only the minority outside is
        # about 3x cheaper (fold_pitch does some ten passes over its input)
        outside = (moved < low) | (moved >= high)
        moved[outside] = fold_pitch(moved[outside], int(low), int(high))
        copy_rows = rows[None, :] + n * np.arange(m)[:, None]
        ticks = np.tile(X.events[rows, cols, 1], m)
        return _pack_onsets(copy_rows.ravel(), ticks, moved.ravel(), m * n)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        # X must be Units, never a 2-D array: sklearn's array-based checks skip it
        tags.input_tags.two_d_array = False
        return tags


class TempoScaler(TransformerMixin, BaseEstimator):
    """Stretch the inter-onset intervals of note units by a random tempo factor.

    Every ``(piece, variant)`` pair draws one factor uniformly from ``[low, high]``
    (Bretan & Heck 2019: 0.95-1.05), so a piece (or one transposed copy of it)
    keeps a consistent tempo across its units; each IOI is multiplied by it,
    rounded to integer ms (half to even) and clipped to ``0..32767``. The output
    has the same rows as the input. Factors are drawn for the sorted distinct
    ``(piece, variant)`` pairs of ``X``, so an int ``random_state`` gives the same
    output for the same input.

    Only ``kind="notes"`` units have a tempo to scale: beat units are quantised to
    ticks of the beat, which a tempo change does not move.

    Parameters
    ----------
    low, high : float, default=0.95, 1.05
        Range of the factor, finite with ``0 < low <= high``. A factor above 1
        slows down.
    random_state : int, RandomState instance or None, default=None
        Controls the factors.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_musemb.units import TempoScaler, Units
    >>> X = Units(np.array([[[60, 1000], [64, 500]]] * 2), piece=[0, 1])
    >>> Xt = TempoScaler(random_state=0).fit_transform(X)
    >>> Xt.events[:, :, 1].tolist()
    [[1005, 502], [1022, 511]]
    """

    def __init__(
        self, low: float = 0.95, high: float = 1.05, random_state: Any = None
    ) -> None:
        self.low = low
        self.high = high
        self.random_state = random_state

    def _check(self, X: Any) -> Units:
        X = _check_units(X, type(self).__name__, _NEEDS)
        for name in ("low", "high"):
            check_finite_number(
                getattr(self, name), name, type(self).__name__, minimum=0.0, strict=True
            )
        if self.low > self.high:
            raise ValueError(
                f"low must not exceed high, got low={self.low}, high={self.high}"
            )
        if X.kind != "notes":
            raise ValueError(
                f"tempo scaling does not apply to kind={X.kind!r} units: they are "
                "quantised to ticks of the beat; use it on segment_notes output"
            )
        return X

    def fit(self, X: Units, y: Any = None) -> TempoScaler:
        """Validate the parameters and ``X``; nothing is learned.

        Parameters
        ----------
        X : Units
            Note units.
        y : ignored

        Returns
        -------
        self : TempoScaler

        Raises
        ------
        TypeError
            If ``X`` is not a :class:`Units`.
        ValueError
            On invalid ``low``/``high`` or units that are not ``kind="notes"``.
        """
        self._check(X)
        return self

    def transform(self, X: Units) -> Units:
        """Return ``X`` with every piece's IOIs scaled by its random factor.

        Parameters
        ----------
        X : Units
            Note units.

        Returns
        -------
        Units
            Same rows and metadata, new IOIs.

        Raises
        ------
        TypeError
            If ``X`` is not a :class:`Units`.
        ValueError
            On invalid ``low``/``high`` or units that are not ``kind="notes"``.
        """
        X = self._check(X)
        rng = check_random_state(self.random_state)
        pairs = np.stack([X.piece, X.variant], axis=1)
        groups, inverse = np.unique(pairs, axis=0, return_inverse=True)
        factor = rng.uniform(self.low, self.high, size=len(groups))
        events = X.events.copy()
        # note units are never padded: every IOI is a real one
        ioi = events[..., 1]
        scaled = np.rint(ioi * factor[inverse.ravel()][:, None])
        ioi[...] = np.clip(scaled, 0, IOI_MAX_MS)
        return X._with_events(events)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        # X must be Units, never a 2-D array: sklearn's array-based checks skip it
        tags.input_tags.two_d_array = False
        return tags
