"""Dense encodings (two-hot, continuous, relative, piano roll) built per batch on the
device."""

from .events import (
    N_IOI_BINS,
    N_PITCH_BINS,
    RELATIVE_DIM,
    REPRESENTATIONS,
    TWO_HOT_DIM,
    continuous,
    event_dim,
    group_chords,
    relative,
    relative_intervals,
    two_hot,
    two_hot_bins,
)
from .piano_roll import piano_roll

__all__ = [
    "N_IOI_BINS",
    "N_PITCH_BINS",
    "RELATIVE_DIM",
    "REPRESENTATIONS",
    "TWO_HOT_DIM",
    "continuous",
    "event_dim",
    "group_chords",
    "piano_roll",
    "relative",
    "relative_intervals",
    "two_hot",
    "two_hot_bins",
]
