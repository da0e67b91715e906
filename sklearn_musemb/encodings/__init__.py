"""Dense encodings (two-hot, continuous, piano roll) built per batch on the device."""

from .events import REPRESENTATIONS, TWO_HOT_DIM, continuous, event_dim, two_hot
from .piano_roll import piano_roll

__all__ = [
    "REPRESENTATIONS",
    "TWO_HOT_DIM",
    "continuous",
    "event_dim",
    "piano_roll",
    "two_hot",
]
