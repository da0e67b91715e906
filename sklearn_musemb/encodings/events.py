"""Dense encodings of note units, built per batch on the training device.

Units are stored as compact integers ``(pitch, inter-onset ms)`` (see
:class:`sklearn_musemb.units.Units`); these functions turn a batch of them into the
network inputs of Bretan & Heck (2019), section 4.2, on whatever device the batch
lives on. Nothing here loops over notes in Python.
"""

from __future__ import annotations

import torch

from ..utils.pitch import fold_pitch

#: Pitch bins of the two-hot encoding: MIDI 24..95 (72 bins). The paper says
#: "MIDI 24 to 96" but also "72 values", so the upper bound is exclusive.
PITCH_LOW, PITCH_HIGH = 24, 96
N_PITCH_BINS = PITCH_HIGH - PITCH_LOW
#: Inter-onset bins of 10 ms covering 0..2000 ms; longer intervals go to the last bin.
IOI_BIN_MS = 10
N_IOI_BINS = 200
TWO_HOT_DIM = N_PITCH_BINS + N_IOI_BINS  # 272

REPRESENTATIONS = ("two_hot", "continuous")


def two_hot_bins(events: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Pitch bin (0..71) and inter-onset bin (0..199) of every event.

    The indices the two-hot encoding sets, also the class targets of decoders that
    reconstruct two-hot input.

    Parameters
    ----------
    events : torch.Tensor of int, shape (..., 2)
        ``(pitch, inter-onset ms)`` pairs.

    Returns
    -------
    pitch_bin, ioi_bin : torch.Tensor of int64, shape (...)

    Examples
    --------
    >>> import torch
    >>> [b.tolist() for b in two_hot_bins(torch.tensor([[60, 33], [100, 5000]]))]
    [[36, 64], [3, 199]]
    """
    events = events.long()
    pitch_bin = fold_pitch(events[..., 0], PITCH_LOW, PITCH_HIGH) - PITCH_LOW
    ioi_bin = torch.clamp(events[..., 1] // IOI_BIN_MS, 0, N_IOI_BINS - 1)
    return pitch_bin, ioi_bin


def two_hot(events: torch.Tensor) -> torch.Tensor:
    """Two-hot encode note events: one pitch bin plus one inter-onset bin.

    Parameters
    ----------
    events : torch.Tensor of int, shape (n_units, n_events, 2)
        ``(pitch, inter-onset ms)`` pairs.

    Returns
    -------
    torch.Tensor of float32, shape (n_units, n_events, 272)
        Pitches are folded by octaves into MIDI 24..95 (bins 0..71); intervals are
        cut into 10 ms bins, 0..1990 ms (bins 72..271), longer ones in the last bin.

    Examples
    --------
    >>> import torch
    >>> x = two_hot(torch.tensor([[[60, 33]]]))
    >>> x.shape, x[0, 0].nonzero().flatten().tolist()
    (torch.Size([1, 1, 272]), [36, 75])
    """
    pitch_bin, ioi_bin = two_hot_bins(events)
    out = torch.zeros(
        (*events.shape[:-1], TWO_HOT_DIM), dtype=torch.float32, device=events.device
    )
    out.scatter_(-1, pitch_bin.unsqueeze(-1), 1.0)
    out.scatter_(-1, (ioi_bin + N_PITCH_BINS).unsqueeze(-1), 1.0)
    return out


def continuous(
    events: torch.Tensor, mean: torch.Tensor, scale: torch.Tensor
) -> torch.Tensor:
    """Standardised ``(pitch, inter-onset ms)`` values, one float pair per event.

    Parameters
    ----------
    events : torch.Tensor of int, shape (n_units, n_events, 2)
        ``(pitch, inter-onset ms)`` pairs.
    mean, scale : torch.Tensor of float, shape (2,)
        Per-channel statistics learned on the training units.

    Returns
    -------
    torch.Tensor of float32, shape (n_units, n_events, 2)

    Examples
    --------
    >>> import torch
    >>> continuous(torch.tensor([[[62, 500]]]), torch.tensor([60., 250.]),
    ...            torch.tensor([2., 250.])).tolist()
    [[[1.0, 1.0]]]
    """
    return (events.float() - mean) / scale


def event_dim(representation: str) -> int:
    """Width of one encoded event for ``representation``.

    Examples
    --------
    >>> event_dim("two_hot"), event_dim("continuous")
    (272, 2)
    """
    if representation == "two_hot":
        return TWO_HOT_DIM
    if representation == "continuous":
        return 2
    raise ValueError(
        f"representation must be one of {REPRESENTATIONS}, got {representation!r}"
    )
