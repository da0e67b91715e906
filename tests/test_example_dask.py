"""``examples/dask_grid_search.py`` runs end to end on a tiny corpus it is given."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

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


def load_example(name: str):
    # a script finds its sibling modules (_corpus) on sys.path, as when run directly
    if str(EXAMPLES) not in sys.path:
        sys.path.insert(0, str(EXAMPLES))
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Four pieces of two composers (48 notes each) listed in metadata.csv."""
    import pretty_midi

    root = tmp_path_factory.mktemp("corpus")
    rng = np.random.default_rng(1)
    rows = ["composer,title,year,midi"]
    for composer in ("Bach", "Haydn"):
        for i in range(2):
            pm = pretty_midi.PrettyMIDI(resolution=480, initial_tempo=120.0)
            piano = pretty_midi.Instrument(program=0)
            starts = np.cumsum(rng.choice([0.0, 0.25, 0.5], size=48))
            for start, pitch in zip(starts, rng.integers(48, 84, size=48)):
                note = pretty_midi.Note(80, int(pitch), start=start, end=start + 0.5)
                piano.notes.append(note)
            pm.instruments.append(piano)
            path = root / composer / f"piece{i}.mid"
            path.parent.mkdir(exist_ok=True)
            pm.write(str(path))
            rows.append(f"{composer},piece{i},,{composer}/piece{i}.mid")
    (root / "metadata.csv").write_text("\n".join(rows) + "\n")
    return root


@pytest.fixture
def one_torch_thread():
    """Serial runs with one torch thread, as on the Dask workers."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


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
    out = capsys.readouterr().out
    assert "Dask: 1 workers, 2 threads" in out
    assert search.best_params_["emb__representation"] == "two_hot"
