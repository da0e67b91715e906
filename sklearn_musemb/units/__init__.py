"""Units: segmentation of pieces, the unit container, splits and augmentation."""

from .augment import TempoScaler, Transposer
from .container import PAD, Units
from .segment import (
    deduplicate_units,
    segment_beats,
    segment_notes,
    unit_content_ids,
)
from .split import piece_train_test_split

__all__ = [
    "PAD",
    "TempoScaler",
    "Transposer",
    "Units",
    "deduplicate_units",
    "piece_train_test_split",
    "segment_beats",
    "segment_notes",
    "unit_content_ids",
]
