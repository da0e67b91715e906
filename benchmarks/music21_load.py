"""Loading music21's bundled corpus: files per composer, uncached and cached times.

Counts the score files ``load_music21_corpus`` reads per composer (each piece once,
MusicXML preferred over a second format), then times loading the first
``--n-pieces`` Bach chorales into an empty cache (music21 parsing plus MIDI
conversion) and again from that cache.

Usage (from the repository root)::

    python benchmarks/music21_load.py --out-dir benchmarks/results/cpu
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from sklearn_musemb import load_music21_corpus
from sklearn_musemb.io.music21_corpus import _composer_files

COMPOSERS = ("bach", "beethoven", "mozart", "haydn")


def timed_load(n_pieces: int, cache_dir: str) -> tuple[float, int]:
    start = time.perf_counter()
    corpus = load_music21_corpus(
        ("bach",), max_pieces_per_composer=n_pieces, cache_dir=cache_dir
    )
    return round(time.perf_counter() - start, 3), len(corpus.pieces)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n-pieces", type=int, default=20)
    parser.add_argument("--out-dir", type=Path, default=None)
    args = parser.parse_args()

    result = {
        "command": "python " + " ".join(sys.argv),
        "files_per_composer": {c: len(_composer_files(c, None)) for c in COMPOSERS},
    }
    with tempfile.TemporaryDirectory() as cache:
        uncached_s, n = timed_load(args.n_pieces, cache)
        cached_s, _ = timed_load(args.n_pieces, cache)
    result["bach_chorales"] = {
        "pieces": n,
        "uncached_s": uncached_s,
        "cached_s": cached_s,
    }
    text = json.dumps(result, indent=1)
    print(text)
    if args.out_dir:
        args.out_dir.mkdir(parents=True, exist_ok=True)
        (args.out_dir / "music21_load.json").write_text(text + "\n")


if __name__ == "__main__":
    main()
