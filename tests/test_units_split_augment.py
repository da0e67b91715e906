"""Piece-level train/test split, transposition and tempo augmentation of Units."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.utils import get_tags
from sklearn.utils.estimator_checks import (
    check_get_params_invariance,
    check_no_attributes_set_in_init,
    check_parameters_default_constructible,
    check_set_params,
)

from sklearn_musemb.units import (
    PAD,
    TempoScaler,
    Transposer,
    Units,
    piece_train_test_split,
)

PIECES_PER_LABEL = {"a": 3, "b": 5, "c": 4}
PER_PIECE = 3


def labelled_units(per_label=PIECES_PER_LABEL) -> Units:
    """Three units per piece; piece ids 10, 20, ... so they are not row numbers."""
    piece_label = np.concatenate([[lab] * n for lab, n in per_label.items()])
    n_pieces = len(piece_label)
    n = n_pieces * PER_PIECE
    events = np.zeros((n, 4, 2), dtype=np.int16)
    events[:, :, 0] = 60 + np.arange(4)
    events[:, :, 1] = 250
    return Units(
        events,
        piece=np.repeat(np.arange(n_pieces) * 10 + 10, PER_PIECE),
        position=np.tile(np.arange(PER_PIECE), n_pieces),
        labels=np.repeat(piece_label, PER_PIECE),
    )


def pieces_per_label(units: Units) -> dict[str, int]:
    pieces, first = np.unique(units.piece, return_index=True)
    labels, counts = np.unique(units.labels[first], return_counts=True)
    return dict(zip(labels.tolist(), counts.tolist()))


# -- piece_train_test_split ----------------------------------------------------
def test_split_holds_out_whole_pieces_per_label():
    units = labelled_units()
    train, test = piece_train_test_split(units, random_state=0)
    assert pieces_per_label(test) == {"a": 2, "b": 2, "c": 2}
    assert pieces_per_label(train) == {"a": 1, "b": 3, "c": 2}
    assert not set(train.piece) & set(test.piece)
    assert len(train) + len(test) == len(units)
    assert (np.bincount(test.piece)[np.unique(test.piece)] == PER_PIECE).all()


def test_split_is_deterministic_and_seed_dependent():
    units = labelled_units()
    first = piece_train_test_split(units, random_state=3, return_indices=True)
    again = piece_train_test_split(units, random_state=3, return_indices=True)
    assert all((x == y).all() for x, y in zip(first, again))
    rng = np.random.RandomState(0)
    draws = {
        tuple(piece_train_test_split(units, random_state=rng, return_indices=True)[1])
        for _ in range(10)
    }
    assert len(draws) > 1


def test_split_indices_match_units():
    units = labelled_units()
    train_idx, test_idx = piece_train_test_split(
        units, random_state=0, return_indices=True
    )
    train, test = piece_train_test_split(units, random_state=0)
    assert (np.diff(train_idx) > 0).all() and (np.diff(test_idx) > 0).all()
    assert sorted(np.r_[train_idx, test_idx].tolist()) == list(range(len(units)))
    assert (units.piece[train_idx] == train.piece).all()
    assert (units.piece[test_idx] == test.piece).all()


def test_split_test_size_fraction():
    units = labelled_units()
    _, test = piece_train_test_split(units, test_size=0.5, random_state=0)
    assert pieces_per_label(test) == {"a": 2, "b": 3, "c": 2}
    _, test = piece_train_test_split(
        units, n_test_pieces=1, test_size=0.3, random_state=0
    )
    assert pieces_per_label(test) == {"a": 1, "b": 2, "c": 2}


def test_split_small_label_raises_or_goes_to_train():
    units = labelled_units()
    with pytest.raises(ValueError, match=r"'a' \(3 pieces, needs 4\)"):
        piece_train_test_split(units, n_test_pieces=3)
    train, test = piece_train_test_split(
        units, n_test_pieces=3, small_labels="train", random_state=0
    )
    assert pieces_per_label(test) == {"b": 3, "c": 3}
    assert pieces_per_label(train) == {"a": 3, "b": 2, "c": 1}


def test_split_unstratified():
    units = labelled_units()
    unlabelled = Units(units.events, piece=units.piece, position=units.position)
    train, test = piece_train_test_split(unlabelled, stratify=None, random_state=0)
    assert len(np.unique(test.piece)) == 2 and len(np.unique(train.piece)) == 10
    with pytest.raises(ValueError, match="labelled"):
        piece_train_test_split(unlabelled)


def test_split_piece_with_two_labels_raises():
    units = labelled_units()
    labels = units.labels.copy()
    labels[1] = "b"
    mixed = Units(units.events, piece=units.piece, labels=labels)
    with pytest.raises(ValueError, match="piece 10"):
        piece_train_test_split(mixed)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n_test_pieces": 0}, "n_test_pieces"),
        ({"n_test_pieces": 1.5}, "n_test_pieces"),
        ({"test_size": 1.0}, "test_size"),
        ({"test_size": 0}, "test_size"),
        ({"test_size": float("nan")}, "test_size"),
        ({"test_size": float("inf")}, "test_size"),
        ({"stratify": "composer"}, "stratify"),
        ({"small_labels": "drop"}, "small_labels"),
    ],
)
def test_split_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        piece_train_test_split(labelled_units(), **kwargs)


def test_split_refuses_arrays():
    with pytest.raises(TypeError, match="piece_train_test_split needs Units"):
        piece_train_test_split(np.zeros((4, 2, 2)))


def test_split_keeps_augmented_copies_with_their_piece():
    augmented = Transposer().fit_transform(labelled_units())
    train, test = piece_train_test_split(augmented, random_state=0)
    assert not set(train.piece) & set(test.piece)
    for side in (train, test):
        for pid in np.unique(side.piece):
            assert sorted(np.unique(side.variant[side.piece == pid])) == list(range(12))
    assert len(test) == 6 * PER_PIECE * 12


# -- Transposer ----------------------------------------------------------------
def test_transposer_notes_twelve_exact_copies():
    units = labelled_units()
    out = Transposer().fit_transform(units)
    n = len(units)
    assert len(out) == 12 * n and out.kind == "notes"
    for s, shift in enumerate(range(-6, 6)):
        copy = out[s * n : (s + 1) * n]
        assert (copy.events[..., 0] == units.events[..., 0] + shift).all()
        assert (copy.events[..., 1] == units.events[..., 1]).all()
        assert (copy.variant == s).all()
        assert (copy.piece == units.piece).all()
        assert (copy.position == units.position).all()
        assert (copy.labels == units.labels).all()
        assert (copy.n_events == units.n_events).all()
    assert out.events.dtype == units.events.dtype
    assert out.meta["shifts"] == list(range(-6, 6))


def test_transposer_adjacency_only_within_a_copy():
    units = labelled_units()
    out = Transposer().fit_transform(units)
    first, second = out.adjacent_pairs()
    orig_first, orig_second = units.adjacent_pairs()
    assert len(first) == 12 * len(orig_first)
    # every copy has exactly the pairs of the original, at its own rows
    assert (
        np.bincount(out.variant[first], minlength=12).tolist() == [len(orig_first)] * 12
    )
    n = len(units)
    expected = sorted(
        (s * n + i, s * n + j)
        for s in range(12)
        for i, j in zip(orig_first.tolist(), orig_second.tolist())
    )
    assert sorted(zip(first.tolist(), second.tolist())) == expected


def test_transposer_notes_fold_only_outside_midi_range():
    units = Units(np.array([[[2, 10], [125, 20], [127, 0]]]))
    out = Transposer(shifts=[-6, 0, 5]).fit_transform(units)
    assert out.events[:, :, 0].tolist() == [[8, 119, 121], [2, 125, 127], [7, 118, 108]]


def test_transposer_beats_refold_resort_and_dedupe():
    events = np.array(
        [
            [[60, 0], [95, 0], [72, 24]],
            [[83, 0], [95, 0], [PAD, PAD]],
            [[90, 5], [95, 5], [PAD, PAD]],
        ]
    )
    units = Units(
        events, n_events=[3, 2, 2], kind="beats", meta={"pitch_range": (36, 96)}
    )
    out = Transposer(shifts=[0, 1, 2]).fit_transform(units)
    assert out[0:3].events[:, :3].tolist() == events.tolist()
    plus_one = out[3:6]
    assert plus_one.events[0, :3].tolist() == [[61, 0], [84, 0], [73, 24]]
    assert plus_one.events[1, :3].tolist() == [[84, 0], [PAD, PAD], [PAD, PAD]]
    assert plus_one.events[2, :3].tolist() == [[84, 5], [91, 5], [PAD, PAD]]
    assert plus_one.n_events.tolist() == [3, 1, 2]
    plus_two = out[6:9]
    assert plus_two.events[2, :2].tolist() == [[85, 5], [92, 5]]


def test_transposer_beats_uses_meta_pitch_range():
    units = Units(np.array([[[30, 0]]]), kind="beats", meta={"pitch_range": (24, 48)})
    out = Transposer(shifts=[-7, 18]).fit_transform(units)
    assert out.events[:, 0, 0].tolist() == [35, 36]


def test_transposer_variants_compose():
    units = labelled_units()
    twice = Transposer(shifts=[0, 1]).fit_transform(
        Transposer(shifts=[0, 1]).fit_transform(units)
    )
    n = len(units)
    assert twice.variant.tolist() == [0] * n + [2] * n + [1] * n + [3] * n
    assert len(twice.adjacent_pairs()[0]) == 4 * len(units.adjacent_pairs()[0])


@pytest.mark.parametrize("shifts", [[], [1, 1], [0.5], ["a"], 3, [True]])
def test_transposer_invalid_shifts(shifts):
    with pytest.raises(ValueError, match="shifts"):
        Transposer(shifts=shifts).fit(labelled_units())


@pytest.mark.parametrize("transformer", [Transposer(), TempoScaler()])
def test_augmenters_refuse_plain_arrays(transformer):
    message = f"{type(transformer).__name__} needs Units"
    with pytest.raises(TypeError, match=message):
        transformer.fit(np.zeros((4, 40, 2)))
    with pytest.raises(TypeError, match=message):
        transformer.transform(np.zeros((4, 80)))


@pytest.mark.parametrize("transformer", [Transposer(), TempoScaler(random_state=0)])
def test_augmenters_are_sklearn_citizens(transformer):
    name = type(transformer).__name__
    check_no_attributes_set_in_init(name, transformer)
    check_parameters_default_constructible(name, transformer)
    check_get_params_invariance(name, transformer)
    check_set_params(name, transformer)
    assert get_tags(transformer).requires_fit is False
    units = labelled_units()
    assert transformer.fit(units) is transformer
    expected = transformer.transform(units).events
    assert not np.array_equal(expected[: len(units)], units.events)  # it did move
    # an unfitted clone (no fit needed) gives the same output
    np.testing.assert_array_equal(clone(transformer).transform(units).events, expected)


# -- TempoScaler ---------------------------------------------------------------
def tempo_units() -> Units:
    """Two pieces, two variants each, large IOIs so that factors are precise."""
    events = np.zeros((8, 3, 2), dtype=np.int16)
    events[:, :, 0] = 60
    events[:, :, 1] = [10000, 20000, 0]
    return Units(
        events,
        piece=[0, 0, 0, 0, 1, 1, 1, 1],
        variant=[0, 0, 1, 1, 0, 0, 1, 1],
        position=[0, 1, 0, 1, 0, 1, 0, 1],
        labels=list("aaaabbbb"),
    )


def test_tempo_scaler_one_factor_per_piece_and_variant_within_range():
    units = tempo_units()
    out = TempoScaler(random_state=0).fit_transform(units)
    factor = out.events[:, 0, 1] / 10000
    assert ((factor >= 0.95) & (factor <= 1.05)).all()
    assert np.allclose(out.events[:, 1, 1] / 20000, factor, atol=1e-4)
    assert (out.events[:, 2, 1] == 0).all()
    per_group = factor.reshape(4, 2)
    assert (per_group[:, 0] == per_group[:, 1]).all()  # both units of a group
    assert len(np.unique(per_group[:, 0])) == 4  # groups differ
    assert (out.events[..., 0] == 60).all()
    for name in ("piece", "variant", "position", "labels", "n_events"):
        assert (getattr(out, name) == getattr(units, name)).all()
    assert (units.events[:, 0, 1] == 10000).all()  # input untouched


def test_tempo_scaler_deterministic():
    units = tempo_units()
    a = TempoScaler(random_state=42).fit_transform(units)
    b = TempoScaler(random_state=42).fit_transform(units)
    c = TempoScaler(random_state=7).fit_transform(units)
    assert (a.events == b.events).all()
    assert not (a.events == c.events).all()


def test_tempo_scaler_rounding_and_clipping():
    units = Units(np.array([[[60, 3], [62, 5], [64, 32000]]], dtype=np.int16))
    out = TempoScaler(low=1.5, high=1.5).fit_transform(units)
    assert out.events[0, :, 1].tolist() == [4, 8, 32767]


def test_tempo_scaler_refuses_beats():
    units = Units(np.zeros((2, 2, 2), dtype=int), kind="beats")
    with pytest.raises(ValueError, match="tick"):
        TempoScaler().fit(units)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"low": 1.1, "high": 1.0}, "low must not exceed high"),
        ({"low": 0}, "low"),
        ({"high": -1.0}, "high"),
        ({"low": True}, "low"),
        ({"high": "fast"}, "high"),
        ({"low": float("nan")}, "low must be a finite number > 0"),
        ({"high": float("nan")}, "high must be a finite number > 0"),
        ({"low": float("inf")}, "low must be a finite number > 0"),
        ({"high": float("inf")}, "high must be a finite number > 0"),
        ({"low": -float("inf")}, "low must be a finite number > 0"),
    ],
)
def test_tempo_scaler_invalid_parameters(params, match):
    with pytest.raises(ValueError, match=match):
        TempoScaler(**params).fit_transform(tempo_units())
