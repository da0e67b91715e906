"""``musemb evaluate``: the papers' tasks on a corpus, for a trained model."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from ._common import (
    CLIError,
    add_model_arguments,
    embed_corpus,
    progress,
    stage,
)
from .embed import load_trained

TASKS = ("adjacency", "composer")


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "evaluate",
        help="score a model on the papers' tasks (adjacency rank, composer F1)",
        description=(
            "adjacency: rank of each unit's true neighbour among --n-candidates "
            "units by embedding distance (Bretan & Heck 2019, 4.4; geometric mean, "
            "lower is better), next to random vectors of the same width. "
            "composer: macro-F1 of the paper's probe (standardise + one-hidden-"
            "layer MLP) under GroupKFold by piece, next to always predicting each "
            "fold's majority label."
        ),
    )
    add_model_arguments(parser)
    parser.add_argument("data", help="MIDI folder or corpus CSV (held-out pieces!)")
    parser.add_argument(
        "--tasks", default=",".join(TASKS), help=f"comma list of {', '.join(TASKS)}"
    )
    parser.add_argument("--n-candidates", type=int, default=100)
    parser.add_argument("--n-splits", type=int, default=5, help="composer CV folds")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", help="also write the scores as JSON")
    parser.set_defaults(func=run_evaluate)


def run_evaluate(args: argparse.Namespace) -> int:
    tasks = [t.strip() for t in args.tasks.split(",") if t.strip()]
    unknown = sorted(set(tasks) - set(TASKS))
    if unknown or not tasks:
        raise CLIError(f"unknown task(s) {unknown}; choose from {', '.join(TASKS)}")
    model, metadata = load_trained(args.model, args.device)
    Z, units, _, _, _ = embed_corpus(model, metadata, args.data, n_jobs=args.n_jobs)
    scores: dict[str, dict] = {}
    if "adjacency" in tasks:
        scores["adjacency"] = _adjacency(Z, units, args)
    if "composer" in tasks:
        scores["composer"] = _composer(Z, units, args)
    for task, result in scores.items():
        print(f"{task}:")
        for name, value in result.items():
            shown = f"{value:.4g}" if isinstance(value, float) else value
            print(f"  {name:28s} {shown}")
    if args.out:
        Path(args.out).write_text(json.dumps(scores, indent=1))
        print(f"wrote {args.out}", file=sys.stderr)
    return 0


def _adjacency(Z: np.ndarray, units, args) -> dict:
    from ..metrics import adjacency_ranks
    from ..metrics.statistics import _summarise

    stage("adjacency ranks")
    n = args.n_candidates
    if len(units) < n:
        raise CLIError(
            f"adjacency needs at least --n-candidates={n} units, the corpus has "
            f"{len(units)}; lower --n-candidates"
        )
    ranks = adjacency_ranks(Z, units, n_candidates=n, random_state=args.seed)
    rng = np.random.default_rng(args.seed)
    random = rng.normal(size=Z.shape).astype(np.float32)
    chance = adjacency_ranks(random, units, n_candidates=n, random_state=args.seed)
    return {
        "queries": int(len(ranks)),
        "geometric_mean_rank": _summarise(ranks, "geometric_mean"),
        "median_rank": _summarise(ranks, "median"),
        "top1_fraction": float(np.mean(ranks == 1)),
        "random_vectors_geometric_mean": _summarise(chance, "geometric_mean"),
    }


def _composer(Z: np.ndarray, units, args) -> dict:
    from sklearn.base import clone
    from sklearn.dummy import DummyClassifier
    from sklearn.metrics import get_scorer
    from sklearn.model_selection import GroupKFold

    from ..tasks import make_composer_probe

    stage("composer probe")
    labels = units.labels
    n_pieces = len(np.unique(units.piece))
    if labels is None or len(np.unique(labels)) < 2:
        raise CLIError("the composer task needs at least two labels in the corpus")
    if n_pieces < args.n_splits:
        raise CLIError(
            f"the composer task needs at least --n-splits={args.n_splits} pieces, "
            f"the corpus has {n_pieces}"
        )
    models = {
        "probe": make_composer_probe(max_iter=500, random_state=args.seed),
        "majority": DummyClassifier(strategy="most_frequent"),
    }
    scorer = get_scorer("f1_macro")
    folds = GroupKFold(args.n_splits).split(Z, labels, groups=units.piece)
    # cross_val_score's loop, written out for the progress bar
    f1 = np.array(
        [
            [
                scorer(clone(m).fit(Z[train], labels[train]), Z[test], labels[test])
                for m in models.values()
            ]
            for train, test in progress(
                folds, desc="composer folds", total=args.n_splits, unit="fold"
            )
        ]
    )
    return {
        "labels": int(len(np.unique(labels))),
        "f1_macro_mean": float(f1[:, 0].mean()),
        "f1_macro_std": float(f1[:, 0].std()),
        "majority_class_f1_macro": float(f1[:, 1].mean()),
    }
