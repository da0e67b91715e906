"""Table 2 of Bretan & Heck (2019) on piano-midi: adjacency ranking of six methods.

Trains VAE, AAE, DSSM, AdjD, A-DSSM and A-AdjD, each with two-hot and continuous
input, with the paper's protocol: 40-note units; two whole pieces per composer held
out (composers with fewer than 3 pieces left out); training pieces transposed into
all 12 keys and tempo-scaled by a random factor in 0.95-1.05; one seed for
everything. Each model trains for ``--budget`` seconds of wall-clock time (a
:class:`sklearn_musemb.callbacks.TimeBudget`; ``--max-epochs`` caps it too), then
every held-out unit with a neighbour is ranked against 99 random held-out units
(:func:`sklearn_musemb.metrics.adjacency_rank`, geometric mean; lower is better).
Reference rows: random vectors, PCA-32 of the two-hot input, the raw standardised
continuous input.

Writes ``table2.md`` (the table beside the paper's numbers, with device, steps,
epochs and wall time per model) and ``table2.json`` to ``--out-dir``.

Usage (from the repository root; the GPU is used when torch finds one)::

    python benchmarks/bretan_heck_table2.py --budget 150 \\
        --out-dir benchmarks/results/cpu
    python benchmarks/bretan_heck_table2.py --budget 1800 \\
        --out-dir benchmarks/results/gpu                      # on a GPU
    python benchmarks/bretan_heck_table2.py --methods AdjD A-AdjD \\
        --representations two_hot --budget 60 --out-dir /tmp/t2  # a quick look
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import sklearn
import torch
from _common import (
    DEFAULT_ROOT,
    device_name,
    geometric_mean,
    paper_split,
    raw_events,
)
from sklearn.decomposition import PCA
from sklearn.preprocessing import StandardScaler

from sklearn_musemb.callbacks import TimeBudget
from sklearn_musemb.embedders import (
    AAdjDEmbedder,
    AAEEmbedder,
    AdjDEmbedder,
    ADSSMEmbedder,
    DSSMEmbedder,
    VAEEmbedder,
)
from sklearn_musemb.encodings import two_hot
from sklearn_musemb.metrics import adjacency_ranks

METHODS = {
    "VAE": VAEEmbedder,
    "AAE": AAEEmbedder,
    "DSSM": DSSMEmbedder,
    "AdjD": AdjDEmbedder,
    "A-DSSM": ADSSMEmbedder,
    "A-AdjD": AAdjDEmbedder,
}
#: Table 2 of the paper: geometric mean rank among 100, (two-hot, continuous).
PAPER_TABLE2 = {
    "VAE": (10.8, 12.3),
    "AAE": (9.9, 12.3),
    "DSSM": (11.2, 14.8),
    "AdjD": (5.8, 6.3),
    "A-DSSM": (8.8, 9.2),
    "A-AdjD": (5.1, 5.6),
}
REPRESENTATIONS = ("two_hot", "continuous")


def prior_fit(embedding: np.ndarray) -> dict[str, float]:
    """How close the embedding's marginals are to N(0, 1)."""
    return {
        "mean_abs_dim_mean": round(float(np.abs(embedding.mean(0)).mean()), 3),
        "mean_dim_std": round(float(embedding.std(0).mean()), 3),
    }


def rank_summary(embedding: np.ndarray, test, seed: int, n_candidates: int) -> dict:
    ranks = adjacency_ranks(
        embedding, test, n_candidates=n_candidates, random_state=seed
    )
    return {
        "rank_geometric_mean": round(geometric_mean(ranks), 2),
        "rank_median": float(np.median(ranks)),
        "n_queries": len(ranks),
    }


def baselines(train, test, seed: int, n_candidates: int) -> dict[str, dict]:
    """What a user would use instead: random vectors, PCA-32, raw input."""
    rng = np.random.default_rng(seed)
    out = {}
    out["random 32-d vectors"] = rank_summary(
        rng.standard_normal((len(test), 32)), test, seed, n_candidates
    )
    # PCA of the two-hot input needs the dense matrix itself: it is built on the
    # host for a sample of 20,000 training units (about 830 MB), once, for this
    # reference row only.
    sample = rng.choice(len(train), size=min(len(train), 20_000), replace=False)

    def two_hot_flat(units):
        return two_hot(torch.as_tensor(units.events)).flatten(1).numpy()

    pca = PCA(n_components=32, random_state=seed).fit(two_hot_flat(train[sample]))
    out["PCA-32 of two-hot input"] = rank_summary(
        pca.transform(two_hot_flat(test)), test, seed, n_candidates
    )
    scaler = StandardScaler().fit(raw_events(train[sample]))
    out["raw continuous input (80-d, standardised)"] = rank_summary(
        scaler.transform(raw_events(test)), test, seed, n_candidates
    )
    return out


