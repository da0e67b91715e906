"""Choose an embedding method with GridSearchCV and the adjacency-ranking scorer
=============================================================================

The design card's second use: one ``Pipeline`` whose ``emb`` step takes each of the
six methods of Bretan & Heck (2019) (VAE, AAE, DSSM, A-DSSM, AdjD, A-AdjD) with
both input representations, scored by how well the embedding ranks a unit's true
neighbour among 100 candidates (:data:`sklearn_musemb.metrics.adjacency_rank_scorer`;
scikit-learn maximises scores, so it returns the negated geometric mean rank).
``GroupKFold`` by piece keeps every piece in one fold, so a model is never scored on
neighbours it was trained on; ``error_score="raise"`` makes a fold that cannot be
scored (too few units for ``--n-candidates``) stop the search instead of scoring NaN.
The winner, refitted on all training pieces, is then scored on held-out pieces, next
to random vectors of the same width.

Runs on the piano-midi corpus when ``--root`` (default ``../shared/data/piano-midi``)
exists, otherwise on music21's bundled Bach, Mozart and Haydn (``--composers``). The
default settings are meant for a laptop CPU (their run time has not been measured);
raise ``--epochs`` and ``--hidden-dim`` on a GPU.

Usage::

    python examples/grid_search_methods.py
    python examples/grid_search_methods.py --epochs 5 --hidden-dim 256
    python examples/grid_search_methods.py --root /no/such/dir --max-pieces 6

.. note::

    Not run when the documentation is built: it trains twelve models per fold.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import numpy as np
from _corpus import add_corpus_arguments, load_units
from sklearn.model_selection import GridSearchCV, GroupKFold
from sklearn.pipeline import Pipeline

from sklearn_musemb import (
    piece_train_test_split,
    segment_notes,
)
from sklearn_musemb.embedders import (
    AAdjDEmbedder,
    AAEEmbedder,
    AdjDEmbedder,
    ADSSMEmbedder,
    DSSMEmbedder,
    VAEEmbedder,
)
from sklearn_musemb.metrics import adjacency_rank, make_adjacency_rank_scorer

METHODS = (
    VAEEmbedder,
    AAEEmbedder,
    DSSMEmbedder,
    ADSSMEmbedder,
    AdjDEmbedder,
    AAdjDEmbedder,
)
REPRESENTATIONS = ("two_hot", "continuous")


def add_search_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of the search: training size, folds, candidates, seed."""
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--hidden-dim", type=int, default=64)
    parser.add_argument("--n-splits", type=int, default=3)
    parser.add_argument("--n-candidates", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)


def make_search(
    args: argparse.Namespace,
    methods: Sequence[type] = METHODS,
    representations: Sequence[str] = REPRESENTATIONS,
) -> GridSearchCV:
    """``methods`` x ``representations``, scored by negated adjacency rank."""
    common = {
        "max_epochs": args.epochs,
        "module__hidden_dim": args.hidden_dim,
        "random_state": args.seed,
    }
    pipe = Pipeline([("emb", methods[0](**common))])
    grid = {
        "emb": [method(**common) for method in methods],
        "emb__representation": list(representations),
    }
    scorer = make_adjacency_rank_scorer(
        n_candidates=args.n_candidates, random_state=args.seed
    )
    return GridSearchCV(
        pipe,
        grid,
        scoring=scorer,
        cv=GroupKFold(n_splits=args.n_splits),
        error_score="raise",
    )


def print_results(search: GridSearchCV) -> None:
    """One line per (method, representation), best first."""
    results = search.cv_results_
    print(f"\n{'method':<16}{'representation':<16}{'rank (CV)':>12}{'fit s':>8}")
    for i in np.argsort(results["rank_test_score"], kind="stable"):
        method = type(results["param_emb"][i]).__name__.removesuffix("Embedder")
        print(
            f"{method:<16}{results['param_emb__representation'][i]:<16}"
            f"{-results['mean_test_score'][i]:>7.2f} +- "
            f"{results['std_test_score'][i]:<4.1f}{results['mean_fit_time'][i]:>6.1f}"
        )


def main(argv: list[str] | None = None) -> GridSearchCV:
    """Run the search, print its table and the winner's held-out rank.

    Parameters
    ----------
    argv : list of str or None, default=None
        Command-line arguments (``sys.argv[1:]`` when None).

    Returns
    -------
    GridSearchCV
        The fitted search.
    """
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_corpus_arguments(parser)
    add_search_arguments(parser)
    args = parser.parse_args(argv)

    units, source = load_units(args, segment_notes)
    train, test = piece_train_test_split(
        units, n_test_pieces=1, random_state=args.seed, small_labels="train"
    )
    print(
        f"{source}: {len(train)} training units of {len(np.unique(train.piece))} "
        f"pieces, {len(test)} held-out units of {len(np.unique(test.piece))} pieces"
    )

    search = make_search(args)
    search.fit(train, groups=train.piece)
    print_results(search)

    best = search.best_estimator_
    held_out = -search.score(test)  # the scorer on the refitted winner
    width = best["emb"].embedding_dim
    noise = np.random.default_rng(args.seed).standard_normal((len(test), width))
    rank = {"n_candidates": args.n_candidates, "random_state": args.seed}
    print(
        f"\nbest: {type(best['emb']).__name__}("
        f"representation={best['emb'].representation!r}); geometric mean rank "
        f"of the true neighbour among {args.n_candidates} on held-out pieces: "
        f"{held_out:.2f} (random vectors: {adjacency_rank(noise, test, **rank):.2f})"
    )
    return search


if __name__ == "__main__":
    main()
