"""Build time, query throughput and recall@k of the EmbeddingIndex backends.

Indexes ``--n`` float32 vectors of ``--dim`` dimensions drawn from a seeded
Gaussian mixture (``--n-clusters`` centres ~ N(0, ``--centre-scale``^2 I), unit
noise around them) and queries it with ``--n-queries`` further draws of the same
mixture, ``--k`` hits each. The data are clustered so that approximate
structures (IVF cells, HNSW graphs) face the kind of structure they exploit and
their recall is meaningful; on structureless noise every ANN method degrades.

Backends, all through :class:`~sklearn_musemb.search.EmbeddingIndex` except
scikit-learn: exact torch (chunked matmul + top-k on ``--device``; "auto" = CUDA
when present), ``NearestNeighbors(algorithm="brute")`` (timed on the first
``--sklearn-queries`` queries only, as it is slow at this size), faiss Flat (first
``--flat-queries`` queries, likewise), IVF
(one build, several ``--n-probe``) and HNSW (one build, several
``--ef-search``); faiss runs on the CPU. Recall@k is measured against the exact
torch result. Query times include the index's exact re-scoring of the hits.
A short warm-up query precedes every timing. Writes ``index_speed.json`` and
``index_speed.md`` to ``--out-dir``.

Usage (from the repository root; the exact backend uses the GPU when torch finds
one)::

    python benchmarks/index_speed.py --out-dir benchmarks/results/cpu/index
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import sklearn
import torch
from _common import command, device_name, markdown_table, write_results
from sklearn.neighbors import NearestNeighbors

from sklearn_musemb.search import EmbeddingIndex


def mixture(args: argparse.Namespace) -> tuple[np.ndarray, np.ndarray]:
    """Indexed vectors and queries from one seeded Gaussian mixture."""
    rng = np.random.default_rng(args.seed)
    centres = rng.normal(scale=args.centre_scale, size=(args.n_clusters, args.dim))
    total = args.n + args.n_queries
    labels = rng.integers(args.n_clusters, size=total)
    points = rng.standard_normal((total, args.dim), dtype=np.float32)
    points += centres[labels].astype(np.float32)
    return points[: args.n], points[args.n :]


def recall_at_k(found: np.ndarray, truth: np.ndarray) -> float:
    """Share of the true ``k`` nearest found among the ``k`` returned, averaged."""
    hits = (found[:, :, None] == truth[:, None, :]).any(-1).sum()
    return float(hits / truth.size)


def timed(call: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    out = call()
    return out, time.perf_counter() - start


def query_row(
    backend: str,
    settings: str,
    build_s: float,
    search: Callable[[np.ndarray], np.ndarray],
    queries: np.ndarray,
    truth: np.ndarray | None,
) -> tuple[dict, np.ndarray]:
    """Warm up, time ``search`` on ``queries`` and score it against ``truth``.

    Returns the row and the hits; ``truth=None`` marks the reference (recall 1).
    """
    search(queries[:16])
    indices, seconds = timed(lambda: search(queries))
    recall = 1.0 if truth is None else recall_at_k(indices, truth[: len(queries)])
    row = {
        "backend": backend,
        "settings": settings,
        "build_s": round(build_s, 2),
        "n_queries": len(queries),
        "query_s": round(seconds, 3),
        "queries_per_s": round(len(queries) / seconds, 1),
        "recall_at_k": round(recall, 4),
    }
    print(json.dumps(row), flush=True)
    return row, indices


def run(args: argparse.Namespace) -> dict:
    X, Q = mixture(args)
    k = args.k
    result: dict[str, Any] = {
        "command": command(),
        "torch": torch.__version__,
        "sklearn": sklearn.__version__,
        "n": args.n,
        "dim": args.dim,
        "n_clusters": args.n_clusters,
        "centre_scale": args.centre_scale,
        "n_queries": args.n_queries,
        "k": k,
        "seed": args.seed,
        "rows": [],
    }
    rows = result["rows"]

    def search(index: Any) -> Callable[[np.ndarray], np.ndarray]:
        return lambda q: index.kneighbors(q, k, return_distance=False)

    exact, build_s = timed(
        lambda: EmbeddingIndex(backend="exact", device=args.device).fit(X)
    )
    result["device_name"] = device_name(exact.device_)
    result["exact_device"] = exact.device_
    settings = f"device={exact.device_}, chunk={exact._chunk_rows()}"
    row, truth = query_row(
        "exact torch (chunked)", settings, build_s, search(exact), Q, None
    )
    rows.append(row)

    def add(backend: str, settings: str, build_s: float, index: Any, queries) -> None:
        """A row of ``index`` on ``queries``, scored against the exact hits."""
        row, _ = query_row(backend, settings, build_s, search(index), queries, truth)
        rows.append(row)

    brute, build_s = timed(
        lambda: NearestNeighbors(n_neighbors=k, algorithm="brute").fit(X)
    )
    some = Q[: args.sklearn_queries]
    settings = f"n_jobs=None, first {len(some)} queries"
    add("sklearn NearestNeighbors brute", settings, build_s, brute, some)

    try:
        import faiss
    except ImportError:
        result["faiss"] = None
        print("faiss is not installed: no faiss rows (pip install '.[scale]')")
        return result
    result["faiss"] = faiss.__version__
    result["faiss_threads"] = faiss.omp_get_max_threads()

    def faiss_index(**params: Any) -> tuple[EmbeddingIndex, float]:
        return timed(
            lambda: EmbeddingIndex(
                backend="faiss", random_state=args.seed, **params
            ).fit(X)
        )

    flat, build_s = faiss_index(faiss_index="Flat")
    some = Q[: args.flat_queries]
    add("faiss Flat", f"exact, first {len(some)} queries", build_s, flat, some)
    del flat

    # one build per structure, then its query-time setting swept
    ivf, build_s = faiss_index(faiss_index="IVF", n_lists=args.n_lists)
    for n_probe in args.n_probe:
        ivf.set_params(n_probe=n_probe)
        add("faiss IVF", f"n_lists={ivf.n_lists_}, n_probe={n_probe}", build_s, ivf, Q)
    del ivf

    hnsw, build_s = faiss_index(faiss_index="HNSW", hnsw_m=args.hnsw_m)
    for ef in args.ef_search:
        hnsw.set_params(hnsw_ef_search=ef)
        add("faiss HNSW", f"M={args.hnsw_m}, ef_search={ef}", build_s, hnsw, Q)
    return result


def markdown(result: dict) -> str:
    lines = [
        "# EmbeddingIndex backends: build time, queries/s, recall@k",
        "",
        f"Command: `{result['command']}`",
        "",
        f"Device of the exact torch backend: {result['device_name']}; torch "
        f"{result['torch']}; scikit-learn {result['sklearn']}; faiss "
        f"{result.get('faiss') or 'not installed'} (CPU, "
        f"{result.get('faiss_threads', '-')} threads).",
        f"Machine load (1-min average, before/after): "
        f"{result['load_average_1min'][0]} / {result['load_average_1min'][1]} on "
        f"{os.cpu_count()} CPUs; other jobs shared the CPU, so CPU timings are "
        "rough when the load exceeds the CPU count.",
        "",
        f"Data: {result['n']:,} x {result['dim']}-d float32 vectors from a seeded "
        f"Gaussian mixture ({result['n_clusters']} centres ~ N(0, "
        f"{result['centre_scale']}^2 I), unit noise; seed {result['seed']}), "
        f"{result['n_queries']:,} queries from the same mixture, top-{result['k']}. "
        "Clustered on purpose: ANN structures exploit clusters, so their recall "
        "is meaningful here (on structureless noise it would be lower). Recall@"
        f"{result['k']} is against the exact torch result; query times include "
        "the index's exact re-scoring of the hits; faiss runs on the CPU.",
        "",
    ]
    lines += markdown_table(
        [
            "backend", "settings", "build s", "queries", "query s", "queries/s",
            f"recall@{result['k']}",
        ],
        (
            [
                r["backend"], r["settings"], r["build_s"], r["n_queries"],
                r["query_s"], r["queries_per_s"], r["recall_at_k"],
            ]
            for r in result["rows"]
        ),
    )  # fmt: skip
    lines += [
        "",
        "IVF and HNSW rows of one structure share its build. sklearn brute is timed "
        "on a subset of the queries (its queries/s extrapolates linearly: it scores "
        "every query against every vector); so is faiss Flat.",
        f"Run time of the whole script: {result['wall_s']} s.",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--dim", type=int, default=32)
    parser.add_argument("--n-clusters", type=int, default=1000)
    parser.add_argument("--centre-scale", type=float, default=2.0)
    parser.add_argument("--n-queries", type=int, default=10_000)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--sklearn-queries", type=int, default=500)
    parser.add_argument("--n-lists", type=int, default=None)
    parser.add_argument("--n-probe", type=int, nargs="+", default=[4, 16])
    parser.add_argument("--flat-queries", type=int, default=1000)
    parser.add_argument("--hnsw-m", type=int, default=16)
    parser.add_argument("--ef-search", type=int, nargs="+", default=[32, 128])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out-dir", type=Path, default=None)
    args = parser.parse_args()

    load_before = os.getloadavg()
    started = time.perf_counter()
    result = run(args)
    result["wall_s"] = round(time.perf_counter() - started, 1)
    result["load_average_1min"] = [
        round(load_before[0], 2),
        round(os.getloadavg()[0], 2),
    ]
    text = markdown(result)
    print(text)
    if args.out_dir:
        write_results(args.out_dir, "index_speed", result, text)


if __name__ == "__main__":
    main()
