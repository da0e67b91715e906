"""Training and transform throughput of the six Bretan & Heck methods; ranking speed.

Each method x representation trains two epochs on the first ``--n-units`` 40-note
units of piano-midi (untransposed, rows in piece order) and is timed by skorch's
duration of the second epoch (initialisation and warm-up excluded); ``transform``
is timed on the same units.
Items are adjacent pairs (DSSM, AdjD and their adversarial variants: each pair also
encodes ``n_negatives`` random units) or units (VAE, AAE). The ranking metric is
timed on ``--n-rank`` random 32-d embeddings of synthetic units, 100 candidates.

Usage (from the repository root; the GPU is used when torch finds one)::

    python benchmarks/method_speed.py --out-dir benchmarks/results/cpu
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
from _common import DEFAULT_ROOT, device_name, geometric_mean
from bretan_heck_tables import METHODS, REPRESENTATIONS

from sklearn_musemb import Units, load_midi_corpus, segment_notes
from sklearn_musemb.metrics import adjacency_ranks


def time_method(
    name: str, representation: str, units: Units, batch_size: int, seed: int
) -> dict:
    emb = METHODS[name](
        representation=representation,
        max_epochs=2,
        batch_size=batch_size,
        random_state=seed,
    ).fit(units)
    epoch_s = float(emb.history_[-1, "dur"])
    n_items = len(emb._training_data(units)[0])
    start = time.perf_counter()
    emb.transform(units)
    transform_s = time.perf_counter() - start
    return {
        "method": name,
        "representation": representation,
        "device": emb.device_,
        "items": n_items,
        "epoch_s": round(epoch_s, 2),
        "items_per_s": round(n_items / epoch_s, 1),
        "transform_units_per_s": round(len(units) / transform_s, 1),
    }


def time_ranking(n_units: int, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    units = Units(
        np.zeros((n_units, 1, 2), dtype=np.int16),
        piece=np.arange(n_units) // 50,
        position=np.arange(n_units) % 50,
    )
    embedding = rng.standard_normal((n_units, 32)).astype(np.float32)
    start = time.perf_counter()
    ranks = adjacency_ranks(embedding, units, random_state=seed)
    seconds = time.perf_counter() - start
    return {
        "n_units": n_units,
        "seconds": round(seconds, 2),
        "queries_per_s": round(len(ranks) / seconds, 1),
        "random_geometric_mean_rank": round(geometric_mean(ranks), 2),
    }


def markdown(result: dict) -> str:
    rows = [
        "# Training and transform throughput of the six methods",
        "",
        f"Command: `{result['command']}`",
        "",
        f"Device: {result['device_name']}; torch {result['torch']}; batch "
        f"{result['batch_size']}; second of two epochs on {result['n_units']} "
        "piano-midi units.",
        "",
        "| method | repr. | items/epoch | epoch s | items/s | transform units/s |",
        "|---|---|---|---|---|---|",
    ]
    for r in result["methods"]:
        rows.append(
            f"| {r['method']} | {r['representation']} | {r['items']} | "
            f"{r['epoch_s']} | {r['items_per_s']} | {r['transform_units_per_s']} |"
        )
    rank = result["ranking"]
    rows += [
        "",
        f"Adjacency ranking (100 candidates, 32-d): {rank['n_units']} units in "
        f"{rank['seconds']} s ({rank['queries_per_s']} queries/s); random "
        f"embedding geometric mean rank {rank['random_geometric_mean_rank']}.",
    ]
    return "\n".join(rows) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT)
    parser.add_argument("--n-units", type=int, default=8192)
    parser.add_argument("--n-rank", type=int, default=50_000)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out-dir", type=Path, default=None)
    args = parser.parse_args()

    corpus = load_midi_corpus(args.root)
    units = segment_notes(corpus.pieces, piece_ids=corpus.piece_ids)[: args.n_units]
    result = {
        "command": "python " + " ".join(sys.argv),
        "torch": torch.__version__,
        "n_units": len(units),
        "batch_size": args.batch_size,
        "methods": [],
    }
    for representation in REPRESENTATIONS:
        for name in METHODS:
            row = time_method(name, representation, units, args.batch_size, args.seed)
            result["device_name"] = device_name(row["device"])
            result["methods"].append(row)
            print(json.dumps(row), flush=True)
    result["ranking"] = time_ranking(args.n_rank, args.seed)
    print(markdown(result))
    if args.out_dir:
        args.out_dir.mkdir(parents=True, exist_ok=True)
        (args.out_dir / "method_speed.json").write_text(
            json.dumps(result, indent=1) + "\n"
        )
        (args.out_dir / "method_speed.md").write_text(markdown(result))


if __name__ == "__main__":
    main()
