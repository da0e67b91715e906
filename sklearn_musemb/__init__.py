"""sklearn-musemb: music embeddings as scikit-learn estimators.

Data flows one way: MIDI files -> note tables (:mod:`sklearn_musemb.io`) -> compact
units (:mod:`sklearn_musemb.units`) -> encodings built per batch on the device
(:mod:`sklearn_musemb.encodings`) -> networks (:mod:`sklearn_musemb.nn`) ->
fit/transform estimators (:mod:`sklearn_musemb.embedders`).

The embedders are imported on first use (PEP 562), so reading MIDI and cutting
units (in joblib workers, say) does not import torch and skorch.
"""

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
from .utils.lazy import lazy_attributes  # noqa: E402

__all__ = [
    "ADjDEmbedder",
    "AdjDEmbedder",
    "ContrastiveEmbedder",
    "EmbeddingIndex",
    "HandcraftedFeatures",
    "TempoScaler",
    "PerformanceModel",
    "Transposer",
    "Units",
    "__version__",
    "load_midi_corpus",
    "load_model",
    "load_music21_corpus",
    "piece_train_test_split",
    "read_midi",
    "save_model",
    "segment_beats",
    "segment_notes",
]

#: Public names served lazily, with the submodule that defines them.
_LAZY = {
    "ADjDEmbedder": ".embedders",
    "AdjDEmbedder": ".embedders",
    "ContrastiveEmbedder": ".embedders",
    "PerformanceModel": ".units.performance",
    "EmbeddingIndex": ".search",
    "load_model": ".persistence",
    "save_model": ".persistence",
}


__getattr__, __dir__ = lazy_attributes(__name__, _LAZY, globals())
