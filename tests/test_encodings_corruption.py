"""The three corruptions of the denoising piano-roll models (Bretan et al. 4.1)."""

from __future__ import annotations

import pytest
import torch

from sklearn_musemb.encodings.corruption import (
    CORRUPTIONS,
    LOWER_OCTAVE_ROWS,
    TICKS_PER_BEAT,
    beat_drop,
    note_drop,
    octave_split,
)

DEVICES = [
    "cpu",
    pytest.param(
        "cuda",
        marks=pytest.mark.skipif(
            not torch.cuda.is_available(), reason="needs a CUDA device"
        ),
    ),
]


def gen(seed: int = 0, device: str = "cpu") -> torch.Generator:
    return torch.Generator(device=device).manual_seed(seed)


def random_rolls(n=64, density=0.2, seed=100, device="cpu", dtype=torch.float32):
    # seeds of the rolls differ from those of the corruptions (gen): drawn from the
    # same seed, "cell < 0.2" and note_drop's "cell >= 0.5" would never overlap
    g = torch.Generator().manual_seed(seed)
    roll = (torch.rand(n, 60, 96, generator=g) < density).to(dtype)
    return roll.to(device)


def test_registry_names_the_three_corruptions():
    assert CORRUPTIONS == {
        "note_drop": note_drop,
        "beat_drop": beat_drop,
        "octave_split": octave_split,
    }
    assert (TICKS_PER_BEAT, LOWER_OCTAVE_ROWS) == (24, 24)


# ------------------------------------------------------------------ note drop
def test_note_drop_keeps_about_half_the_onsets_and_adds_none():
    roll = random_rolls(n=64, density=0.2)
    out = note_drop(roll, gen(0))
    # never an onset where there was none, and kept onsets keep their value
    assert not ((out != 0) & (roll == 0)).any()
    kept = (out != 0) & (roll != 0)
    assert torch.equal(out[kept], roll[kept])
    fraction = kept.sum().item() / (roll != 0).sum().item()
    assert 0.47 < fraction < 0.53  # ~70 000 onsets: sd of the fraction ~0.002


def test_note_drop_decides_per_onset_not_per_unit():
    out = note_drop(torch.ones(200, 60, 96), gen(1))
    per_unit = out.mean(dim=(1, 2))
    # every unit loses about half its onsets (not all or nothing)
    assert ((per_unit > 0.4) & (per_unit < 0.6)).all()


def test_note_drop_rate_is_the_drop_probability():
    roll = torch.ones(10, 60, 96)
    assert torch.equal(note_drop(roll, gen(0), rate=0.0), roll)
    assert not note_drop(roll, gen(0), rate=1.0).any()
    kept = note_drop(roll, gen(0), rate=0.9).mean().item()
    assert 0.08 < kept < 0.12


def test_note_drop_keeps_non_binary_values():
    # a context target sums two rolls: cells of 2 are dropped or kept whole
    roll = 2 * random_rolls(n=8, density=0.3)
    out = note_drop(roll, gen(3))
    assert set(out.unique().tolist()) <= {0.0, 2.0}


# ------------------------------------------------------------------ beat drop
def test_beat_drop_zeroes_exactly_one_whole_beat_per_unit():
    n = 200
    out = beat_drop(torch.ones(n, 60, 96), gen(0))
    beats = out.view(n, 60, 4, 24)
    zero_beat = (beats == 0).all(dim=(1, 3))  # (n, 4): which beats are all zero
    one_beat = (beats == 1).all(dim=(1, 3))
    assert (zero_beat.sum(1) == 1).all()
    assert (one_beat.sum(1) == 3).all()  # the other three untouched
    assert ((out == 0).sum(dim=(1, 2)) == 60 * 24).all()
    # each of the four beats is chosen for some unit
    assert set(zero_beat.float().argmax(1).tolist()) == {0, 1, 2, 3}


