"""Corruptions of piano rolls for denoising autoencoders (Bretan et al. 2017, 4.1).

Each function takes a batch of rolls ``(n, n_pitches, n_ticks)`` on the device and
a ``torch.Generator`` there, and returns a corrupted copy; the random choices are
drawn per unit in one call, with no Python loop over units.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

#: Ticks per beat of the paper's rolls (a beat drop zeroes this many columns).
TICKS_PER_BEAT = 24
#: Rows of the two lowest octaves of a 60-pitch roll starting at MIDI 36.
LOWER_OCTAVE_ROWS = 24


def note_drop(
    roll: torch.Tensor, generator: torch.Generator, rate: float = 0.5
) -> torch.Tensor:
    """Zero each onset with probability ``rate`` (the paper's 50% note drop).

    Examples
    --------
    >>> import torch
    >>> g = torch.Generator().manual_seed(0)
    >>> roll = torch.ones(1, 60, 96)
    >>> 0.45 < note_drop(roll, g).mean().item() < 0.55
    True
    """
    keep = torch.rand(roll.shape, generator=generator, device=roll.device) >= rate
    return roll * keep


def beat_drop(
    roll: torch.Tensor,
    generator: torch.Generator,
    ticks_per_beat: int = TICKS_PER_BEAT,
) -> torch.Tensor:
    """Zero every onset of one random beat (a 60 x 24 block) per unit.

    Examples
    --------
    >>> import torch
    >>> g = torch.Generator().manual_seed(0)
    >>> out = beat_drop(torch.ones(2, 60, 96), g)
    >>> (out == 0).sum(dim=(1, 2)).tolist()
    [1440, 1440]
    """
    n, _, n_ticks = roll.shape
    n_beats = n_ticks // ticks_per_beat
    beat = torch.randint(n_beats, (n, 1), generator=generator, device=roll.device)
    column_beat = torch.arange(n_ticks, device=roll.device) // ticks_per_beat
    return roll * (column_beat != beat).unsqueeze(1)


def octave_split(
    roll: torch.Tensor,
    generator: torch.Generator,
    split_row: int = LOWER_OCTAVE_ROWS,
) -> torch.Tensor:
    """Zero, per unit at random, the rows below ``split_row`` or those from it on.

    With the paper's 60 pitches from MIDI 36 this zeroes the two lower octaves
    (24 x 96) or the three upper ones (36 x 96): a rough left-hand / right-hand
    split, so the network learns to reconstruct one hand from the other.

    Examples
    --------
    >>> import torch
    >>> g = torch.Generator().manual_seed(0)
    >>> kept = octave_split(torch.ones(8, 60, 96), g).sum(dim=(1, 2)) / 96
    >>> sorted(set(kept.tolist()))
    [24.0, 36.0]
    """
    n, n_pitches, _ = roll.shape
    drop_low = torch.rand(n, 1, generator=generator, device=roll.device) < 0.5
    low_row = torch.arange(n_pitches, device=roll.device) < split_row
    keep = low_row != drop_low  # drop_low keeps the high rows, and vice versa
    return roll * keep.unsqueeze(-1)


#: Corruptions by the name the denoising embedder takes.
CORRUPTIONS: dict[str, Callable[[torch.Tensor, torch.Generator], torch.Tensor]] = {
    "note_drop": note_drop,
    "beat_drop": beat_drop,
    "octave_split": octave_split,
}
