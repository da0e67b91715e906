"""``examples/dask_grid_search.py`` runs end to end on a tiny corpus it is given."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import write_random_melody
from test_dask import torch_threads
from test_examples import load_example

#: Tiny settings: two methods, one representation, two folds, 8-note units.
TINY = [
    "--methods", "AdjD", "DSSM",
    "--representations", "two_hot",
    "--epochs", "1",
    "--hidden-dim", "8",
    "--n-splits", "2",
    "--n-candidates", "5",
    "--n-notes", "8",
]  # fmt: skip


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Four pieces of two composers (48 notes each) listed in metadata.csv."""
    root = tmp_path_factory.mktemp("corpus")
    rng = np.random.default_rng(1)
    rows = ["composer,title,year,midi"]
    for composer in ("Bach", "Haydn"):
        for i in range(2):
            write_random_melody(root / composer / f"piece{i}.mid", rng, 48)
            rows.append(f"{composer},piece{i},,{composer}/piece{i}.mid")
    (root / "metadata.csv").write_text("\n".join(rows) + "\n")
    return root


@pytest.fixture
def one_torch_thread():
    """Serial runs with one torch thread, as on the Dask workers."""
    with torch_threads(1):
        yield


def scores(search) -> np.ndarray:
    results = search.cv_results_
    return np.stack([results["split0_test_score"], results["split1_test_score"]])


def test_local_cluster_run_equals_the_serial_run(corpus, capsys, one_torch_thread):
    pytest.importorskip("distributed")
    example = load_example("dask_grid_search")
    search = example.main(["--root", str(corpus), "--workers", "2", *TINY])
    out = capsys.readouterr().out
    assert "Dask: 2 workers, 2 threads" in out
    assert "24 units of 4 pieces" in out  # 4 pieces x 48 notes / 8 notes
    assert "4 fits + 1 refit" in out and "best: " in out
    covered = [
        (type(emb).__name__, rep)
        for emb, rep in zip(
            search.cv_results_["param_emb"],
            search.cv_results_["param_emb__representation"],
            strict=True,
        )
    ]
    assert covered == [("AdjDEmbedder", "two_hot"), ("DSSMEmbedder", "two_hot")]

    serial = example.main(["--root", str(corpus), "--serial", *TINY])
    assert "serial, in this process" in capsys.readouterr().out
    np.testing.assert_array_equal(scores(search), scores(serial))
    assert type(search.best_estimator_["emb"]) is type(serial.best_estimator_["emb"])


def test_connects_to_a_running_scheduler(corpus, capsys):
    distributed = pytest.importorskip("distributed")
    # stands in for a real cluster started with `dask scheduler` / `dask worker`
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=2, processes=False, dashboard_address=":0"
    ) as cluster:
        example = load_example("dask_grid_search")
        argv = ["--scheduler", cluster.scheduler_address, "--root", str(corpus)]
        search = example.main([*argv, "--torch-threads", "1", *TINY])
        # the example's client is closed; the cluster still serves
        assert len(cluster.scheduler_info["workers"]) == 1
        with distributed.Client(cluster) as client:
            assert client.submit(sum, [1, 2]).result() == 3
    out = capsys.readouterr().out
    assert "Dask: 1 workers, 2 threads" in out
    assert search.best_params_["emb__representation"] == "two_hot"
