"""Load a MIDI corpus and grid-search embedding methods on a Dask cluster
======================================================================

Both steps go through joblib, so they run on Dask workers inside
``joblib.parallel_backend("dask")``: :func:`~sklearn_musemb.load_midi_corpus` parses
the files on the workers, and ``GridSearchCV`` fits one (method, representation,
fold) per task, as in ``grid_search_methods.py`` (negated adjacency rank,
``GroupKFold`` by piece). The units are scattered to the workers once, not sent with
every fit; the winner is refitted in this process.

Without ``--scheduler`` a ``LocalCluster`` of ``--workers`` processes starts on this
machine; with ``--scheduler tcp://host:8786`` the script connects to a running
cluster, whose workers must have this package installed and see ``--root`` at the
same path (see ``docs/dask.md``). ``--serial`` runs the same steps without Dask,
for comparison. Without a corpus at ``--root`` (default ``../shared/data/piano-midi``)
the units come from music21's bundled corpus, converted in this process.

Usage::

    python examples/dask_grid_search.py --methods AdjD DSSM --epochs 1
    python examples/dask_grid_search.py --workers 4 --torch-threads 2
    python examples/dask_grid_search.py --scheduler tcp://scheduler:8786 \\
        --root /shared/piano-midi --epochs 5 --hidden-dim 256
    python examples/dask_grid_search.py --serial --methods AdjD DSSM --epochs 1

.. note::

    Not run when the documentation is built: it starts a Dask cluster.
"""

from __future__ import annotations

import argparse
import contextlib
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import numpy as np
import torch
from _corpus import DEFAULT_ROOT, load_units
from joblib import parallel_backend
from sklearn.model_selection import GridSearchCV, GroupKFold
from sklearn.pipeline import Pipeline

from sklearn_musemb import segment_notes
from sklearn_musemb.embedders import (
    AAdjDEmbedder,
    AAEEmbedder,
    AdjDEmbedder,
    ADSSMEmbedder,
    DSSMEmbedder,
    VAEEmbedder,
)
from sklearn_musemb.metrics import make_adjacency_rank_scorer

METHODS = {
    cls.__name__.removesuffix("Embedder"): cls
    for cls in (
        VAEEmbedder,
        AAEEmbedder,
        DSSMEmbedder,
        ADSSMEmbedder,
        AdjDEmbedder,
        AAdjDEmbedder,
    )
}


@contextlib.contextmanager
def dask_client(args: argparse.Namespace) -> Iterator[object]:
    """A client of ``--scheduler``, or of a new ``LocalCluster``; closed on exit."""
    from distributed import Client, LocalCluster

    with contextlib.ExitStack() as stack:
        if args.scheduler:
            client = stack.enter_context(Client(args.scheduler))
        else:
            cluster = stack.enter_context(
                LocalCluster(
                    n_workers=args.workers,
                    threads_per_worker=args.threads_per_worker,
                    processes=True,
                    dashboard_address=":0",
                )
            )
            client = stack.enter_context(Client(cluster))
        # Dask's nanny starts workers with OMP_NUM_THREADS=1; give each worker the
        # torch threads asked for (workers that join later keep their own setting).
        client.run(torch.set_num_threads, args.torch_threads)
        yield client


def main(argv: list[str] | None = None) -> GridSearchCV:
    """Load the corpus and run the search on Dask, print timings and the table.

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
    parser.add_argument(
        "--scheduler",
        default=None,
        help="address of a running scheduler, e.g. tcp://scheduler:8786 "
        "(default: start a LocalCluster here)",
    )
    parser.add_argument("--workers", type=int, default=2, help="LocalCluster only")
    parser.add_argument(
        "--threads-per-worker", type=int, default=1, help="LocalCluster only"
    )
    parser.add_argument(
        "--torch-threads", type=int, default=1, help="torch threads per worker"
    )
    parser.add_argument(
        "--serial", action="store_true", help="run without Dask (for comparison)"
    )
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT)
    parser.add_argument(
        "--composers",
        nargs="+",
        default=["bach", "mozart", "haydn"],
        help="music21 fallback only",
    )
    parser.add_argument(
        "--max-pieces",
        type=int,
        default=None,
        help="pieces per composer (music21 fallback only)",
    )
    parser.add_argument(
        "--methods", nargs="+", choices=list(METHODS), default=list(METHODS)
    )
    parser.add_argument(
        "--representations",
        nargs="+",
        choices=["two_hot", "continuous"],
        default=["two_hot", "continuous"],
    )
    parser.add_argument("--n-notes", type=int, default=40, help="notes per unit")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--hidden-dim", type=int, default=64)
    parser.add_argument("--n-splits", type=int, default=3)
    parser.add_argument("--n-candidates", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cache-dir", default=None)
    args = parser.parse_args(argv)

    with contextlib.ExitStack() as stack:
        if args.serial:
            client = None
            where = "serial, in this process"
        else:
            client = stack.enter_context(dask_client(args))
            n_threads = sum(client.nthreads().values())
            where = f"Dask: {len(client.nthreads())} workers, {n_threads} threads"
        print(where)

        def backend(**options: object) -> contextlib.AbstractContextManager:
            if client is None:
                return contextlib.nullcontext()
            return parallel_backend("dask", client=client, **options)

        start = time.perf_counter()
        with backend():  # load_midi_corpus(n_jobs=None) follows the backend
            units, source = load_units(
                args.root,
                args.composers,
                args.max_pieces,
                args.cache_dir,
                partial(segment_notes, n_notes=args.n_notes),
            )
        loaded = time.perf_counter() - start
        print(
            f"{source}: {len(units)} units of {len(np.unique(units.piece))} pieces, "
            f"loaded and segmented in {loaded:.1f} s"
        )

        common = {
            "max_epochs": args.epochs,
            "module__hidden_dim": args.hidden_dim,
            "random_state": args.seed,
        }
        first = METHODS[args.methods[0]]
        search = GridSearchCV(
            Pipeline([("emb", first(**common))]),
            {
                "emb": [METHODS[name](**common) for name in args.methods],
                "emb__representation": args.representations,
            },
            scoring=make_adjacency_rank_scorer(
                n_candidates=args.n_candidates, random_state=args.seed
            ),
            cv=GroupKFold(n_splits=args.n_splits),
            error_score="raise",
        )
        start = time.perf_counter()
        with backend(scatter=[units]):
            search.fit(units, groups=units.piece)
        searched = time.perf_counter() - start

    n_fits = len(search.cv_results_["params"]) * args.n_splits
    print(f"{n_fits} fits + 1 refit in {searched:.1f} s")
    results = search.cv_results_
    print(f"\n{'method':<16}{'representation':<16}{'rank (CV)':>12}{'fit s':>8}")
    for i in np.argsort(results["rank_test_score"], kind="stable"):
        method = type(results["param_emb"][i]).__name__.removesuffix("Embedder")
        print(
            f"{method:<16}{results['param_emb__representation'][i]:<16}"
            f"{-results['mean_test_score'][i]:>7.2f} +- "
            f"{results['std_test_score'][i]:<4.1f}{results['mean_fit_time'][i]:>6.1f}"
        )
    best = search.best_estimator_["emb"]
    print(f"\nbest: {type(best).__name__}(representation={best.representation!r})")
    return search


if __name__ == "__main__":
    main()
