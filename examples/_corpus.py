"""What the example scripts share: the corpus they run on and its options.

Scripts run as ``python examples/<script>.py``, so this directory is on
``sys.path`` and they import this module as ``_corpus``.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Sequence
from pathlib import Path

from sklearn_musemb import Units, load_midi_corpus, load_music21_corpus

#: ``SKLEARN_MUSEMB_QUICK=1`` runs the examples at reduced size (the docs build
#: sets it so the gallery renders in minutes on a CPU).
QUICK = os.environ.get("SKLEARN_MUSEMB_QUICK", "") not in ("", "0")

#: The piano-midi corpus next to the checkout (``../shared/data/piano-midi``).
DEFAULT_ROOT = Path(__file__).resolve().parents[1].parent / "shared/data/piano-midi"


def add_corpus_arguments(
    parser: argparse.ArgumentParser,
    composers: Sequence[str] = ("bach", "mozart", "haydn"),
) -> None:
    """Add ``--root``, ``--composers``, ``--max-pieces`` and ``--cache-dir``.

    They are what :func:`load_units` reads; ``composers`` is the default of
    ``--composers``.
    """
    parser.add_argument(
        "--root",
        type=Path,
        default=DEFAULT_ROOT,
        help="piano-midi corpus (default: %(default)s); music21's corpus if absent",
    )
    parser.add_argument(
        "--composers",
        nargs="+",
        default=list(composers),
        help="music21 fallback only",
    )
    parser.add_argument(
        "--max-pieces",
        type=int,
        default=None,
        help="pieces per composer (music21 fallback only)",
    )
    parser.add_argument("--cache-dir", default=None)


def load_units(
    args: argparse.Namespace, segment: Callable[..., Units]
) -> tuple[Units, str]:
    """Units of piano-midi if ``args.root`` exists, else of music21's bundled corpus.

    ``args`` holds the options of :func:`add_corpus_arguments`; ``segment`` cuts
    the pieces (``segment_notes`` or ``segment_beats``). ``--composers`` and
    ``--max-pieces`` (per composer) apply to music21 only. Returns the units and a
    name of their source.
    """
    if args.root.is_dir():
        corpus = load_midi_corpus(args.root)
        source = f"piano-midi ({args.root})"
    else:
        corpus = load_music21_corpus(
            args.composers,
            max_pieces_per_composer=args.max_pieces,
            cache_dir=args.cache_dir,
        )
        source = "music21's corpus"
    units = segment(corpus.pieces, labels=corpus.labels, piece_ids=corpus.piece_ids)
    return units, source
