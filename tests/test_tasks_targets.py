"""Targets of the probing tasks: unit_chroma and unit_duration."""

from __future__ import annotations

import numpy as np
import pytest

from sklearn_musemb.tasks.targets import unit_chroma, unit_duration
from sklearn_musemb.units.container import PAD, Units


def hand_units():
    """Two note units of 4 events; the second has 3 real events and one stray.

    Row 0: C4, E4 (a chord with the next note: interval 0), C5, B3.
    Row 1: D4, D5, F#4, then a padding event that says C#4 and 9999 ms.
    """
    events = np.array(
        [
            [[60, 500], [64, 0], [72, 250], [59, 1000]],
            [[62, 100], [74, 200], [66, 300], [61, 9999]],
        ],
        dtype=np.int16,
    )
    return Units(events, piece=[0, 0], position=[0, 1], n_events=[4, 3])


def loop_chroma(units):
    """Per-unit reference of the count chroma (the slow, obvious way)."""
    out = np.zeros((len(units), 12))
    for i in range(len(units)):
        for pitch, _ in units.events[i, : units.n_events[i]]:
            out[i, pitch % 12] += 1
    return out


# -- unit_chroma -----------------------------------------------------------------------


def test_chroma_counts_every_real_event_once_by_pitch_class():
    counts = unit_chroma(hand_units(), norm=None)
    expected = np.zeros((2, 12))
    expected[0, [0, 4, 11]] = [2, 1, 1]  # C4 and C5 share C; the chord note counts
    expected[1, [2, 6]] = [2, 1]  # the padding C#4 does not count
    np.testing.assert_array_equal(counts, expected)
    assert counts.dtype == np.float64


def test_chroma_norms():
    units = hand_units()
    l1 = unit_chroma(units)  # default
    np.testing.assert_allclose(l1[0, [0, 4, 11]], [0.5, 0.25, 0.25])
    np.testing.assert_allclose(l1[1, [2, 6]], [2 / 3, 1 / 3])
    l2 = unit_chroma(units, norm="l2")
    np.testing.assert_allclose(l2[0, [0, 4, 11]], np.array([2, 1, 1]) / np.sqrt(6))
    np.testing.assert_allclose(np.linalg.norm(l2, axis=1), 1.0)


def test_chroma_of_a_unit_without_events_is_zero_in_every_norm():
    units = Units(np.full((2, 3, 2), PAD), n_events=[0, 1], kind="beats")
    units.events[1, 0] = [67, 0]
    for norm in ("l1", "l2", None):
        chroma = unit_chroma(units, norm=norm)
        np.testing.assert_array_equal(chroma[0], 0.0)
        assert chroma[1, 7] == 1.0 and chroma[1].sum() == 1.0


def test_chroma_matches_a_per_unit_loop_on_random_padded_units():
    rng = np.random.default_rng(0)
    events = np.stack(
        [rng.integers(0, 128, (50, 9)), rng.integers(0, 2000, (50, 9))], axis=-1
    )
    n_events = rng.integers(0, 10, 50)
    events[np.arange(9) >= n_events[:, None]] = PAD
    units = Units(events, n_events=n_events, kind="beats")
    np.testing.assert_array_equal(unit_chroma(units, norm=None), loop_chroma(units))


def test_chroma_rows_follow_the_units_through_slicing():
    units = hand_units()
    idx = [1, 0, 1]
    np.testing.assert_array_equal(unit_chroma(units[idx]), unit_chroma(units)[idx])


def test_chroma_refuses_bad_input():
    with pytest.raises(TypeError, match="unit_chroma needs Units"):
        unit_chroma(hand_units().events)
    with pytest.raises(ValueError, match="norm must be one of"):
        unit_chroma(hand_units(), norm="max")
    bad = Units(np.array([[[-3, 100]]]))
    with pytest.raises(ValueError, match="negative pitches"):
        unit_chroma(bad)
    with pytest.raises(ValueError, match=r"n_events must lie in 0..1"):
        unit_chroma(Units(np.array([[[60, 100]]]), n_events=[2]))


# -- unit_duration ---------------------------------------------------------------------


def test_duration_sums_the_real_intervals_in_seconds():
    np.testing.assert_allclose(unit_duration(hand_units()), [1.75, 0.6])


def test_duration_rows_follow_the_units_through_slicing():
    units = hand_units()
    np.testing.assert_array_equal(unit_duration(units[[1, 0]]), [0.6, 1.75])


def test_duration_refuses_beat_units_arrays_and_negative_intervals():
    with pytest.raises(ValueError, match="needs note units.*kind='beats'"):
        unit_duration(Units(np.zeros((1, 2, 2), dtype=int), kind="beats"))
    with pytest.raises(TypeError, match="unit_duration needs Units"):
        unit_duration(np.zeros((1, 2, 2), dtype=int))
    with pytest.raises(ValueError, match="negative inter-onset"):
        unit_duration(Units(np.array([[[60, -5], [62, 100]]])))
    # a negative stray value in the padding is ignored
    units = Units(np.array([[[60, 100], [62, -1]]]), n_events=[1])
    np.testing.assert_allclose(unit_duration(units), [0.1])
