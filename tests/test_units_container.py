"""The Units container: array-like slicing that keeps every column aligned."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.model_selection import GroupKFold, train_test_split
from sklearn.utils import _safe_indexing, shuffle

from sklearn_musemb.units import PAD, Units

N_PIECES, PER_PIECE = 4, 5


def make_units(kind: str = "notes") -> Units:
    """20 units, 4 pieces x 5 positions; every column encodes the row number."""
    n = N_PIECES * PER_PIECE
    events = np.zeros((n, 3, 2), dtype=np.int16)
    events[:, :, 0] = np.arange(n)[:, None]  # pitch = row number
    events[:, :, 1] = np.arange(3)
    return Units(
        events,
        piece=np.repeat(np.arange(N_PIECES), PER_PIECE) + 100,
        position=np.tile(np.arange(PER_PIECE), N_PIECES),
        labels=np.array([f"row{i}" for i in range(n)]),
        variant=np.zeros(n, dtype=int),
        n_events=np.full(n, 3),
        kind=kind,
        meta={"n_notes": 3},
    )


def assert_aligned(units: Units) -> np.ndarray:
    """Every column of every row comes from the same original row; return those."""
    rows = units.events[:, 0, 0].astype(int)
    assert units.labels.tolist() == [f"row{i}" for i in rows]
    assert units.piece.tolist() == (rows // PER_PIECE + 100).tolist()
    assert units.position.tolist() == (rows % PER_PIECE).tolist()
    assert units.n_events.tolist() == [3] * len(rows)
    assert units.meta == {"n_notes": 3}
    return rows


def adjacent_rows(units: Units) -> set[tuple[int, int]]:
    """Adjacent pairs as pairs of original row numbers."""
    first, second = units.adjacent_pairs()
    rows = units.events[:, 0, 0].astype(int)
    return set(zip(rows[first].tolist(), rows[second].tolist()))


ALL_PAIRS = {
    (p * PER_PIECE + k, p * PER_PIECE + k + 1)
    for p in range(N_PIECES)
    for k in range(PER_PIECE - 1)
}


# -- construction and shapes ---------------------------------------------------
def test_defaults_one_piece_in_row_order():
    units = Units(np.zeros((4, 2, 2), dtype=int))
    assert units.piece.tolist() == [0, 0, 0, 0]
    assert units.position.tolist() == [0, 1, 2, 3]
    assert units.variant.tolist() == [0, 0, 0, 0]
    assert units.n_events.tolist() == [2, 2, 2, 2]
    assert units.labels is None and units.kind == "notes" and units.meta == {}
    assert units.shape == (4, 2, 2) and units.ndim == 3 and len(units) == 4
    assert adjacent_rows(Units(np.arange(16).reshape(4, 2, 2) // 4)) == {
        (0, 1),
        (1, 2),
        (2, 3),
    }


@pytest.mark.parametrize("shape", [(4, 2), (4, 2, 3), (4,), (2, 2, 2, 2)])
def test_bad_event_shapes(shape):
    with pytest.raises(ValueError, match="shape"):
        Units(np.zeros(shape, dtype=int))


def test_bad_event_dtype_and_kind():
    with pytest.raises(TypeError, match="integers"):
        Units(np.zeros((2, 2, 2)))
    with pytest.raises(ValueError, match="kind"):
        Units(np.zeros((2, 2, 2), dtype=int), kind="bars")


@pytest.mark.parametrize("name", ["piece", "position", "variant", "n_events"])
def test_bad_columns(name):
    events = np.zeros((3, 2, 2), dtype=int)
    with pytest.raises(ValueError, match=name):
        Units(events, **{name: [0, 1]})
    with pytest.raises(TypeError, match=name):
        Units(events, **{name: [0.0, 1.0, 2.0]})


def test_bad_labels():
    with pytest.raises(ValueError, match="labels"):
        Units(np.zeros((3, 2, 2), dtype=int), labels=["a", "b"])


def test_meta_is_copied():
    meta = {"n_notes": 2}
    units = Units(np.zeros((1, 2, 2), dtype=int), meta=meta)
    meta["n_notes"] = 99
    assert units.meta == {"n_notes": 2}


# -- slicing -------------------------------------------------------------------
@pytest.mark.parametrize(
    "key, rows",
    [
        (3, [3]),
        (np.int64(7), [7]),
        (-1, [19]),
        (slice(2, 6), [2, 3, 4, 5]),
        (slice(None, None, -5), [19, 14, 9, 4]),
        ([4, 0, 4], [4, 0, 4]),
        (np.array([10, 2]), [10, 2]),
        (np.arange(20) % 7 == 0, [0, 7, 14]),
        ([], []),
        (np.array([], dtype=int), []),
        ((np.array([5, 1]), Ellipsis), [5, 1]),
        ((slice(0, 2), Ellipsis), [0, 1]),
    ],
)
def test_indexing_returns_aligned_units(key, rows):
    sub = make_units()[key]
    assert isinstance(sub, Units) and sub.kind == "notes"
    assert sub.shape == (len(rows), 3, 2)
    assert assert_aligned(sub).tolist() == rows


def test_indexing_other_axes_refused():
    units = make_units()
    with pytest.raises(IndexError, match="first axis"):
        units[0, 1]
    with pytest.raises(IndexError, match="first axis"):
        units[:, 0]


def test_not_iterable():
    with pytest.raises(TypeError, match="not iterable"):
        list(make_units())


def test_repr():
    assert repr(make_units()) == (
        "Units(kind='notes', n_units=20, events_per_unit=3, n_pieces=4, labelled=True)"
    )


# -- adjacency -----------------------------------------------------------------
def test_adjacency_survives_shuffling():
    units = make_units()
    assert adjacent_rows(units) == ALL_PAIRS
    perm = np.random.default_rng(0).permutation(len(units))
    shuffled = units[perm]
    assert adjacent_rows(shuffled) == ALL_PAIRS
    first, second = shuffled.adjacent_pairs()
    assert (shuffled.piece[first] == shuffled.piece[second]).all()
    assert (shuffled.position[second] == shuffled.position[first] + 1).all()


def test_adjacency_of_a_subset_only_pairs_present_neighbours():
    units = make_units()
    sub = units[np.array([0, 1, 3, 4, 5, 6])]  # row 2 missing; 4 -> 5 crosses pieces
    assert adjacent_rows(sub) == {(0, 1), (3, 4), (5, 6)}


def test_adjacency_needs_same_variant():
    events = np.zeros((4, 1, 2), dtype=int)
    units = Units(
        events, piece=[0, 0, 0, 0], position=[0, 1, 0, 1], variant=[0, 1, 1, 0]
    )
    first, second = units.adjacent_pairs()
    assert sorted(zip(first.tolist(), second.tolist())) == [(0, 3), (2, 1)]


def test_adjacency_with_duplicated_rows_gives_one_pair():
    units = make_units()[[0, 0, 1]]
    assert len(units.adjacent_pairs()[0]) == 1


# -- sklearn utilities ---------------------------------------------------------
def test_sklearn_safe_indexing_and_shuffle():
    units = make_units()
    sub = _safe_indexing(units, np.array([3, 1]))
    assert assert_aligned(sub).tolist() == [3, 1]
    shuffled = shuffle(units, random_state=0)
    rows = assert_aligned(shuffled)
    assert sorted(rows.tolist()) == list(range(20)) and rows.tolist() != list(range(20))
    assert adjacent_rows(shuffled) == ALL_PAIRS


def test_sklearn_train_test_split_keeps_columns_aligned():
    units = make_units()
    y = np.arange(20) * 10
    tr, te, y_tr, y_te = train_test_split(units, y, test_size=0.25, random_state=0)
    assert isinstance(tr, Units) and isinstance(te, Units)
    assert len(tr) == 15 and len(te) == 5
    assert (assert_aligned(tr) * 10 == y_tr).all()
    assert (assert_aligned(te) * 10 == y_te).all()
    tr, te = train_test_split(
        units, test_size=0.5, stratify=units.piece, random_state=1
    )
    assert sorted(np.bincount(te.piece - 100).tolist()) == [2, 2, 3, 3]


def test_sklearn_group_kfold_by_piece():
    units = make_units()
    seen = []
    for train, test in GroupKFold(n_splits=4).split(units, groups=units.piece):
        tr, te = units[train], units[test]
        assert not set(tr.piece) & set(te.piece)
        assert_aligned(tr)
        assert adjacent_rows(te) == {p for p in ALL_PAIRS if p[0] in set(test)}
        seen.extend(test.tolist())
    assert sorted(seen) == list(range(20))


# -- concatenation -------------------------------------------------------------
def test_concatenate_notes():
    units = make_units()
    both = Units.concatenate([units[:5], units[15:]])
    assert assert_aligned(both).tolist() == [0, 1, 2, 3, 4, 15, 16, 17, 18, 19]


def test_concatenate_beats_pads_events():
    a = Units(np.array([[[60, 0]]]), n_events=[1], kind="beats")
    b = Units(
        np.array([[[60, 0], [64, 12], [67, 24]]]), n_events=[3], kind="beats", piece=[1]
    )
    both = Units.concatenate([a, b])
    assert both.shape == (2, 3, 2)
    assert both.events[0].tolist() == [[60, 0], [PAD, PAD], [PAD, PAD]]
    assert both.n_events.tolist() == [1, 3]
    assert both.piece.tolist() == [0, 1]


def test_concatenate_errors():
    notes = make_units()
    with pytest.raises(ValueError, match="at least one"):
        Units.concatenate([])
    with pytest.raises(ValueError, match="kinds"):
        Units.concatenate([notes, make_units("beats")])
    with pytest.raises(ValueError, match="different lengths"):
        Units.concatenate([notes, Units(np.zeros((1, 5, 2), dtype=int))])
    with pytest.raises(ValueError, match="labelled"):
        Units.concatenate([notes, Units(np.zeros((1, 3, 2), dtype=int))])
