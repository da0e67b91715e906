"""Reading MIDI into compact note tables, and loading labelled corpora."""

from .corpus import load_midi_corpus
from .midi import MidiReadError, read_midi
from .music21_corpus import load_music21_corpus
from .notes import (
    KEY_SIGNATURE_DTYPE,
    NOTE_DTYPE,
    TEMPO_DTYPE,
    TIME_SIGNATURE_DTYPE,
    NoteTable,
)

__all__ = [
    "KEY_SIGNATURE_DTYPE",
    "NOTE_DTYPE",
    "TEMPO_DTYPE",
    "TIME_SIGNATURE_DTYPE",
    "MidiReadError",
    "NoteTable",
    "load_midi_corpus",
    "load_music21_corpus",
    "read_midi",
]