def train_one(name: str, representation: str, train, args) -> tuple[object, dict]:
    budget = TimeBudget(seconds=args.budget)
    params = {
        "representation": representation,
        "max_epochs": args.max_epochs,
        "batch_size": args.batch_size,
        "random_state": args.seed,
        "callbacks": [budget],
        "verbose": 0,
    }
    emb = METHODS[name](**params)
    start = time.perf_counter()
    emb.fit(train)
    fit_s = time.perf_counter() - start
    steps = budget.steps_
    n_items = len(emb._training_data(train)[0])  # pairs or units per epoch
    batches_per_epoch = -(-n_items // args.batch_size)
    last = emb.history_[-1]
    losses = {
        k: round(float(v), 4)
        for k, v in last.items()
        if k.startswith("train_")
        and not k.endswith("_best")
        and k != "train_batch_count"
    }
    info = {
        "device": emb.device_,
        "fit_s": round(fit_s, 1),
        "steps": steps,
        "epochs": round(steps / batches_per_epoch, 2),
        "stopped_by_budget": budget.stopped_early_,
        "items_per_s": round(steps * args.batch_size / fit_s, 1),
        "last_complete_epoch": losses,
    }
    return emb, info


def markdown(result: dict) -> str:
    rows = [
        f"# Table 2 on piano-midi: adjacency ranking (geometric mean rank among "
        f"{result['n_candidates']}, lower is better)",
        "",
        f"Command: `{result['command']}`",
        "",
        f"Device: {result['device_name']}; torch {result['torch']}; "
        f"budget {result['budget_s']} s per model; batch {result['batch_size']}; "
        f"seed {result['seed']}. Training: {result['n_train_units']} units "
        f"(12 keys x tempo 0.95-1.05) of {result['n_train_pieces']} pieces; "
        f"held out: {result['n_test_units']} units of {result['n_test_pieces']} "
        f"pieces ({result['n_composers']} composers, 2+ pieces each).",
        "",
        "| method | repr. | ours | paper | median | steps | epochs | fit s | "
        "items/s | emb. mean abs(mean) / mean std |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in result["models"]:
        paper = PAPER_TABLE2[row["method"]][
            REPRESENTATIONS.index(row["representation"])
        ]
        rows.append(
            f"| {row['method']} | {row['representation']} | "
            f"**{row['rank_geometric_mean']}** | {paper} | {row['rank_median']} | "
            f"{row['steps']} | {row['epochs']} | {row['fit_s']} | "
            f"{row['items_per_s']} | {row['prior']['mean_abs_dim_mean']} / "
            f"{row['prior']['mean_dim_std']} |"
        )
    rows += [
        "",
        "| reference (no training on adjacency) | ours | median |",
        "|---|---|---|",
    ]
    for name, row in result["baselines"].items():
        rows.append(f"| {name} | {row['rank_geometric_mean']} | {row['rank_median']} |")
    rows += [
        "",
        "Items are adjacent pairs (DSSM, AdjD and adversarial variants) or units "
        "(VAE, AAE) per second of training; a DSSM step encodes "
        "2 + n_negatives units per pair (DSSM default 4, AdjD default 1).",
    ]
    return "\n".join(rows) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT)
    parser.add_argument(
        "--methods", nargs="+", default=list(METHODS), choices=list(METHODS)
    )
    parser.add_argument(
        "--representations",
        nargs="+",
        default=list(REPRESENTATIONS),
        choices=list(REPRESENTATIONS),
    )
    parser.add_argument(
        "--budget",
        type=float,
        default=150.0,
        help="wall-clock training seconds per model (default 150)",
    )
    parser.add_argument(
        "--max-epochs", type=int, default=1000, help="epoch cap on top of the budget"
    )
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--n-candidates", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out-dir", type=Path, default=None)
    args = parser.parse_args()

    train, test, dropped, _ = paper_split(args.root, args.seed, augment=True)
    print(f"train {len(train)} units, test {len(test)} units", flush=True)
    result = {
        "command": "python " + " ".join(sys.argv),
        "torch": torch.__version__,
        "sklearn": sklearn.__version__,
        "budget_s": args.budget,
        "batch_size": args.batch_size,
        "seed": args.seed,
        "n_candidates": args.n_candidates,
        "n_train_units": len(train),
        "n_train_pieces": int(len(np.unique(train.piece))),
        "n_test_units": len(test),
        "n_test_pieces": int(len(np.unique(test.piece))),
        "n_composers": int(len(np.unique(test.labels))),
        "composers_dropped_too_few_pieces": dropped,
        "baselines": baselines(train, test, args.seed, args.n_candidates),
        "models": [],
    }
    print(json.dumps(result["baselines"], indent=1), flush=True)
    for representation in args.representations:
        for name in args.methods:
            emb, info = train_one(name, representation, train, args)
            embedding = emb.transform(test)
            row = {
                "method": name,
                "representation": representation,
                **rank_summary(embedding, test, args.seed, args.n_candidates),
                **info,
                "prior": prior_fit(embedding),
            }
            result["models"].append(row)
            result["device_name"] = device_name(emb.device_)
            print(json.dumps(row), flush=True)
            if args.out_dir:
                args.out_dir.mkdir(parents=True, exist_ok=True)
                (args.out_dir / "table2.json").write_text(
                    json.dumps(result, indent=1) + "\n"
                )
                (args.out_dir / "table2.md").write_text(markdown(result))
    print(markdown(result))


if __name__ == "__main__":
    main()
