"""Multi-dimensional audio similarity on rendered scores, cross-validated by piece
===============================================================================

Renders pieces through FluidSynth with several General MIDI instruments and tempo
factors (:func:`sklearn_musemb.audio.make_rendered_clips`), then compares two
conditional similarity networks (paper 002) with ``cross_validate`` and
``GroupKFold`` by piece: single-input (log-mel) and multi-input (log-mel + cyclic
tempogram + CENS chroma). Each is a ``TrackEmbedder``: 3 s segments go through
the features and the embedder, a clip is the mean of its segments. The score of
a fold is :class:`sklearn_musemb.metrics.DimensionTripletScorer`: the share of
labelled triplets (instrument, tempo, key) the embedding orders right.

Runs on the piano-midi corpus when ``--root`` (default ``../shared/data/piano-midi``)
exists, otherwise on music21's bundled Bach chorales. Needs FluidSynth and a
SoundFont (``apt-get install fluidsynth timgm6mb-soundfont``) and librosa
(``pip install "sklearn-musemb[audio]"``). The reproduction of the papers' tables
is ``benchmarks/audio_similarity.py``.

Usage::

    python examples/audio_similarity.py
    python examples/audio_similarity.py --max-pieces 40 --epochs 3

.. note::

    Not run when the documentation is built: it renders audio with FluidSynth
    and trains two networks for minutes.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from _corpus import DEFAULT_ROOT
from sklearn.model_selection import GroupKFold, cross_validate
from sklearn.pipeline import make_pipeline

from sklearn_musemb.audio import (
    LogMelSpectrogram,
    MultiInputFeatures,
    TrackEmbedder,
    make_rendered_clips,
)
from sklearn_musemb.embedders import ConditionalSimilarityEmbedder
from sklearn_musemb.io import load_music21_corpus
from sklearn_musemb.metrics import DimensionTripletScorer

DIMENSIONS = ["instrument", "tempo_bpm", "key"]
RULES = {"tempo_bpm": "tempo", "key": "key"}


def make_model(multi_input: bool, args: argparse.Namespace) -> TrackEmbedder:
    """A CSN on 3 s segments, one clip = the mean of its segment embeddings."""
    features = MultiInputFeatures() if multi_input else LogMelSpectrogram()
    embedder = ConditionalSimilarityEmbedder(
        rules=RULES,
        inputs=(128, 30, 12) if multi_input else None,
        embedding_dim=args.embedding_dim,
        module__width=args.width,
        module__n_blocks=1,
        module__branch_blocks=1,
        max_epochs=args.epochs,
        batch_size=64,
        random_state=0,
    )
    return TrackEmbedder(make_pipeline(features, embedder), segment_s=3.0)


def main(argv: list[str] | None = None) -> dict:
    """Render, cross-validate both networks, print the scores per dimension.

    Parameters
    ----------
    argv : list of str or None, default=None
        Command-line arguments (``sys.argv[1:]`` when None).

    Returns
    -------
    dict
        ``cross_validate`` results per model name.
    """
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT)
    parser.add_argument("--max-pieces", type=int, default=12)
    parser.add_argument("--programs", nargs="+", default=["piano", "organ"])
    parser.add_argument("--tempo-factors", nargs="+", type=float, default=[0.8, 1.25])
    parser.add_argument("--clip-s", type=float, default=6.0)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--embedding-dim", type=int, default=24)
    parser.add_argument("--width", type=int, default=4)
    parser.add_argument("--n-splits", type=int, default=3)
    parser.add_argument("--cache-dir", default=None)
    args = parser.parse_args(argv)

    if (args.root / "metadata.csv").is_file():
        source, name = args.root, f"piano-midi ({args.root})"
    else:
        source = load_music21_corpus(
            "bach", max_pieces_per_composer=args.max_pieces, cache_dir=args.cache_dir
        )
        name = "music21's corpus (Bach chorales)"
    clips = make_rendered_clips(
        source,
        programs=args.programs,
        tempo_factors=args.tempo_factors,
        clip_s=args.clip_s,
        max_pieces=args.max_pieces,
        cache_dir=args.cache_dir,
    )
    y = clips.frame[DIMENSIONS]
    pieces = clips.frame["piece_id"].to_numpy()
    print(f"{len(y)} clips of {len(set(pieces))} pieces from {name}")
    scoring = {
        "all": DimensionTripletScorer(RULES, n_triplets=500),
        **{
            d: DimensionTripletScorer(RULES, dimension=d, n_triplets=500)
            for d in DIMENSIONS
        },
    }
    results = {}
    for label, multi_input in [("single-input (mel)", False), ("multi-input", True)]:
        results[label] = cross_validate(
            make_model(multi_input, args),
            clips.audio,
            y,
            groups=pieces,
            cv=GroupKFold(n_splits=args.n_splits),
            scoring=scoring,
        )
    print(f"{'model':<20}" + "".join(f"{k:>12}" for k in scoring))
    for label, cv in results.items():
        row = "".join(f"{np.mean(cv[f'test_{k}']):>12.3f}" for k in scoring)
        print(f"{label:<20}{row}")
    return results


if __name__ == "__main__":
    main()
