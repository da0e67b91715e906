"""Evaluation at scale: forward-prediction and adjacency ranking, time and memory.

Forward prediction follows paper 001 (Bretan et al. 2017, section 5.0.1): each of
``--n-predictions`` (325,219) predicted embeddings is ranked by cosine similarity
against its true next embedding and 999 random units (``--n-candidates`` 1000) of
a pool of ``--n-units`` (330,000) 100-d embeddings. The embeddings are synthetic
(standard normal, float32, the predictions the targets plus noise), as only the
sizes matter here; the pool holds every unit in 12 keys (one id per 12 rows),
whose copies are never a target's distractors, as in
:meth:`~sklearn_musemb.tasks.ForwardPredictor.ranks`. Adjacency ranking (Bretan &
Heck 2019, section 4.4) ranks the neighbour of every one of ``--adj-units`` units
(pieces of 300, random 100-d embeddings) among 100 candidates by Euclidean
distance.

Reported: seconds, predictions (queries) per second, peak host memory (numpy's
allocations during the call by ``tracemalloc``, and the process's peak resident
size) and, on CUDA, peak device memory. Distractors are drawn chunk by chunk, so
no ``n_predictions x n_candidates`` index array (2.6 GB for paper 001) is built.

``--subset N`` ranks only the first N forward predictions and extrapolates the
full run linearly (for slow CPUs); the result files label such figures as
extrapolated. Adjacency always runs on all ``--adj-units``.

Usage (from the repository root)::

    python benchmarks/eval_scale.py --device cpu --out-dir benchmarks/results/cpu/eval_scale
    python benchmarks/eval_scale.py --device cuda --out-dir benchmarks/results/cuda/eval_scale
"""  # noqa: E501

from __future__ import annotations

import argparse
import json
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from _common import (
    command,
    device_name,
    geometric_mean,
    markdown_table,
    peak_rss_mib,
    write_results,
)

from sklearn_musemb import Units
from sklearn_musemb.metrics import adjacency_ranks
from sklearn_musemb.tasks import forward_prediction_ranks
from sklearn_musemb.utils.torch_utils import resolve_device

MIB = 2**20


def measure(call: Callable[[], np.ndarray], device: str) -> tuple[np.ndarray, dict]:
    """Run ``call`` once; its ranks, seconds and peak memory."""
    cuda = device.startswith("cuda")
    if cuda:
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
    tracemalloc.start()
    start = time.perf_counter()
    ranks = call()  # the ranks come back to the host: the device is done
    seconds = time.perf_counter() - start
    numpy_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    stats = {
        "seconds": round(seconds, 2),
        "per_s": round(len(ranks) / seconds, 1),
        "host_numpy_peak_mib": round(numpy_peak / MIB, 1),
        "process_peak_rss_mib": round(peak_rss_mib(), 1),
    }
    if cuda:
        stats["device_peak_mib"] = round(torch.cuda.max_memory_allocated(device) / MIB)
    return ranks, stats


def extrapolate(stats: dict, done: int, full: int) -> dict:
    """Seconds of the full run from a subset, at the subset's rate."""
    if done == full:
        return {}
    return {"extrapolated_full_seconds": round(stats["seconds"] * full / done, 1)}


def forward_case(args: argparse.Namespace, device: str) -> dict:
    rng = np.random.default_rng(args.seed)
    embeddings = rng.standard_normal((args.n_units, args.n_dims), dtype=np.float32)
    unit_ids = np.arange(args.n_units) // 12  # every unit in 12 keys
    n = min(args.subset or args.n_predictions, args.n_predictions)
    targets = rng.choice(args.n_units, args.n_predictions, replace=False)[:n]
    noise = rng.standard_normal((n, args.n_dims), dtype=np.float32)
    predicted = embeddings[targets] + 4 * noise  # cosine to the target ~ 0.24
    ranks, stats = measure(
        lambda: forward_prediction_ranks(
            predicted,
            embeddings,
            targets,
            unit_ids=unit_ids,
            n_candidates=args.n_candidates,
            metric="cosine",
            random_state=args.seed,
            chunk_size=args.chunk_size,
            device=device,
        ),
        device,
    )
    return {
        "n_predictions": n,
        "n_predictions_full": args.n_predictions,
        "n_units": args.n_units,
        "n_dims": args.n_dims,
        "n_candidates": args.n_candidates,
        "metric": "cosine",
        **stats,
        **extrapolate(stats, n, args.n_predictions),
        "one_draw_index_array_mib": round(
            args.n_predictions * (args.n_candidates - 1) * 8 / MIB
        ),
        "median_rank": float(np.median(ranks)),
        "geometric_mean_rank": round(geometric_mean(ranks), 2),
    }


