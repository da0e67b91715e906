"""Hold out whole pieces per label ("at least two songs per composer")."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from sklearn.utils import check_random_state

from ..utils.validation import check_finite_number, check_positive_int
from .container import Units, _check_units

_SMALL_LABELS = ("raise", "train")


def _check_args(
    units: Any, n_test_pieces: Any, test_size: Any, stratify: Any, small_labels: Any
) -> None:
    _check_units(units, "piece_train_test_split", "it splits by units.piece")
    check_positive_int(n_test_pieces, "n_test_pieces")
    if test_size is not None:
        check_finite_number(
            test_size, "test_size", "piece_train_test_split", minimum=0.0, strict=True
        )
        if test_size >= 1.0:
            raise ValueError(f"test_size must be a float in (0, 1), got {test_size!r}")
    if stratify not in ("labels", None):
        raise ValueError(f'stratify must be "labels" or None, got {stratify!r}')
    if small_labels not in _SMALL_LABELS:
        raise ValueError(
            f"small_labels must be one of {_SMALL_LABELS}, got {small_labels!r}"
        )


def _piece_groups(units: Units, stratify: str | None) -> tuple[np.ndarray, np.ndarray]:
    """Sorted unique piece ids and the label of each (one group if unstratified)."""
    pieces, first, inverse = np.unique(
        units.piece, return_index=True, return_inverse=True
    )
    if stratify is None:
        return pieces, np.zeros(len(pieces), dtype=np.int64)
    if units.labels is None:
        raise ValueError(
            'stratify="labels" needs labelled units (units.labels is None); '
            "pass stratify=None to hold out pieces regardless of label"
        )
    piece_label = units.labels[first]
    mixed = np.flatnonzero(units.labels != piece_label[inverse.ravel()])
    if len(mixed):
        bad = units.piece[mixed[0]]
        raise ValueError(
            f"piece {bad} has units with different labels; a piece must have one "
            "label to be held out per label"
        )
    return pieces, piece_label


def piece_train_test_split(
    units: Units,
    *,
    n_test_pieces: int = 2,
    test_size: float | None = None,
    random_state: Any = None,
    stratify: str | None = "labels",
    small_labels: str = "raise",
    return_indices: bool = False,
) -> tuple[Units, Units] | tuple[np.ndarray, np.ndarray]:
    """Split units into train and test by whole pieces, holding out some per label.

    For every label (composer), ``n_test`` of its pieces chosen at random go to
    the test side with all their units, where ``n_test = n_test_pieces`` or, with
    ``test_size``, ``max(n_test_pieces, ceil(test_size * n_pieces_of_label))``.
    Pieces are identified by ``units.piece`` alone, so augmented copies (same
    piece, another ``variant``) always land on the side of their piece and no piece
    is ever on both sides. Rows keep their original order on each side.

    Parameters
    ----------
    units : Units
        Units with ``piece`` (and ``labels`` when stratifying).
    n_test_pieces : int, default=2
        Minimum number of test pieces per label (Bretan & Heck 2019: two).
    test_size : float in (0, 1), default=None
        Alternative fraction of each label's pieces to hold out (rounded up,
        never fewer than ``n_test_pieces``).
    random_state : int, RandomState instance or None, default=None
        Controls which pieces are held out; an int makes the split repeatable.
    stratify : {"labels", None}, default="labels"
        Hold out per label, or (``None``) from all pieces as one group.
    small_labels : {"raise", "train"}, default="raise"
        What to do with a label that has fewer than ``n_test + 1`` pieces (so
        that one would be left for training): raise a ValueError naming every
        such label, or put all its pieces in train.
    return_indices : bool, default=False
        Return row indices ``(train_idx, test_idx)`` instead of two Units.

    Returns
    -------
    units_train, units_test : Units
        The two sides; or ``train_idx, test_idx`` (sorted int arrays) when
        ``return_indices=True``.

    Raises
    ------
    TypeError
        If ``units`` is not a :class:`Units`.
    ValueError
        On invalid arguments, unlabelled units with ``stratify="labels"``, a
        piece with several labels, or a label with too few pieces (when
        ``small_labels="raise"``).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_musemb.units import Units, piece_train_test_split
    >>> piece = np.repeat(np.arange(6), 2)
    >>> units = Units(np.zeros((12, 1, 2), int), piece=piece,
    ...               position=np.tile([0, 1], 6), labels=np.repeat(list("aabbbb"), 2))
    >>> train, test = piece_train_test_split(units, n_test_pieces=1, random_state=0)
    >>> len(train), len(test)
    (8, 4)
    >>> bool(np.isin(train.piece, test.piece).any())
    False
    """
    _check_args(units, n_test_pieces, test_size, stratify, small_labels)
    pieces, piece_label = _piece_groups(units, stratify)
    rng = check_random_state(random_state)

    test_pieces, too_small = [], []
    for label in np.unique(piece_label):
        group = pieces[piece_label == label]
        n_test = n_test_pieces
        if test_size is not None:
            n_test = max(n_test, math.ceil(test_size * len(group)))
        if len(group) < n_test + 1:
            name = np.asarray(label).item()  # 'a', not np.str_('a')
            too_small.append(f"{name!r} ({len(group)} pieces, needs {n_test + 1})")
            continue
        test_pieces.append(rng.permutation(group)[:n_test])
    if too_small and small_labels == "raise":
        what = "labels" if stratify is not None else "the corpus"
        raise ValueError(
            f"too few pieces to hold out {n_test_pieces} per label and keep one "
            f"for training in {what}: "
            + ", ".join(too_small)
            + '; pass small_labels="train" to keep such labels in train only'
        )
    held_out = np.concatenate(test_pieces) if test_pieces else np.empty(0, np.int64)
    in_test = np.isin(units.piece, held_out)
    train_idx, test_idx = np.flatnonzero(~in_test), np.flatnonzero(in_test)
    if return_indices:
        return train_idx, test_idx
    return units[train_idx], units[test_idx]
