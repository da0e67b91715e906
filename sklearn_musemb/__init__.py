"""sklearn-musemb: music embeddings as scikit-learn estimators.

Data flows one way: MIDI files -> note tables (:mod:`sklearn_musemb.io`) -> compact
units (:mod:`sklearn_musemb.units`) -> encodings built per batch on the device
(:mod:`sklearn_musemb.encodings`) -> networks (:mod:`sklearn_musemb.nn`) ->
fit/transform estimators (:mod:`sklearn_musemb.embedders`).

The embedders are imported on first use (PEP 562), so reading MIDI and cutting
units (in joblib workers, say) does not import torch and skorch.
"""

import importlib

__version__ = "0.1.0.dev0"

from .features import HandcraftedFeatures  # noqa: E402
from .io import load_midi_corpus, load_music21_corpus, read_midi  # noqa: E402
from .units import (  # noqa: E402
    TempoScaler,
    Transposer,
    Units,
    piece_train_test_split,
    segment_beats,
    segment_notes,
)

__all__ = [
    "ADjDEmbedder",
    "AdjDEmbedder",
    "HandcraftedFeatures",
    "TempoScaler",
    "Transposer",
    "Units",
    "__version__",
    "load_midi_corpus",
    "load_music21_corpus",
    "piece_train_test_split",
    "read_midi",
    "segment_beats",
    "segment_notes",
]

#: Public names served lazily, with the submodule that defines them.
_LAZY = {"ADjDEmbedder": ".embedders", "AdjDEmbedder": ".embedders"}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