def adjacency_case(args: argparse.Namespace, device: str) -> dict:
    rng = np.random.default_rng(args.seed)
    n = args.adj_units
    units = Units(
        np.zeros((n, 1, 2), dtype=np.int16),
        piece=np.arange(n) // 300,
        position=np.arange(n) % 300,
    )
    # random embeddings: the geometric mean rank is close to 37.99 (100 candidates)
    embeddings = rng.standard_normal((n, args.n_dims), dtype=np.float32)
    ranks, stats = measure(
        lambda: adjacency_ranks(
            embeddings,
            units,
            n_candidates=args.adj_candidates,
            random_state=args.seed,
            chunk_size=args.chunk_size,
            device=device,
        ),
        device,
    )
    return {
        "n_queries": len(ranks),
        "n_units": n,
        "n_dims": args.n_dims,
        "n_candidates": args.adj_candidates,
        "metric": "euclidean",
        **stats,
        "geometric_mean_rank": round(geometric_mean(ranks), 2),
    }


def markdown(result: dict) -> str:
    fwd, adj = result["forward"], result["adjacency"]
    rows = [
        "# Evaluation at scale: forward-prediction and adjacency ranking",
        "",
        f"Command: `{result['command']}`",
        "",
        f"Device: {result['device_name']}; torch {result['torch']}, numpy "
        f"{result['numpy']}; chunk size {result['chunk_size']}; synthetic float32 "
        "embeddings.",
    ]
    if result["subset"]:
        rows += [
            "",
            f"**Subset run** (`--subset {result['subset']}`): forward prediction "
            f"ranked the first {fwd['n_predictions']:,} of "
            f"{fwd['n_predictions_full']:,} predictions; its full-run seconds are "
            "EXTRAPOLATED linearly from the subset, not measured. Full run: the "
            "same command without `--subset`. Adjacency ran in full.",
        ]
    table = []
    for name, case, items in (
        ("forward prediction (cosine)", fwd, fwd["n_predictions"]),
        ("adjacency (Euclidean)", adj, adj["n_queries"]),
    ):
        full = case.get("extrapolated_full_seconds")
        full = f"{full} (extrapolated)" if full is not None else case["seconds"]
        table.append(
            [
                name, f"{items:,}", case["n_candidates"], case["n_dims"],
                case["seconds"], f"{case['per_s']:,}", full,
                case["host_numpy_peak_mib"], case["process_peak_rss_mib"],
            ]
        )  # fmt: skip
    rows += [""] + markdown_table(
        [
            "ranking", "items", "candidates", "dims", "seconds", "items/s",
            "full run s", "numpy peak MiB", "process peak RSS MiB",
        ],
        table,
    )  # fmt: skip
    if "device_peak_mib" in fwd:
        rows += [
            "",
            f"Peak device memory: forward {fwd['device_peak_mib']} MiB, adjacency "
            f"{adj['device_peak_mib']} MiB.",
        ]
    rows += [
        "",
        f"Forward prediction: pool of {fwd['n_units']:,} embeddings (every unit in "
        "12 keys, copies excluded from its distractors); drawing all distractors "
        f"at once would take a {fwd['one_draw_index_array_mib']:,} MiB index array "
        f"for the full {fwd['n_predictions_full']:,} predictions. Median rank "
        f"{fwd['median_rank']}, geometric mean {fwd['geometric_mean_rank']} "
        "(synthetic predictions: target plus noise). Adjacency: all "
        f"{adj['n_units']:,} units in pieces of 300, random embeddings: geometric "
        f"mean rank {adj['geometric_mean_rank']} (chance: 37.99 for 100).",
        "",
        "numpy peak: largest total of numpy allocations during the call "
        "(tracemalloc; torch's are not counted); process peak RSS: the whole "
        "script so far, inputs included.",
    ]
    return "\n".join(rows) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--n-predictions", type=int, default=325_219)
    parser.add_argument("--n-units", type=int, default=330_000)
    parser.add_argument("--n-dims", type=int, default=100)
    parser.add_argument("--n-candidates", type=int, default=1000)
    parser.add_argument("--adj-units", type=int, default=330_000)
    parser.add_argument("--adj-candidates", type=int, default=100)
    parser.add_argument("--chunk-size", type=int, default=1024)
    parser.add_argument(
        "--subset",
        type=int,
        default=None,
        help="rank only the first N forward predictions; extrapolate the rest "
        "(adjacency always runs in full)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out-dir", type=Path, default=None)
    args = parser.parse_args()

    device = resolve_device(args.device)
    if device.startswith("cuda"):  # CUDA start-up outside the timings
        torch.zeros(1, device=device)
    result = {
        "command": command(),
        "device": device,
        "device_name": device_name(device),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "chunk_size": args.chunk_size,
        "subset": args.subset,
    }
    result["forward"] = forward_case(args, device)
    print(json.dumps(result["forward"]), flush=True)
    result["adjacency"] = adjacency_case(args, device)
    print(json.dumps(result["adjacency"]), flush=True)
    print(markdown(result))
    if args.out_dir:
        write_results(args.out_dir, "eval_scale", result, markdown(result))


if __name__ == "__main__":
    main()
