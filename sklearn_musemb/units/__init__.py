"""Units: segmentation of pieces, the unit container, splits and augmentation."""

from ..utils.lazy import lazy_attributes
from .augment import TempoScaler, Transposer
from .container import PAD, Units
from .segment import (
    deduplicate_units,
    note_stream,
    segment_beats,
    segment_notes,
    unit_content_ids,
)
from .split import piece_train_test_split

__all__ = [
    "PAD",
    "PerformanceModel",
    "TempoScaler",
    "Transposer",
    "Units",
    "deduplicate_units",
    "extended_windows",
    "note_stream",
    "notes_after_needed",
    "perform_onsets",
    "perform_unit_events",
    "piece_train_test_split",
    "segment_beats",
    "segment_notes",
    "successor_rows",
    "unit_content_ids",
]

#: The performance model runs on PyTorch: imported on first use, so cutting units
#: (in joblib workers, say) does not import torch.
_LAZY = {
    "PerformanceModel": ".performance",
    "extended_windows": ".performance",
    "notes_after_needed": ".performance",
    "successor_rows": ".performance",
    "perform_onsets": ".performance",
    "perform_unit_events": ".performance",
}

__getattr__, __dir__ = lazy_attributes(__name__, _LAZY, globals())
