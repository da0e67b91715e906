"""``musemb fit --max-time`` and the method ``fit`` trains without ``--method``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import write_random_melody

from sklearn_musemb.cli import build_parser, main
from sklearn_musemb.cli.methods import DEFAULT_METHOD, METHODS, get_method
from sklearn_musemb.persistence import load_model, read_model_metadata

LIGHT = [
    "--n-notes", "8", "--param", "embedding_dim=6",
    "--param", "module__hidden_dim=16", "--param", "batch_size=32",
]  # fmt: skip
#: More epochs than any budget of these tests lets run: reaching them means the
#: budget did not stop the training.
MANY_EPOCHS = "100000"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """Two composers x three random pieces of 96 notes: 72 units of 8 notes."""
    root = tmp_path_factory.mktemp("midi")
    rng = np.random.default_rng(0)
    for composer in ("bach", "chopin"):
        (root / composer).mkdir()
        for i in range(3):
            write_random_melody(root / composer / f"{composer}{i}.mid", rng, 96)
    return root


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SKLEARN_MUSEMB_CACHE", str(tmp_path / "cache"))


def test_max_time_stops_training_and_writes_a_model_that_embeds(
    corpus, tmp_path, capsys
):
    model = tmp_path / "budget.musemb"
    # without --quiet: the progress bar of the unfinished epoch is closed too
    assert main(["fit", "--method", "adjd", "--data", str(corpus),
                 "--out", str(model), "--epochs", MANY_EPOCHS,
                 "--max-time", "0.2", *LIGHT]) == 0  # fmt: skip
    err = capsys.readouterr().err
    assert "--max-time 0.2 s ran out: training stopped after" in err
    manifest = read_model_metadata(model)
    assert manifest["metadata"]["max_time"] == 0.2
    assert manifest["metadata"]["stopped_by_max_time"] is True

    embedder = load_model(model)
    # stopped in an epoch (the last row of the history), well before the last
    assert 1 <= len(embedder.history) < int(MANY_EPOCHS)
    assert embedder.callbacks is None  # the budget belongs to the run
    out = tmp_path / "e.npz"
    assert main(["embed", str(model), str(corpus), "--out", str(out)]) == 0
    table = np.load(out, allow_pickle=False)
    assert table["embeddings"].shape == (6 * (96 // 8), 6)
    assert np.isfinite(table["embeddings"]).all()
    capsys.readouterr()
    # a unit of a file of the folder finds itself
    start = table["start"][np.flatnonzero(table["file"] == "bach/bach1.mid")[3]]
    query = ["--query", str(corpus / "bach" / "bach1.mid"),
             "--start", f"{start:.6f}", "--end", f"{start + 0.001:.6f}"]  # fmt: skip
    argv = ["search", str(model), "--index", str(corpus), *query, "--json", "-k", "1"]
    assert main(argv) == 0
    (hit,) = json.loads(capsys.readouterr().out)["hits"]
    assert hit["file"] == "bach/bach1.mid"
    assert hit["distance"] == pytest.approx(0.0, abs=1e-3)


def test_a_budget_that_is_not_spent_changes_nothing(corpus, tmp_path, capsys):
    model = tmp_path / "m.musemb"
    assert main(["fit", "--method", "adjd", "--data", str(corpus), "--quiet",
                 "--out", str(model), "--epochs", "2", "--max-time", "1e6",
                 *LIGHT]) == 0  # fmt: skip
    assert "ran out" not in capsys.readouterr().err
    assert len(load_model(model).history) == 2
    assert read_model_metadata(model)["metadata"]["stopped_by_max_time"] is False


def test_max_time_with_checkpoints_resumes_to_the_uninterrupted_model(
    corpus, tmp_path, capsys
):
    """Stopped by the budget, re-run, it ends as a run never stopped would."""
    base = ["fit", "--method", "adjd", "--data", str(corpus), "--quiet", *LIGHT]
    checkpoints = ["--checkpoint-dir", str(tmp_path / "ckpt")]
    first = tmp_path / "first.musemb"
    assert main([*base, "--epochs", "2", "--out", str(first), *checkpoints]) == 0
    capsys.readouterr()
    # resumes the 2 epochs, then the budget stops it after a batch or a few
    stopped = tmp_path / "stopped.musemb"
    assert main([*base, "--epochs", MANY_EPOCHS, "--max-time", "0.001",
                 "--out", str(stopped), *checkpoints]) == 0  # fmt: skip
    err = capsys.readouterr().err
    assert "ran out" in err and "run the command again" in err
    history = load_model(stopped).history
    assert 3 <= len(history) < int(MANY_EPOCHS)
    assert history[:2, "train_loss"] == load_model(first).history[:, "train_loss"]
    finished = len(history) - 1  # the last row is the epoch the budget cut

    # one more epoch from the checkpoint equals a straight run of as many
    resumed, straight = tmp_path / "resumed.musemb", tmp_path / "straight.musemb"
    epochs = str(finished + 1)
    assert main([*base, "--epochs", epochs, "--out", str(resumed), *checkpoints]) == 0
    assert main([*base, "--epochs", epochs, "--out", str(straight)]) == 0
    resumed, straight = load_model(resumed), load_model(straight)
    assert len(resumed.history) == finished + 1
    units = np.random.default_rng(0).integers(40, 90, size=(20, 8, 2))
    np.testing.assert_array_equal(resumed.transform(units), straight.transform(units))


@pytest.mark.parametrize("value", ["0", "-1", "-0.5", "inf", "nan"])
def test_a_bad_max_time_is_one_line_with_status_1(value, corpus, tmp_path, capsys):
    argv = ["fit", "--data", str(corpus), "--out", str(tmp_path / "m.musemb"),
            f"--max-time={value}"]  # fmt: skip
    assert main(argv) == 1
    err = capsys.readouterr().err.strip().splitlines()
    # refused before the corpus is read
    assert len(err) == 1
    assert err[0].startswith("musemb: error: ") and "--max-time" in err[0]
    assert not (tmp_path / "m.musemb").exists()


def test_a_max_time_that_is_not_a_number_is_a_bad_command_line(capsys):
    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args(["fit", "--data", "x", "--out", "m",
                                   "--max-time", "ten"])  # fmt: skip
    assert exit_.value.code == 2
    assert "--max-time" in capsys.readouterr().err


def test_the_default_method_is_registered_and_its_help_says_why(capsys):
    assert DEFAULT_METHOD in METHODS
    with pytest.raises(SystemExit):
        main(["fit", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert f"default: {DEFAULT_METHOD}, the most robust to tempo, chord spread" in text
    assert "timing jitter in benchmarks/results/cpu/robustness" in text
    assert "[default]" in text


def test_fit_without_method_trains_the_default(corpus, tmp_path, capsys):
    model = tmp_path / "default.musemb"
    # parameters every method has, so the test holds whichever is the default
    assert main(["fit", "--data", str(corpus), "--out", str(model), "--quiet",
                 "--epochs", "1", "--n-notes", "8"]) == 0  # fmt: skip
    method = get_method(DEFAULT_METHOD)
    assert f"method {method.name} ({method.class_name}), the default" in (
        capsys.readouterr().err
    )
    manifest = read_model_metadata(model)
    assert manifest["estimator"]["class"].endswith("." + method.class_name)
    assert manifest["metadata"]["method"] == method.name
    assert main(["info", str(model)]) == 0
    assert f"method:    {method.name}" in capsys.readouterr().out
    out = tmp_path / "e.npz"
    assert main(["embed", str(model), str(corpus), "--out", str(out)]) == 0
    assert len(np.load(out, allow_pickle=False)["embeddings"]) == 6 * (96 // 8)
