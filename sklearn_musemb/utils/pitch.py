"""Pitch folding, shared by the segmenters and the device encodings."""

from __future__ import annotations

from typing import TypeVar

T = TypeVar("T")


def fold_pitch(pitch: T, low: int, high: int) -> T:
    """Move pitches outside ``[low, high)`` by whole octaves into the range.

    A pitch below ``low`` lands in the lowest octave ``[low, low + 12)`` and a pitch
    at or above ``high`` in the highest octave ``[high - 12, high)``, keeping its
    pitch class. Works element-wise on NumPy arrays and torch tensors alike (only
    ``%``, ``+`` and ``where`` semantics through arithmetic are used).

    Parameters
    ----------
    pitch : ndarray or torch.Tensor of int
        MIDI pitches.
    low, high : int
        The range, ``high - low`` a positive multiple of 12.

    Returns
    -------
    ndarray or torch.Tensor
        Folded pitches, same type as ``pitch``.

    Examples
    --------
    >>> import numpy as np
    >>> fold_pitch(np.array([20, 24, 60, 95, 96, 108]), 24, 96).tolist()
    [32, 24, 60, 95, 84, 84]
    """
    if (high - low) <= 0 or (high - low) % 12:
        raise ValueError(
            f"high - low must be a positive multiple of 12, got {low}..{high}"
        )
    below = pitch < low
    above = pitch >= high
    folded_low = low + (pitch - low) % 12
    folded_high = high - 12 + (pitch - high) % 12
    return pitch * (~below & ~above) + folded_low * below + folded_high * above
