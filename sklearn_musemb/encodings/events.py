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

#: Bins of the relative encoding: log2 of an interval over the unit's median
#: interval, centres every quarter octave from -3 to +3 (1/8 to 8 times the median;
#: values beyond fall in the end bins).
RELATIVE_LOG_RANGE, RELATIVE_BIN_STEP = 3.0, 0.25
N_RELATIVE_BINS = int(2 * RELATIVE_LOG_RANGE / RELATIVE_BIN_STEP) + 1  # 25
#: Width of the Gaussian that smears each relative interval over its neighbouring
#: bins, in bins: intervals 10 % apart share most of their mass.
RELATIVE_SMEAR_BINS = 1.0
#: Pitch bins + relative interval bins + one "inside a chord" flag.
RELATIVE_DIM = N_PITCH_BINS + N_RELATIVE_BINS + 1  # 98

#: The papers' encodings (``two_hot``, ``continuous``) and the tempo-free one.
REPRESENTATIONS = ("two_hot", "continuous", "relative")


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


def group_chords(events: torch.Tensor, chord_ms: float) -> torch.Tensor:
    """Treat notes closer than ``chord_ms`` as one chord, in a canonical order.

    A pianist's chord is never simultaneous to the millisecond, and the order in
    which its notes arrive says nothing about the music. Notes whose interval to
    the next note is below ``chord_ms`` join one chord; within a chord the notes
    are sorted by pitch, every interval inside it becomes 0 and its last note
    carries the time from the chord's first note to the next chord.

    Parameters
    ----------
    events : torch.Tensor of int, shape (n_units, n_events, 2)
        ``(pitch, inter-onset ms)`` pairs.
    chord_ms : float
        Threshold in ms; 0 leaves ``events`` as they are.

    Returns
    -------
    torch.Tensor, shape and dtype of ``events``

    Examples
    --------
    >>> import torch
    >>> spread = torch.tensor([[[67, 12], [60, 9], [64, 479], [65, 500]]])
    >>> group_chords(spread, chord_ms=30).tolist()
    [[[60, 0], [64, 0], [67, 500], [65, 500]]]
    """
    if chord_ms <= 0:
        return events
    pitch, ioi = events[..., 0].long(), events[..., 1].long()
    joins_next = ioi < chord_ms
    starts = torch.ones_like(joins_next)
    starts[:, 1:] = ~joins_next[:, :-1]
    chord = torch.cumsum(starts.long(), dim=1) - 1
    # a chord's interval to the next chord: the sum of its notes' intervals
    span = torch.zeros_like(ioi).scatter_add_(1, chord, ioi)
    order = torch.argsort(chord * 256 + pitch, dim=1)
    pitch = torch.gather(pitch, 1, order)
    chord = torch.gather(chord, 1, order)
    last = torch.ones_like(joins_next)
    last[:, :-1] = chord[:, 1:] != chord[:, :-1]
    ioi = torch.where(last, torch.gather(span, 1, chord), 0)
    return torch.stack([pitch, ioi], dim=-1).to(events.dtype)


def relative_intervals(ioi: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """log2 of every interval over the median non-zero interval of its unit.

    Parameters
    ----------
    ioi : torch.Tensor of int, shape (n_units, n_events)

    Returns
    -------
    log_ratio : torch.Tensor of float32, shape (n_units, n_events)
        0 for zero intervals (chord notes) and for units with no non-zero one.
    in_chord : torch.Tensor of bool, shape (n_units, n_events)
        Where the interval is zero.

    Examples
    --------
    >>> import torch
    >>> r, c = relative_intervals(torch.tensor([[250, 0, 500, 1000]]))
    >>> r.tolist(), c.tolist()
    ([[-1.0, 0.0, 0.0, 1.0]], [[False, True, False, False]])
    """
    ioi = ioi.float()
    in_chord = ioi <= 0
    masked = torch.where(in_chord, torch.nan, ioi)
    median = torch.nanmedian(masked, dim=1, keepdim=True).values
    ratio = torch.log2(masked / median)
    return torch.nan_to_num(ratio, nan=0.0), in_chord


def relative(events: torch.Tensor) -> torch.Tensor:
    """Tempo-free encoding: pitch bin, smeared relative interval, chord flag.

    Every event becomes 98 values: the 72 pitch bins of :func:`two_hot`, 25
    bins of ``log2(interval / median interval of the unit)`` (quarter-octave
    centres from -3 to +3) filled with a Gaussian of one bin's width, so
    neighbouring intervals share mass and a few percent of timing noise moves
    the code a little instead of to an unrelated bin, and a flag for notes
    inside a chord (interval 0). A global tempo change leaves it unchanged (up
    to rounding to whole ms). Use it with ``chord_ms`` so that spread chords
    count as chords.

    Parameters
    ----------
    events : torch.Tensor of int, shape (n_units, n_events, 2)
        ``(pitch, inter-onset ms)`` pairs.

    Returns
    -------
    torch.Tensor of float32, shape (n_units, n_events, 98)

    Examples
    --------
    >>> import torch
    >>> x = relative(torch.tensor([[[60, 500], [64, 0], [67, 500]]]))
    >>> x.shape, bool((relative(torch.tensor([[[60, 550], [64, 0], [67, 550]]]))
    ...                == x).all())
    (torch.Size([1, 3, 98]), True)
    """
    pitch_bin, _ = two_hot_bins(events)
    log_ratio, in_chord = relative_intervals(events[..., 1])
    centres = torch.linspace(
        -RELATIVE_LOG_RANGE, RELATIVE_LOG_RANGE, N_RELATIVE_BINS, device=events.device
    )
    clipped = log_ratio.clamp(-RELATIVE_LOG_RANGE, RELATIVE_LOG_RANGE)
    distance = (clipped.unsqueeze(-1) - centres) / (
        RELATIVE_BIN_STEP * RELATIVE_SMEAR_BINS
    )
    smeared = torch.exp(-0.5 * distance.square())
    smeared = smeared / smeared.sum(-1, keepdim=True)
    smeared = torch.where(in_chord.unsqueeze(-1), 0.0, smeared)
    pitch = torch.zeros(
        (*events.shape[:-1], N_PITCH_BINS), dtype=torch.float32, device=events.device
    )
    pitch.scatter_(-1, pitch_bin.unsqueeze(-1), 1.0)
    return torch.cat([pitch, smeared, in_chord.unsqueeze(-1).float()], dim=-1)


def event_dim(representation: str) -> int:
    """Width of one encoded event for ``representation``.

    Examples
    --------
    >>> event_dim("two_hot"), event_dim("continuous"), event_dim("relative")
    (272, 2, 98)
    """
    if representation == "two_hot":
        return TWO_HOT_DIM
    if representation == "continuous":
        return 2
    if representation == "relative":
        return RELATIVE_DIM
    raise ValueError(
        f"representation must be one of {REPRESENTATIONS}, got {representation!r}"
    )
