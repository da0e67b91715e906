"""sklearn-musemb: music embeddings as scikit-learn estimators.

Data flows one way: MIDI files -> note tables (:mod:`sklearn_musemb.io`) -> compact
units (:mod:`sklearn_musemb.units`) -> encodings built per batch on the device
(:mod:`sklearn_musemb.encodings`) -> networks (:mod:`sklearn_musemb.nn`) ->
fit/transform estimators (:mod:`sklearn_musemb.embedders`).
"""

__version__ = "0.1.0.dev0"

from .embedders import ADjDEmbedder, AdjDEmbedder  # noqa: E402
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
