"""Chord grouping and the tempo-free ``relative`` encoding (CPU tensors)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sklearn_musemb.encodings import (
    N_PITCH_BINS,
    RELATIVE_DIM,
    REPRESENTATIONS,
    event_dim,
    group_chords,
    relative,
    relative_intervals,
    two_hot_bins,
)
from sklearn_musemb.units import PerformanceModel, Units


def events(rows) -> torch.Tensor:
    return torch.tensor(rows, dtype=torch.int16)


# -- group_chords ----------------------------------------------------------------------
def test_spread_chord_in_any_order_equals_the_quantised_chord():
    quantised = events([[[60, 0], [64, 0], [67, 500], [65, 500]]])
    rng = np.random.default_rng(0)
    for _ in range(10):
        order = rng.permutation(3)
        gaps = rng.integers(1, 15, 2)  # the chord's notes within 30 ms
        pitch = np.array([60, 64, 67])[order]
        spread = [
            [pitch[0], gaps[0]],
            [pitch[1], gaps[1]],
            [pitch[2], 500 - gaps.sum()],
            [65, 500],
        ]
        grouped = group_chords(events([spread]), chord_ms=30)
        assert grouped.dtype == torch.int16
        np.testing.assert_array_equal(grouped.numpy(), quantised.numpy())


def test_docstring_example_and_several_chords_per_unit():
    spread = events([[[67, 12], [60, 9], [64, 479], [65, 500]]])
    assert group_chords(spread, 30).tolist() == [
        [[60, 0], [64, 0], [67, 500], [65, 500]]
    ]
    # two chords, a lone note between them, another unit in the batch
    batch = events(
        [
            [[72, 20], [48, 230], [62, 250], [59, 3], [55, 4], [50, 493]],
            [[60, 100], [62, 100], [64, 100], [65, 100], [67, 100], [69, 0]],
        ]
    )
    out = group_chords(batch, 35)
    assert out[0].tolist() == [
        [48, 0],
        [72, 250],
        [62, 250],
        [50, 0],
        [55, 0],
        [59, 500],
    ]
    # nothing closer than 35 ms; the final 0 ("no next note") stays a lone note
    assert out[1].tolist() == batch[1].tolist()


def test_chord_ms_zero_is_identity_and_ints_keep_dtype():
    rng = np.random.default_rng(0)
    x = torch.as_tensor(
        np.stack([rng.integers(30, 100, (5, 9)), rng.integers(0, 40, (5, 9))], -1)
    )
    assert group_chords(x, 0) is x
    assert group_chords(x, -1.0) is x
    for dtype in (torch.int16, torch.int32, torch.int64):
        assert group_chords(x.to(dtype), 20).dtype == dtype


def test_grouping_keeps_the_multiset_of_pitches_and_the_total_time():
    rng = np.random.default_rng(1)
    x = torch.as_tensor(
        np.stack([rng.integers(30, 100, (50, 12)), rng.integers(0, 80, (50, 12))], -1)
    )
    out = group_chords(x, 35)
    np.testing.assert_array_equal(
        np.sort(out[..., 0].numpy(), 1), np.sort(x[..., 0].numpy(), 1)
    )
    np.testing.assert_array_equal(out[..., 1].sum(1).numpy(), x[..., 1].sum(1).numpy())
    # no interval left under the threshold but the zeros inside chords (the last
    # chord of a unit may end early: its next note is not in the unit)
    ioi = out[..., 1].numpy()[:, :-1]
    assert ((ioi == 0) | (ioi >= 35)).all()


def test_grouping_undoes_performed_asynchrony():
    # quantised units whose chords are in pitch order (as segment_notes cuts them)
    rng = np.random.default_rng(0)
    n, width = 40, 8
    ioi = rng.choice([0, 250, 500], (n, width))
    ioi[:, -1] = 500  # no chord across units
    pitch = rng.integers(40, 90, (n, width))
    for unit_p, unit_i in zip(pitch, ioi, strict=True):
        start = 0
        for i in range(width):
            if unit_i[i] != 0:
                unit_p[start : i + 1] = np.sort(unit_p[start : i + 1])
                start = i + 1
    units = Units(np.stack([pitch, ioi], -1), piece=np.arange(n))
    played = PerformanceModel(asynchrony_ms=30, random_state=0).perform_units(units)
    assert (played.events != units.events).any()
    grouped = group_chords(torch.as_tensor(played.events), 35).numpy()
    np.testing.assert_array_equal(grouped[..., 0], units.events[..., 0])
    assert np.abs(grouped[..., 1] - units.events[..., 1]).max() <= 1


# -- relative --------------------------------------------------------------------------
def test_relative_width_bins_and_chord_flag():
    x = events([[[60, 500], [64, 0], [67, 1000], [100, 250]]])
    out = relative(x)
    assert out.shape == (1, 4, RELATIVE_DIM) == (1, 4, 98)
    assert out.dtype == torch.float32
    assert event_dim("relative") == 98
    pitch_part = out[0, :, :N_PITCH_BINS]
    expected = two_hot_bins(x)[0][0]
    np.testing.assert_array_equal(pitch_part.argmax(-1).numpy(), expected.numpy())
    assert (pitch_part.sum(-1) == 1).all()
    interval_part = out[0, :, N_PITCH_BINS:-1]
    flag = out[0, :, -1]
    assert flag.tolist() == [0.0, 1.0, 0.0, 0.0]
    np.testing.assert_allclose(interval_part.sum(-1).numpy(), [1, 0, 1, 1], atol=1e-6)
    # median of 500, 1000, 250 is 500: log2 ratios 0, +1, -1 -> centres 12, 16, 8
    assert interval_part.argmax(-1)[[0, 2, 3]].tolist() == [12, 16, 8]


def test_relative_intervals_against_numpy():
    rng = np.random.default_rng(0)
    ioi = rng.choice([0, 90, 250, 333, 1200], (20, 9))
    ratio, chord = relative_intervals(torch.as_tensor(ioi))
    for row, r, c in zip(ioi, ratio.numpy(), chord.numpy(), strict=True):
        nonzero = row[row > 0]
        np.testing.assert_array_equal(c, row == 0)
        if len(nonzero) == 0:
            np.testing.assert_array_equal(r, 0)
            continue
        # torch's median of an even count is the lower middle value
        median = np.sort(nonzero)[(len(nonzero) - 1) // 2]
        expected = np.where(row > 0, np.log2(np.maximum(row, 1) / median), 0.0)
        np.testing.assert_allclose(r, expected, atol=1e-6)


def test_relative_is_invariant_to_a_global_tempo():
    rng = np.random.default_rng(0)
    pitch = rng.integers(30, 100, (30, 10))
    ioi = rng.choice([0, 4, 100, 248, 500, 1000], (30, 10))
    x = torch.as_tensor(np.stack([pitch, ioi], -1))
    # intervals divisible by 4: x1.25 is exact
    slower = torch.as_tensor(np.stack([pitch, ioi * 5 // 4], -1))
    torch.testing.assert_close(relative(slower), relative(x), rtol=0, atol=1e-6)
    # arbitrary intervals: x1.25 rounded to whole ms moves the code a little
    ioi = rng.integers(0, 1500, (30, 10))
    ioi[ioi < 60] = 0
    x = torch.as_tensor(np.stack([pitch, ioi], -1))
    slower = torch.as_tensor(np.stack([pitch, np.rint(ioi * 1.25).astype(int)], -1))
    diff = (relative(slower) - relative(x)).abs()
    assert diff.max() < 0.02
    # while the two-hot bins of the same change are far apart
    assert (two_hot_bins(slower)[1] != two_hot_bins(x)[1]).float().mean() > 0.5


def test_relative_is_invariant_to_a_performed_tempo_change():
    rng = np.random.default_rng(0)
    units = Units(
        np.stack(
            [rng.integers(40, 90, (20, 8)), rng.choice([200, 400, 800], (20, 8))], -1
        ),
        piece=np.arange(20),
    )
    played = PerformanceModel(tempo=1.25).perform_units(units)
    np.testing.assert_array_equal(played.events[..., 1], units.events[..., 1] * 5 // 4)
    torch.testing.assert_close(
        relative(torch.as_tensor(played.events)),
        relative(torch.as_tensor(units.events)),
    )


@pytest.mark.parametrize(
    "ioi",
    [[0, 0, 0, 0], [0, 0, 0, 32767], [1, 0, 32767, 0], [32767, 32767, 32767, 32767]],
)
def test_relative_is_finite_on_degenerate_units(ioi):
    x = events([[[60, i] for i in ioi], [[0, 0], [127, 0], [24, 0], [95, 0]]])
    out = relative(x)
    assert torch.isfinite(out).all()
    assert out.shape == (2, 4, 98)
    # all-zero intervals: every note is in a chord, no interval mass
    assert (out[1, :, -1] == 1).all() and (out[1, :, N_PITCH_BINS:-1] == 0).all()


def test_relative_runs_on_cpu_and_follows_the_input_device():
    x = events([[[60, 100], [62, 200]]])
    out = relative(x)
    assert out.device.type == "cpu"
    assert group_chords(x, 35).device.type == "cpu"


def test_event_dim_of_every_representation():
    assert REPRESENTATIONS == ("two_hot", "continuous", "relative")
    assert [event_dim(r) for r in REPRESENTATIONS] == [272, 2, 98]
    with pytest.raises(ValueError, match="representation"):
        event_dim("absolute")
