"""Corpus loading and grid search on Dask workers give the serial results.

The clusters are in-process ``LocalCluster`` objects (two worker processes, or one
process with two worker threads), started once per module and closed by their
fixtures. ``docs/dask.md`` describes the same runs on a real cluster.
"""

from __future__ import annotations

import contextlib
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import assert_tables_equal, write_random_melody
from sklearn.model_selection import GridSearchCV, GroupKFold
from sklearn.pipeline import Pipeline

from sklearn_musemb import load_midi_corpus, segment_notes
from sklearn_musemb.embedders import AdjDEmbedder, DSSMEmbedder
from sklearn_musemb.metrics import make_adjacency_rank_scorer
from sklearn_musemb.utils.torch_utils import torch_seeded

#: Readable pieces of the test corpus: (composer, file stem), 64 notes each.
PIECES = [(name, f"{name.lower()}{i}") for name in ("Bach", "Haydn") for i in range(3)]
N_NOTES = 64


@contextlib.contextmanager
def dask_client(*, processes: bool) -> Iterator[object]:
    """A ``LocalCluster`` of two worker slots and its client, both closed on exit."""
    distributed = pytest.importorskip("distributed")
    if processes:
        options = {"n_workers": 2, "threads_per_worker": 1, "processes": True}
    else:
        options = {"n_workers": 1, "threads_per_worker": 2, "processes": False}
    with (
        distributed.LocalCluster(dashboard_address=":0", **options) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


@pytest.fixture(scope="module")
def process_client() -> Iterator[object]:
    """Two worker processes (objects cross process boundaries pickled)."""
    with dask_client(processes=True) as client:
        yield client


@pytest.fixture(scope="module")
def corpus_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Six small pieces of two composers, plus a corrupt file and a missing one."""
    root = tmp_path_factory.mktemp("corpus")
    rng = np.random.default_rng(0)
    rows = ["composer,title,year,midi"]
    for composer, stem in PIECES:
        write_random_melody(root / "midis" / composer / f"{stem}.mid", rng, N_NOTES)
        rows.append(f"{composer},{stem},1750,midis/{composer}/{stem}.mid")
    (root / "midis" / "Bach" / "broken.mid").write_bytes(b"MThd garbage")
    rows.insert(3, "Bach,Broken,1750,midis/Bach/broken.mid")
    rows.append("Haydn,Gone,1790,midis/Haydn/gone.mid")
    (root / "metadata.csv").write_text("\n".join(rows) + "\n")
    return root


def load(root: Path, **kwargs) -> object:
    with pytest.warns(UserWarning, match="skipped 2 of 8 MIDI files"):
        return load_midi_corpus(root, **kwargs)


@contextlib.contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Run a block with ``n`` torch threads, as on the workers (the nanny sets 1)."""
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def assert_same_corpus(a, b) -> None:
    assert a.labels.tolist() == b.labels.tolist()
    assert a.titles == b.titles and a.paths == b.paths and a.skipped == b.skipped
    np.testing.assert_array_equal(a.years, b.years)
    np.testing.assert_array_equal(a.piece_ids, b.piece_ids)
    assert len(a.pieces) == len(b.pieces)
    for x, y in zip(a.pieces, b.pieces, strict=True):
        assert_tables_equal(x, y)
        assert x.source == y.source


@pytest.mark.parametrize("n_jobs", [None, -1])
def test_corpus_loaded_on_workers_equals_the_serial_load(
    process_client, corpus_root, n_jobs
):
    from distributed import get_task_stream
    from joblib import parallel_backend

    serial = load(corpus_root)
    with (
        get_task_stream(process_client) as stream,
        parallel_backend("dask", client=process_client),
    ):
        spread = load(corpus_root, n_jobs=n_jobs)
    assert_same_corpus(spread, serial)
    # the absent file is found missing here; the corrupt one is refused on a worker
    (gone, missing), (broken, unreadable) = spread.skipped
    assert Path(gone).name == "gone.mid" and missing.startswith("file not found")
    assert Path(broken).name == "broken.mid" and "file not found" not in unreadable
    assert spread.titles == [stem for _, stem in PIECES]
    # the files were parsed by the workers (n_jobs=None follows the context)
    workers = {task["worker"] for task in stream.data}
    assert workers and workers <= set(process_client.scheduler_info()["workers"])


def search_methods(units) -> GridSearchCV:
    common = {
        "max_epochs": 1,
        "module__hidden_dim": 16,
        "embedding_dim": 8,
        "device": "cpu",
        "random_state": 0,
    }
    return GridSearchCV(
        Pipeline([("emb", AdjDEmbedder(**common))]),
        {
            "emb": [AdjDEmbedder(**common), DSSMEmbedder(**common)],
            "emb__representation": ["two_hot", "continuous"],
        },
        scoring=make_adjacency_rank_scorer(n_candidates=5, random_state=0),
        cv=GroupKFold(n_splits=2),
        error_score="raise",
    )


@pytest.fixture(scope="module")
def units(corpus_root):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        corpus = load_midi_corpus(corpus_root)
    return segment_notes(
        corpus.pieces, n_notes=8, labels=corpus.labels, piece_ids=corpus.piece_ids
    )


@pytest.fixture(scope="module")
def serial_search(units) -> GridSearchCV:
    with torch_threads(1):
        return search_methods(units).fit(units, groups=units.piece)


def best_of(search: GridSearchCV) -> tuple[str, str]:
    """The winning method's class name and representation."""
    best = search.best_params_
    return type(best["emb"]).__name__, best["emb__representation"]


@pytest.mark.parametrize("processes", [True, False], ids=["processes", "threads"])
def test_grid_search_on_workers_equals_the_serial_search(
    request, units, serial_search, processes
):
    from joblib import parallel_backend

    # two worker processes, or two threads of this process: seeded fits running
    # side by side in one process must not share torch's global generator
    with contextlib.ExitStack() as stack:
        if processes:
            client = request.getfixturevalue("process_client")
        else:
            client = stack.enter_context(dask_client(processes=False))
        stack.enter_context(torch_threads(1))
        # scatter: the units are sent to the workers once, not with every fit
        stack.enter_context(parallel_backend("dask", client=client, scatter=[units]))
        search = search_methods(units).fit(units, groups=units.piece)

    ref = serial_search.cv_results_
    assert len(ref["params"]) == 4
    assert best_of(search) == best_of(serial_search)
    for key in ("split0_test_score", "split1_test_score", "rank_test_score"):
        np.testing.assert_array_equal(search.cv_results_[key], ref[key], err_msg=key)
    # the refitted winner (fitted here, after the search) embeds like the serial one
    np.testing.assert_array_equal(
        search.best_estimator_.transform(units[:5]),
        serial_search.best_estimator_.transform(units[:5]),
    )


def test_seeded_blocks_of_two_threads_keep_their_own_seed():
    # A seeded fit holds torch's global generator (module initialisation draws
    # from it) for the whole block; a second thread's seeded fit waits for it.
    with torch_seeded(1, "cpu"):
        expected_first = torch.rand(4)
    with torch_seeded(2, "cpu"):
        expected_second = torch.rand(4)
    first_inside, second_seeded, first_drawn = (threading.Event() for _ in range(3))
    drawn: dict[str, torch.Tensor] = {}

    def first() -> None:
        with torch_seeded(1, "cpu"):
            first_inside.set()
            # unlocked, the other thread would reseed the shared generator here;
            # locked, it cannot enter its block and this wait runs out
            second_seeded.wait(timeout=2)
            drawn["first"] = torch.rand(4)
            first_drawn.set()

    def second() -> None:
        first_inside.wait(timeout=30)
        with torch_seeded(2, "cpu"):
            second_seeded.set()
            first_drawn.wait(timeout=30)
            drawn["second"] = torch.rand(4)

    threads = [threading.Thread(target=f) for f in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert torch.equal(drawn["first"], expected_first)
    assert torch.equal(drawn["second"], expected_second)
