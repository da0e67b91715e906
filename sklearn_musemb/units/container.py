"""A sliceable container of compact musical units that keeps adjacency intact."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from numbers import Integral
from typing import Any

import numpy as np

#: Padding value in the event arrays of units with a variable number of events.
PAD = -1

UNIT_KINDS = ("notes", "beats")


def _check_units(X: Any, who: str, why: str) -> Units:
    """Return ``X`` if it is a :class:`Units`, else raise a TypeError.

    Parameters
    ----------
    X : object
        The argument to check.
    who : str
        The function or estimator that received it, for the message.
    why : str
        What it needs from :class:`Units`, for the message.

    Returns
    -------
    Units
        ``X`` itself.

    Raises
    ------
    TypeError
        If ``X`` is not a :class:`Units`.
    """
    if not isinstance(X, Units):
        raise TypeError(
            f"{who} needs Units ({why}), got {type(X).__name__}; cut pieces into "
            "units with segment_notes or segment_beats first"
        )
    return X


class Units:
    """Compact musical units plus, per row, the piece they come from.

    A unit is a short stretch of music stored as a small integer array of events,
    each event a pair of integers:

    - ``kind="notes"`` (Bretan & Heck 2019): a fixed number of notes, each
      ``(pitch, inter-onset interval in ms)`` where the interval runs from the note
      to the next note of the piece (0 after the last note of a piece);
    - ``kind="beats"`` (Bretan et al. 2017): note onsets in a fixed number of beats,
      each ``(pitch, tick)``, padded with :data:`PAD` to a common length.

    Dense encodings (two-hot, piano roll) are never stored: estimators build them per
    batch on their device. Every row also carries its ``piece`` id, its ``position``
    (index of the unit within the piece), an augmentation ``variant`` (0 for the
    original, one id per transposed copy) and an optional ``label``. Slicing keeps all
    of them aligned, so adjacency (same piece and variant, positions ``p`` and
    ``p + 1``) survives ``train_test_split``, ``GroupKFold``, shuffling and
    ``GridSearchCV``; indexing with an integer, a slice, a boolean mask or an array of
    indices returns a new :class:`Units`.

    Parameters
    ----------
    events : array-like of int, shape (n_units, n_events, 2)
        The events of every unit.
    piece : array-like of int, shape (n_units,), default=None
        Piece id of every unit. ``None`` means all units come from one piece.
    position : array-like of int, shape (n_units,), default=None
        Index of every unit inside its piece. ``None`` means row order.
    labels : array-like, shape (n_units,), default=None
        A label per unit (composer, say), or ``None``.
    variant : array-like of int, shape (n_units,), default=None
        Augmentation copy id (0 = original). ``None`` means all zeros.
    n_events : array-like of int, shape (n_units,), default=None
        Number of real (non-padding) events per unit. ``None`` means all of them.
    kind : {"notes", "beats"}, default="notes"
        What the two integers of an event mean (see above).
    meta : dict, default=None
        Segmentation settings, e.g. ``{"n_notes": 40, "hop": 40}``.

    Attributes
    ----------
    shape : tuple of int
        ``(n_units, n_events, 2)``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_musemb.units import Units
    >>> events = np.zeros((6, 4, 2), dtype=np.int16)
    >>> units = Units(events, piece=[0, 0, 0, 1, 1, 1], position=[0, 1, 2, 0, 1, 2])
    >>> units.shape
    (6, 4, 2)
    >>> units[[2, 0, 1]].adjacent_pairs()
    (array([1, 2]), array([2, 0]))
    """

    def __init__(
        self,
        events: Any,
        *,
        piece: Any = None,
        position: Any = None,
        labels: Any = None,
        variant: Any = None,
        n_events: Any = None,
        kind: str = "notes",
        meta: Mapping[str, Any] | None = None,
    ) -> None:
        events = np.asarray(events)
        if events.ndim != 3 or events.shape[2] != 2:
            raise ValueError(
                "Units.events must have shape (n_units, n_events, 2), "
                f"got shape {events.shape}"
            )
        if not np.issubdtype(events.dtype, np.integer):
            raise TypeError(
                f"Units.events must hold integers, got dtype {events.dtype}"
            )
        if kind not in UNIT_KINDS:
            raise ValueError(f"kind must be one of {UNIT_KINDS}, got {kind!r}")
        n = events.shape[0]
        self.events = events
        self.kind = kind
        self.meta = dict(meta or {})
        self.piece = self._column(piece, n, "piece", np.zeros(n, dtype=np.int64))
        self.position = self._column(
            position, n, "position", np.arange(n, dtype=np.int64)
        )
        self.variant = self._column(variant, n, "variant", np.zeros(n, dtype=np.int64))
        self.n_events = self._column(
            n_events, n, "n_events", np.full(n, events.shape[1], dtype=np.int64)
        )
        if labels is None:
            self.labels = None
        else:
            labels = np.asarray(labels)
            if labels.shape != (n,):
                raise ValueError(
                    f"Units.labels must have shape ({n},), got {labels.shape}"
                )
            self.labels = labels

    @staticmethod
    def _column(values: Any, n: int, name: str, default: np.ndarray) -> np.ndarray:
        if values is None:
            return default
        values = np.asarray(values)
        if values.shape != (n,):
            raise ValueError(f"Units.{name} must have shape ({n},), got {values.shape}")
        if not np.issubdtype(values.dtype, np.integer):
            raise TypeError(f"Units.{name} must hold integers, got {values.dtype}")
        return values.astype(np.int64, copy=False)

    # -- array-like protocol -------------------------------------------------------
    def __len__(self) -> int:
        return self.events.shape[0]

    @property
    def shape(self) -> tuple[int, ...]:
        return self.events.shape

    @property
    def ndim(self) -> int:
        return self.events.ndim

    def __getitem__(self, key: Any) -> Units:
        # sklearn's _safe_indexing calls ``X[key, ...]``.
        if isinstance(key, tuple):
            if len(key) == 2 and key[1] is Ellipsis:
                key = key[0]
            else:
                raise IndexError(
                    f"Units support indexing along the first axis only, got {key!r}"
                )
        if isinstance(key, Integral):
            key = [int(key)]
        elif isinstance(key, Sequence) and not isinstance(key, str):
            key = np.asarray(key)
            if key.size == 0:
                key = key.astype(np.intp)
        return self._take(key)

    def _with_events(self, events: np.ndarray) -> Units:
        """These units with ``events`` in place of theirs.

        Parameters
        ----------
        events : ndarray of int, shape (n_units, width, 2)
            The new events, one row per unit of ``self``.

        Returns
        -------
        Units
            Piece, position, label, variant, ``n_events``, kind and a copy of
            ``meta`` from ``self``; the column arrays are shared, not copied.
        """
        return Units(
            events,
            piece=self.piece,
            position=self.position,
            labels=self.labels,
            variant=self.variant,
            n_events=self.n_events,
            kind=self.kind,
            meta=self.meta,
        )

    def _take(self, key: Any) -> Units:
        return Units(
            self.events[key],
            piece=self.piece[key],
            position=self.position[key],
            labels=None if self.labels is None else self.labels[key],
            variant=self.variant[key],
            n_events=self.n_events[key],
            kind=self.kind,
            meta=self.meta,
        )

    def __iter__(self):
        raise TypeError(
            "Units are not iterable row by row; index them with arrays instead "
            "(units[idx]) or read units.events"
        )

    def __repr__(self) -> str:
        n_pieces = len(np.unique(self.piece)) if len(self) else 0
        return (
            f"Units(kind={self.kind!r}, n_units={len(self)}, "
            f"events_per_unit={self.events.shape[1]}, n_pieces={n_pieces}, "
            f"labelled={self.labels is not None})"
        )

    # -- adjacency -------------------------------------------------------------------
    def adjacent_pairs(self) -> tuple[np.ndarray, np.ndarray]:
        """Row indices ``(first, second)`` of every pair of adjacent units.

        Two rows are adjacent when they share piece and variant and the position of
        ``second`` is the position of ``first`` plus one. Rows can be in any order.
        If several rows share piece, variant and position (the same units stacked
        twice, say), only one pair is formed across each boundary between
        positions.

        Returns
        -------
        first, second : ndarray of int, shape (n_pairs,)
            Row indices into this container, sorted by ``first``'s piece,
            variant and position.
        """
        order = np.lexsort((self.position, self.variant, self.piece))
        piece = self.piece[order]
        variant = self.variant[order]
        position = self.position[order]
        follows = (
            (piece[1:] == piece[:-1])
            & (variant[1:] == variant[:-1])
            & (position[1:] == position[:-1] + 1)
        )
        hits = np.flatnonzero(follows)
        return order[hits], order[hits + 1]

    # -- construction ------------------------------------------------------------------
    @classmethod
    def concatenate(cls, parts: Sequence[Units]) -> Units:
        """Stack several containers of the same kind, padding events as needed.

        Parameters
        ----------
        parts : sequence of Units
            Containers of one ``kind``; piece ids are kept as they are.

        Returns
        -------
        Units
            All rows of ``parts``, in order.
        """
        parts = list(parts)
        if not parts:
            raise ValueError("Units.concatenate needs at least one Units object")
        kinds = {p.kind for p in parts}
        if len(kinds) != 1:
            raise ValueError(f"cannot concatenate units of kinds {sorted(kinds)}")
        width = max(p.events.shape[1] for p in parts)
        if parts[0].kind == "notes" and any(p.events.shape[1] != width for p in parts):
            raise ValueError("note units of different lengths cannot be concatenated")
        dtype = np.result_type(*[p.events.dtype for p in parts])
        events = np.full((sum(len(p) for p in parts), width, 2), PAD, dtype=dtype)
        start = 0
        for p in parts:
            events[start : start + len(p), : p.events.shape[1]] = p.events
            start += len(p)
        labelled = [p.labels is not None for p in parts]
        if any(labelled) and not all(labelled):
            raise ValueError("cannot concatenate labelled with unlabelled units")
        return cls(
            events,
            piece=np.concatenate([p.piece for p in parts]),
            position=np.concatenate([p.position for p in parts]),
            labels=np.concatenate([p.labels for p in parts]) if all(labelled) else None,
            variant=np.concatenate([p.variant for p in parts]),
            n_events=np.concatenate([p.n_events for p in parts]),
            kind=parts[0].kind,
            meta=parts[0].meta,
        )
