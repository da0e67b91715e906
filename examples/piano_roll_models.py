"""Compare the piano-roll models of Bretan et al. (2017) with GridSearchCV
=======================================================================

One ``Pipeline``: a piano-roll embedder, then the paper's forward-prediction task
(:class:`sklearn_musemb.tasks.ForwardPredictor`: an LSTM reads the embeddings of 7
consecutive 4-beat units and predicts the 8th; its ``score`` is the negated median
rank of the true 8th among ``--n-candidates`` units by cosine). The grid runs over
the five self-supervised models (three denoising corruptions, next-unit and
context prediction), ``y`` of the pipeline is the units themselves (the
predictor reads their order from them) and ``GroupKFold`` by piece keeps every
piece in one fold. The winner, refitted on all training pieces, is scored on
held-out pieces.

Runs on the piano-midi corpus when ``--root`` (default ``../shared/data/piano-midi``)
exists, otherwise on music21's bundled Bach, Mozart and Haydn. The defaults are
small, for a laptop CPU; the reproduction of the paper's tables is
``benchmarks/bretan_2017_tables.py``.

Usage::

    python examples/piano_roll_models.py
    python examples/piano_roll_models.py --epochs 3 --embedding-dim 100

.. note::

    Not run when the documentation is built: it trains five models per fold.
"""

from __future__ import annotations

import argparse

import numpy as np
from _corpus import add_corpus_arguments, load_units
from sklearn.model_selection import GridSearchCV, GroupKFold
from sklearn.pipeline import Pipeline

from sklearn_musemb import (
    Transposer,
    piece_train_test_split,
    segment_beats,
)
from sklearn_musemb.embedders import ContextRollEmbedder, DenoisingRollEmbedder
from sklearn_musemb.tasks import ForwardPredictor


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
    parser.add_argument("--keys", type=int, default=3, help="transpositions (1-12)")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--embedding-dim", type=int, default=32)
    parser.add_argument(
        "--channels", type=int, nargs=4, default=[32, 64, 64, 128], help="conv maps"
    )
    parser.add_argument(
        "--hidden-dims", type=int, nargs="+", default=[512, 256], help="fc layers"
    )
    parser.add_argument("--lstm-hidden", type=int, default=64)
    parser.add_argument("--n-splits", type=int, default=3)
    parser.add_argument("--n-candidates", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    units, source = load_units(args, segment_beats)
    train, test = piece_train_test_split(
        units, n_test_pieces=1, random_state=args.seed, small_labels="train"
    )
    # transpositions of a piece share its id, so GroupKFold keeps them together
    keys = Transposer(shifts=range(args.keys))
    train, test = keys.fit_transform(train), keys.transform(test)
    print(
        f"{source}: {len(train)} training units of {len(np.unique(train.piece))} "
        f"pieces, {len(test)} held-out units, {args.keys} key(s)"
    )

    small = {
        "embedding_dim": args.embedding_dim,
        "module__channels": tuple(args.channels),
        "module__hidden_dims": tuple(args.hidden_dims),
        "max_epochs": args.epochs,
        "random_state": args.seed,
    }
    models = [
        DenoisingRollEmbedder(corruption=corruption, **small)
        for corruption in ("note_drop", "beat_drop", "octave_split")
    ] + [ContextRollEmbedder(target=target, **small) for target in ("next", "context")]
    forward = ForwardPredictor(
        metric="cosine",
        statistic="median",
        n_candidates=args.n_candidates,
        max_epochs=args.epochs,
        module__hidden_dim=args.lstm_hidden,
        random_state=args.seed,
    )
    search = GridSearchCV(
        Pipeline([("emb", models[0]), ("forward", forward)]),
        {"emb": models},
        cv=GroupKFold(n_splits=args.n_splits),
        error_score="raise",
    )
    search.fit(train, train, groups=train.piece)

    results = search.cv_results_
    print(f"\n{'model':<44}{'median rank (CV)':>18}")
    for i in np.argsort(results["rank_test_score"]):
        emb = results["param_emb"][i]
        name = f"{type(emb).__name__}({getattr(emb, 'corruption', None) or emb.target})"
        print(f"{name:<44}{-results['mean_test_score'][i]:>18.1f}")
    best = search.best_estimator_["emb"]
    print(
        f"\nbest: {type(best).__name__}; median rank of the true 8th unit among "
        f"{args.n_candidates} on held-out pieces: {-search.score(test, test):.1f}"
    )
    return search


if __name__ == "__main__":
    main()
