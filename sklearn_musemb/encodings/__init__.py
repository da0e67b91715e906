"""Dense encodings (two-hot, continuous, piano roll) built per batch on the device."""

from .events import (
    N_IOI_BINS,
    N_PITCH_BINS,
    REPRESENTATIONS,
    TWO_HOT_DIM,
    continuous,
    event_dim,
    two_hot,
    two_hot_bins,
)
from .piano_roll import piano_roll

__all__ = [
    "N_IOI_BINS",
    "N_PITCH_BINS",
    "REPRESENTATIONS",
    "TWO_HOT_DIM",
    "continuous",
    "event_dim",
    "piano_roll",
    "two_hot",
    "two_hot_bins",
]
