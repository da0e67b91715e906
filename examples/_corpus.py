"""What the example scripts share: the corpus they run on.

Scripts run as ``python examples/<script>.py``, so this directory is on
``sys.path`` and they import this module as ``_corpus``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from sklearn_musemb import Units, load_midi_corpus, load_music21_corpus

#: ``SKLEARN_MUSEMB_QUICK=1`` runs the examples at reduced size (the docs build
#: sets it so the gallery renders in minutes on a CPU).
QUICK = os.environ.get("SKLEARN_MUSEMB_QUICK", "") not in ("", "0")

#: The piano-midi corpus next to the checkout (``../shared/data/piano-midi``).
DEFAULT_ROOT = Path(__file__).resolve().parents[1].parent / "shared/data/piano-midi"


def load_units(
    root: Path,
    composers: list[str],
    max_pieces: int | None,
    cache_dir: str | None,
    segment: Callable[..., Units],
) -> tuple[Units, str]:
    """Units of piano-midi if ``root`` exists, else of music21's bundled corpus.

    ``segment`` cuts the pieces (``segment_notes`` or ``segment_beats``);
    ``composers`` and ``max_pieces`` (per composer) apply to music21 only.
    Returns the units and a name of their source.
    """
    if root.is_dir():
        corpus = load_midi_corpus(root)
        source = f"piano-midi ({root})"
    else:
        corpus = load_music21_corpus(
            composers, max_pieces_per_composer=max_pieces, cache_dir=cache_dir
        )
        source = "music21's corpus"
    units = segment(corpus.pieces, labels=corpus.labels, piece_ids=corpus.piece_ids)
    return units, source
