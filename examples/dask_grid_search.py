"""Load a MIDI corpus and grid-search embedding methods on a Dask cluster
======================================================================

Both steps go through joblib, so they run on Dask workers inside
``joblib.parallel_backend("dask")``: :func:`~sklearn_musemb.load_midi_corpus` parses
the files on the workers, and ``GridSearchCV`` fits one (method, representation,
fold) per task. The search is the one of ``grid_search_methods.py``, imported from
it (negated adjacency rank, ``GroupKFold`` by piece). The units are scattered to the
workers once, not sent with every fit; the winner is refitted in this process.

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

import numpy as np
import torch
from _corpus import add_corpus_arguments, load_units
from grid_search_methods import (
    METHODS,
    REPRESENTATIONS,
    add_search_arguments,
    make_search,
    print_results,
)
from joblib import parallel_backend
from sklearn.model_selection import GridSearchCV

from sklearn_musemb import segment_notes

#: ``--methods`` names: the class names without "Embedder".
NAMES = {cls.__name__.removesuffix("Embedder"): cls for cls in METHODS}


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
    add_corpus_arguments(parser)
    parser.add_argument(
        "--methods", nargs="+", choices=list(NAMES), default=list(NAMES)
    )
    parser.add_argument(
        "--representations",
        nargs="+",
        choices=REPRESENTATIONS,
        default=list(REPRESENTATIONS),
    )
    parser.add_argument("--n-notes", type=int, default=40, help="notes per unit")
    add_search_arguments(parser)
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
                args, partial(segment_notes, n_notes=args.n_notes)
            )
        loaded = time.perf_counter() - start
        print(
            f"{source}: {len(units)} units of {len(np.unique(units.piece))} pieces, "
            f"loaded and segmented in {loaded:.1f} s"
        )

        search = make_search(
            args, [NAMES[name] for name in args.methods], args.representations
        )
        start = time.perf_counter()
        with backend(scatter=[units]):
            search.fit(units, groups=units.piece)
        searched = time.perf_counter() - start

    n_fits = len(search.cv_results_["params"]) * args.n_splits
    print(f"{n_fits} fits + 1 refit in {searched:.1f} s")
    print_results(search)
    best = search.best_estimator_["emb"]
    print(f"\nbest: {type(best).__name__}(representation={best.representation!r})")
    return search


if __name__ == "__main__":
    main()
