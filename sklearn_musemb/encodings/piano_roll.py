"""Piano-roll encoding of beat units (Bretan et al. 2017), built on the device."""

from __future__ import annotations

import torch

from ..utils.pitch import fold_pitch


def piano_roll(
    events: torch.Tensor,
    *,
    n_ticks: int = 96,
    pitch_range: tuple[int, int] = (36, 96),
) -> torch.Tensor:
    """Binary onset piano roll of padded ``(pitch, tick)`` onset lists.

    Parameters
    ----------
    events : torch.Tensor of int, shape (n_units, max_onsets, 2)
        ``(pitch, tick)`` onsets; rows with a negative tick are padding
        (:data:`sklearn_musemb.units.PAD`).
    n_ticks : int, default=96
        Ticks per unit (4 beats x 24 ticks in the paper).
    pitch_range : (int, int), default=(36, 96)
        Pitches ``[low, high)`` of the rows; others are folded in by octaves.

    Returns
    -------
    torch.Tensor of float32, shape (n_units, high - low, n_ticks)
        1 where a note starts, 0 elsewhere.

    Raises
    ------
    ValueError
        If a tick falls outside ``[0, n_ticks)``.

    Examples
    --------
    >>> import torch
    >>> roll = piano_roll(torch.tensor([[[60, 0], [64, 24], [-1, -1]]]))
    >>> roll.shape, roll.sum().item(), roll[0, 60 - 36, 0].item()
    (torch.Size([1, 60, 96]), 2.0, 1.0)
    """
    low, high = pitch_range
    events = events.long()
    valid = events[..., 1] >= 0
    ticks = events[..., 1][valid]
    if ticks.numel() and int(ticks.max()) >= n_ticks:
        raise ValueError(
            f"tick {int(ticks.max())} is outside a unit of n_ticks={n_ticks}"
        )
    unit = torch.arange(events.shape[0], device=events.device)
    unit = unit[:, None].expand(events.shape[:2])[valid]
    row = fold_pitch(events[..., 0][valid], low, high) - low
    roll = torch.zeros(
        (events.shape[0], high - low, n_ticks),
        dtype=torch.float32,
        device=events.device,
    )
    roll[unit, row, ticks] = 1.0
    return roll
