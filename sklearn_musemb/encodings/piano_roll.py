"""Piano-roll encoding of beat units (Bretan et al. 2017), built on the device."""

from __future__ import annotations

import torch

from ..units.segment import BEAT_PITCH_RANGE, BEAT_UNIT_TICKS
from ..utils.pitch import fold_pitch


def piano_roll(
    events: torch.Tensor,
    *,
    n_ticks: int = BEAT_UNIT_TICKS,
    pitch_range: tuple[int, int] = BEAT_PITCH_RANGE,
    check_ticks: bool = True,
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
    check_ticks : bool, default=True
        Raise if a tick lies beyond ``n_ticks``. This costs one host sync per
        call; callers that validated their units once (the piano-roll
        embedders, at ``fit``/``transform``) switch it off for every batch.

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
    pitch, tick = events[..., 0], events[..., 1]
    # The roll's width is n_ticks; the one host sync is this check that no onset
    # lies beyond it (a silent drop or a wrapped index would be worse).
    if check_ticks and bool((tick >= n_ticks).any()):
        raise ValueError(
            f"tick {int(tick.max())} is outside a unit of n_ticks={n_ticks}"
        )
    # Scatter every event into the flat (pitch row, tick) cells of its unit, padding
    # (negative tick) with weight 0, so no boolean indexing syncs with the host.
    valid = tick >= 0
    cell = (fold_pitch(pitch, low, high) - low) * n_ticks + tick
    cell = cell.masked_fill(~valid, 0)
    roll = torch.zeros(
        (events.shape[0], (high - low) * n_ticks),
        dtype=torch.float32,
        device=events.device,
    )
    roll.scatter_reduce_(1, cell, valid.float(), reduce="amax")
    return roll.view(events.shape[0], high - low, n_ticks)