def test_beat_drop_leaves_the_other_beats_of_a_random_roll_equal():
    n = 100
    roll = random_rolls(n=n, density=0.3, seed=5)
    out = beat_drop(roll, gen(2))
    changed = (out != roll).view(n, 60, 4, 24).any(dim=(1, 3))  # (n, 4)
    # at most one beat changes per unit, and only towards silence
    assert (changed.sum(1) <= 1).all()
    assert not ((out != 0) & (roll == 0)).any()
    # the dropped beat is silent: every unit has one all-zero beat
    silent = (out.view(n, 60, 4, 24) == 0).all(dim=(1, 3))
    assert silent.any(1).all()
    for i in range(n):
        dropped = changed[i].nonzero().flatten().tolist()
        assert all(silent[i, b] for b in dropped)


def test_beat_drop_ticks_per_beat_parameter():
    out = beat_drop(torch.ones(50, 12, 48), gen(0), ticks_per_beat=12)
    assert ((out == 0).sum(dim=(1, 2)) == 12 * 12).all()
    beats = (out.view(50, 12, 4, 12) == 0).all(dim=(1, 3))
    assert (beats.sum(1) == 1).all()


# ------------------------------------------------------------- octave split
def test_octave_split_zeroes_low_or_high_rows_per_unit():
    n = 400
    out = octave_split(torch.ones(n, 60, 96), gen(0))
    low, high = out[:, :24], out[:, 24:]
    low_dropped = (low == 0).all(dim=(1, 2)) & (high == 1).all(dim=(1, 2))
    high_dropped = (high == 0).all(dim=(1, 2)) & (low == 1).all(dim=(1, 2))
    # every unit is exactly one of the two cases
    assert (low_dropped ^ high_dropped).all()
    # both occur, about equally often
    assert 0.4 < low_dropped.float().mean().item() < 0.6


def test_octave_split_keeps_the_other_hand_of_a_random_roll():
    roll = random_rolls(n=100, density=0.3, seed=107)
    out = octave_split(roll, gen(4))
    low_zero = (out[:, :24] == 0).all(dim=(1, 2))
    high_zero = (out[:, 24:] == 0).all(dim=(1, 2))
    assert (low_zero | high_zero).all()
    kept_low = torch.equal(out[high_zero, :24], roll[high_zero, :24])
    kept_high = torch.equal(out[~high_zero, 24:], roll[~high_zero, 24:])
    assert kept_low and kept_high
    assert high_zero.any() and (~high_zero).any()


def test_octave_split_row_parameter():
    out = octave_split(torch.ones(100, 36, 8), gen(0), split_row=12)
    kept_rows = out.sum(dim=(1, 2)) / 8
    assert set(kept_rows.tolist()) == {12.0, 24.0}


# ------------------------------------------------------- shared properties
@pytest.mark.parametrize("name", sorted(CORRUPTIONS))
def test_same_generator_seed_gives_the_same_corruption(name):
    corrupt = CORRUPTIONS[name]
    roll = random_rolls(n=32, density=0.3)
    a = corrupt(roll, gen(11))
    b = corrupt(roll, gen(11))
    assert torch.equal(a, b)
    # a different seed gives a different corruption of 32 units
    assert not torch.equal(a, corrupt(roll, gen(12)))
    # the generator advances: two calls in a row differ
    g = gen(11)
    assert not torch.equal(corrupt(roll, g), corrupt(roll, g))


@pytest.mark.parametrize("name", sorted(CORRUPTIONS))
def test_corruption_does_not_use_the_global_generator(name):
    roll = random_rolls(n=16, density=0.3)
    torch.manual_seed(0)
    a = CORRUPTIONS[name](roll, gen(5))
    torch.manual_seed(1)
    b = CORRUPTIONS[name](roll, gen(5))
    assert torch.equal(a, b)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("name", sorted(CORRUPTIONS))
def test_corruption_keeps_device_dtype_and_shape_and_copies(name, dtype, device):
    roll = random_rolls(n=8, density=0.3, device=device, dtype=dtype)
    original = roll.clone()
    out = CORRUPTIONS[name](roll, gen(0, device))
    assert out.device == roll.device
    assert out.dtype == dtype
    assert out.shape == roll.shape
    assert torch.equal(roll, original)  # the input is not corrupted in place
    assert out.data_ptr() != roll.data_ptr()
    assert (out != roll).any()  # something was corrupted
