"""``musemb demo``: fit AdjD on music21's bundled corpus and show what it learned."""

from __future__ import annotations

import argparse
import time

import numpy as np

from ..encodings import REPRESENTATIONS
from ._common import stage


def _raw_features(units) -> np.ndarray:
    """Flattened (pitch, interval) events: the baseline the embedding must beat."""
    return units.events.reshape(len(units), -1).astype(np.float64)


def run_demo(args: argparse.Namespace) -> int:
    """Load music21's corpus, fit AdjD and show what it learned."""
    from sklearn.metrics import f1_score
    from sklearn.neighbors import NearestNeighbors
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from ..embedders import AdjDEmbedder
    from ..io import load_music21_corpus
    from ..units import Transposer, piece_train_test_split, segment_notes

    t0 = stage(
        f"loading music21's corpus: {', '.join(args.composers)} "
        f"(up to {args.max_pieces} pieces each; converted pieces are cached)"
    )
    corpus = load_music21_corpus(
        composers=args.composers,
        max_pieces_per_composer=args.max_pieces,
        cache_dir=args.cache_dir,
        verbose=True,
    )
    print(
        f"          {len(corpus.pieces)} pieces, {len(corpus.skipped)} skipped "
        f"({time.perf_counter() - t0:.1f} s)"
    )

    stage(f"cutting {args.n_notes}-note units")
    units = segment_notes(
        corpus.pieces,
        n_notes=args.n_notes,
        labels=corpus.labels,
        piece_ids=corpus.piece_ids,
    )
    train, test = piece_train_test_split(
        units, n_test_pieces=args.test_pieces, random_state=args.seed
    )
    for name in np.unique(units.labels):
        print(
            f"          {name:12s} {np.sum(train.labels == name):6d} train units "
            f"{np.sum(test.labels == name):5d} test units"
        )
    if args.transpose:
        train = Transposer().fit_transform(train)
        print(f"          transposed into 12 keys: {len(train)} training units")

    t0 = stage(
        f"fitting AdjDEmbedder ({args.representation}, {args.epochs} epochs, "
        f"device={args.device})"
    )
    embedder = AdjDEmbedder(
        representation=args.representation,
        max_epochs=args.epochs,
        device=args.device,
        random_state=args.seed,
        verbose=1,
    )
    Z_train = embedder.fit_transform(train)
    Z_test = embedder.transform(test)
    fit_seconds = time.perf_counter() - t0
    n_pairs = len(train.adjacent_pairs()[0])
    print(
        f"          trained on {embedder.device_} in {fit_seconds:.1f} s "
        f"({n_pairs * args.epochs / fit_seconds:,.0f} adjacent pairs/s)"
    )

    stage("nearest training units of a few held-out units (Euclidean)")
    titles = np.asarray(corpus.titles, dtype=object)
    index = NearestNeighbors(n_neighbors=3).fit(Z_train)
    rng = np.random.default_rng(args.seed)
    for q in rng.choice(len(test), size=min(args.queries, len(test)), replace=False):
        dist, nbr = index.kneighbors(Z_test[q : q + 1])
        print(
            f"  query  {test.labels[q]:10s} {titles[test.piece[q]]} "
            f"(unit {test.position[q]})"
        )
        for d, j in zip(dist[0], nbr[0]):
            print(
                f"    {d:6.3f} {train.labels[j]:10s} {titles[train.piece[j]]} "
                f"(unit {train.position[j]})"
            )

    stage("composer classification on held-out pieces (MLPClassifier, macro-F1)")
    scores = {}
    for name, X_tr, X_te in [
        ("AdjD embedding", Z_train, Z_test),
        ("raw (pitch, interval) events", _raw_features(train), _raw_features(test)),
    ]:
        clf = make_pipeline(
            StandardScaler(),
            MLPClassifier(
                hidden_layer_sizes=(64,), max_iter=300, random_state=args.seed
            ),
        )
        clf.fit(X_tr, train.labels)
        scores[name] = f1_score(test.labels, clf.predict(X_te), average="macro")
        print(f"          {name:30s} macro-F1 = {scores[name]:.3f}")
    chance = 1.0 / len(np.unique(units.labels))
    print(f"          (chance is about {chance:.3f})")
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    demo = sub.add_parser(
        "demo",
        help="fit AdjD on music21's bundled corpus and show what it learned",
        description=(
            "Loads music21's bundled corpus (no download), cuts 40-note units, "
            "holds out whole pieces, fits AdjDEmbedder, prints nearest neighbours "
            "and composer macro-F1 on embeddings versus raw inputs."
        ),
    )
    demo.add_argument(
        "--composers",
        nargs="+",
        default=["bach", "mozart", "haydn"],
    )
    demo.add_argument(
        "--max-pieces", type=int, default=12, help="pieces per composer (default: 12)"
    )
    demo.add_argument("--n-notes", type=int, default=40)
    demo.add_argument(
        "--test-pieces",
        type=int,
        default=2,
        help="held-out pieces per composer (default: 2)",
    )
    demo.add_argument("--epochs", type=int, default=10)
    demo.add_argument("--representation", choices=REPRESENTATIONS, default="two_hot")
    demo.add_argument(
        "--transpose",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="augment training units into all 12 keys (default: on)",
    )
    demo.add_argument("--device", default="auto")
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--queries", type=int, default=3)
    demo.add_argument(
        "--cache-dir", default=None, help="where converted music21 pieces are cached"
    )
    demo.set_defaults(func=run_demo)
