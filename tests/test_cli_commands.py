"""The musemb sub-commands end to end on a small MIDI folder the tests write."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
from conftest import write_random_melody

from sklearn_musemb.cli import build_parser, main
from sklearn_musemb.persistence import load_model, read_model_metadata

LIGHT = [
    "--epochs", "1", "--n-notes", "8",
    "--param", "embedding_dim=6", "--param", "module__hidden_dim=16",
    "--param", "batch_size=32",
]  # fmt: skip


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """Two composers x three random pieces, one sub-folder each, plus a bad file."""
    root = tmp_path_factory.mktemp("midi")
    rng = np.random.default_rng(0)
    for composer in ("bach", "chopin"):
        (root / composer).mkdir()
        for i in range(3):
            write_random_melody(root / composer / f"{composer}{i}.mid", rng, 96)
    (root / "chopin" / "broken.mid").write_bytes(b"MThd\x00\x00\x00\x06garbage")
    return root


@pytest.fixture(scope="module")
def model(corpus, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("model") / "adjd.musemb"
    assert main(["fit", "--method", "adjd", "--data", str(corpus),
                 "--out", str(out), "--quiet", *LIGHT]) == 0  # fmt: skip
    return out


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SKLEARN_MUSEMB_CACHE", str(tmp_path / "cache"))


def test_every_command_has_help(capsys):
    for command in ("demo", "fit", "embed", "search", "evaluate", "info"):
        with pytest.raises(SystemExit) as exit_:
            main([command, "--help"])
        assert exit_.value.code == 0
        assert f"usage: musemb {command}" in capsys.readouterr().out


def test_fit_writes_a_model_that_knows_its_units(model, corpus):
    metadata = read_model_metadata(model)["metadata"]
    assert metadata["method"] == "adjd"
    assert metadata["units"] == {"kind": "notes", "n_notes": 8, "hop": 8}
    # the broken file was skipped, the six good ones trained on
    assert metadata["n_pieces"] == 6
    embedder = load_model(model)
    assert embedder.embedding_dim == 6 and embedder.max_epochs == 1


def test_embed_writes_one_row_per_unit_with_its_place(model, corpus, tmp_path):
    out = tmp_path / "e.npz"
    assert main(["embed", str(model), str(corpus), "--out", str(out)]) == 0
    table = np.load(out, allow_pickle=False)
    n = len(table["embeddings"])
    assert table["embeddings"].shape == (n, 6) and n == 6 * (96 // 8)
    assert set(table["file"]) == {f"{c}/{c}{i}.mid" for c in ("bach", "chopin")
                                  for i in range(3)}  # fmt: skip
    assert set(table["label"]) == {"bach", "chopin"}
    first = table["file"] == "bach/bach0.mid"
    assert np.all(np.diff(table["start"][first]) > 0)
    assert np.all(table["end"] > table["start"])
    assert table["position"][first].tolist() == list(range(96 // 8))
    # the same rows as a table with e0.. columns
    pd = pytest.importorskip("pandas")
    main(["embed", str(model), str(corpus), "--out", str(tmp_path / "e.csv")])
    frame = pd.read_csv(tmp_path / "e.csv")
    assert list(frame.columns[:7]) == [
        "file", "piece", "position", "start", "end", "label", "title"
    ]  # fmt: skip
    np.testing.assert_allclose(
        frame[[f"e{i}" for i in range(6)]].to_numpy(), table["embeddings"], rtol=1e-6
    )


def test_search_finds_the_query_passage_itself_first(model, corpus, tmp_path, capsys):
    table_path = tmp_path / "e.npz"
    main(["embed", str(model), str(corpus), "--out", str(table_path)])
    table = np.load(table_path, allow_pickle=False)
    row = np.flatnonzero(table["file"] == "chopin/chopin1.mid")[4]
    start = table["start"][row]
    capsys.readouterr()
    args = ["search", str(model), "--index", str(corpus),
            "--query", str(corpus / "chopin" / "chopin1.mid"),
            "--start", f"{start:.6f}", "--end", f"{start + 0.001:.6f}",
            "-k", "3", "--json"]  # fmt: skip
    assert main(args) == 0
    captured = capsys.readouterr()
    hits = json.loads(captured.out)["hits"]
    assert len(hits) == 3 and [h["rank"] for h in hits] == [1, 2, 3]
    assert hits[0]["file"] == "chopin/chopin1.mid"
    assert hits[0]["start"] == pytest.approx(start)
    assert hits[0]["distance"] == pytest.approx(0.0, abs=1e-3)
    assert hits[0]["label"] == "chopin"
    assert "indexing" in captured.err

    # the index is reused while folder and model are unchanged...
    assert main(args) == 0
    assert "using the saved index" in capsys.readouterr().err
    # ... updated with the files added or removed since ...
    write_random_melody(corpus / "bach" / "new.mid", np.random.default_rng(9), 96)
    try:
        assert main(args) == 0
        assert "1 new or changed, 0 removed files" in capsys.readouterr().err
        # ... to what a build from scratch gives
        updated = _saved_index_rows(tmp_path)
        assert main([*args, "--rebuild"]) == 0
        assert "indexing" in capsys.readouterr().err
        assert _saved_index_rows(tmp_path) == updated
        assert any(row[0] == "bach/new.mid" for row in updated)
    finally:
        (corpus / "bach" / "new.mid").unlink()
    assert main(args) == 0
    assert "0 new or changed, 1 removed files" in capsys.readouterr().err
    assert not any(row[0] == "bach/new.mid" for row in _saved_index_rows(tmp_path))

    # leaving out the query's own file
    main([*args, "--exclude-query-file", "-k", "40"])
    hits = json.loads(capsys.readouterr().out)["hits"]
    # every other unit of the folder (5 files x 12 units), none of the query file
    assert len(hits) == 40
    assert all(h["file"] != "chopin/chopin1.mid" for h in hits)


def _saved_index_rows(tmp_path: Path) -> list[tuple]:
    """(file, start, embedding) of every row of the one saved index in the cache."""
    from sklearn_musemb.search import EmbeddingIndex

    (path,) = (tmp_path / "cache" / "indexes").glob("*.npz")
    index = EmbeddingIndex.load(path)
    meta = index.metadata_
    return sorted(
        (str(f), round(float(s), 6), tuple(np.round(v, 5)))
        for f, s, v in zip(meta["file"], meta["start"], index.vectors_, strict=True)
    )


def test_search_caps_hits_per_file(model, corpus, capsys):
    query = corpus / "bach" / "bach2.mid"
    argv = ["search", str(model), "--index", str(corpus), "--query", str(query),
            "-k", "6", "--max-per-file", "1", "--json"]  # fmt: skip
    assert main(argv) == 0
    hits = json.loads(capsys.readouterr().out)["hits"]
    # six files, one hit each
    assert sorted(h["file"] for h in hits) == sorted(
        f"{c}/{c}{i}.mid" for c in ("bach", "chopin") for i in range(3)
    )
    assert [h["rank"] for h in hits] == list(range(1, 7))
    distances = [h["distance"] for h in hits]
    assert distances == sorted(distances)


def test_search_prints_a_table(model, corpus, capsys):
    query = corpus / "bach" / "bach2.mid"
    assert main(["search", str(model), "--index", str(corpus),
                 "--query", str(query), "-k", "4"]) == 0  # fmt: skip
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("query: bach2.mid")
    assert lines[1].split() == ["rank", "distance", "file", "time", "composer"]
    assert len(lines) == 2 + 4
    assert lines[2].split()[2] == "bach/bach2.mid"  # the whole piece, itself first


def test_evaluate_reports_the_tasks_next_to_their_baselines(model, corpus, tmp_path,
                                                            capsys):  # fmt: skip
    out = tmp_path / "scores.json"
    assert main(["evaluate", str(model), str(corpus), "--n-candidates", "10",
                 "--n-splits", "2", "--out", str(out)]) == 0  # fmt: skip
    scores = json.loads(out.read_text())
    adjacency = scores["adjacency"]
    assert 1.0 <= adjacency["geometric_mean_rank"] <= 10.0
    assert adjacency["queries"] == 6 * (96 // 8)
    assert 1.0 <= adjacency["random_vectors_geometric_mean"] <= 10.0
    composer = scores["composer"]
    assert composer["labels"] == 2 and 0.0 <= composer["f1_macro_mean"] <= 1.0
    assert "geometric_mean_rank" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["fit", "--method", "bert", "--data", ".", "--out", "m"], "unknown method"),
        (["fit", "--method", "adjd", "--data", "/no/such", "--out", "m"],
         "no such file or folder"),
        (["fit", "--method", "adjd", "--data", "{corpus}", "--out", "m",
          "--param", "learning_rate=3"], "no parameter 'learning_rate'; valid:"),
        (["fit", "--method", "adjd", "--data", "{corpus}", "--out", "m",
          "--param", "lr"], "--param takes name=value"),
        (["fit", "--method", "composer-roll", "--data", "{corpus}/bach", "--out",
          "m"], "has one label"),
        (["fit", "--method", "adjd", "--data", "{corpus}", "--out", "m",
          "--param", "batch_size=0"], "batch_size must be a positive integer"),
        (["fit", "--method", "adjd", "--data", "{corpus}", "--out", "m",
          "--param", "optimizer=adamw2"], "name of a class of torch.optim"),
        (["fit", "--method", "adjd", "--data", "{corpus}", "--out", "m",
          "--device", "tpu"], "device='tpu' is not a torch device"),
        (["fit", "--method", "adjd", "--data", "{corpus}", "--out", "m", "--n-notes",
          "8", "--param", "module__hidden_dim='wide'"], "TypeError: "),
        (["embed", "{model}", "{corpus}", "--out", "e.xlsx"], "suffix must be one of"),
        (["evaluate", "{model}", "{corpus}", "--tasks", "chess"], "unknown task"),
        (["search", "{model}", "--index", "{corpus}", "--query",
          "{corpus}/bach/bach0.mid", "--start", "5000"], "no unit of bach0.mid"),
        (["search", "{model}", "--index", "{corpus}", "--query",
          "{corpus}/chopin/broken.mid"], "broken.mid"),
    ],
    ids=["method", "data", "param", "param-syntax", "labels", "batch", "optimizer",
         "device", "unexpected", "suffix", "task",
         "span", "query"],
)  # fmt: skip
def test_errors_are_one_line_with_status_1(argv, message, model, corpus, capsys,
                                           tmp_path, monkeypatch):  # fmt: skip
    monkeypatch.chdir(tmp_path)
    argv = [a.format(corpus=corpus, model=model) for a in argv]
    assert main(argv) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("musemb: error: ")
    assert message in err[-1]


def test_a_tampered_model_is_refused_in_one_line(model, corpus, tmp_path, capsys):
    tampered = tmp_path / "tampered.musemb"
    with zipfile.ZipFile(model) as src, zipfile.ZipFile(tampered, "w") as dst:
        for name in src.namelist():
            data = src.read(name)
            if name.endswith(".safetensors"):
                data = data[:-1] + bytes([data[-1] ^ 1])
            dst.writestr(name, data)
    assert main(["embed", str(tampered), str(corpus), "--out", "x.npz"]) == 1
    assert "was modified after it was saved" in capsys.readouterr().err


def test_a_bad_command_line_exits_2(capsys):
    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args(["fit", "--data", "x"])
    assert exit_.value.code == 2


def test_fit_resumes_from_its_checkpoints(corpus, tmp_path, capsys):
    """A run stopped after 2 epochs and re-run for 4 equals a straight 4-epoch run."""
    base = ["fit", "--method", "adjd", "--data", str(corpus), "--quiet",
            "--n-notes", "8", "--param", "embedding_dim=6",
            "--param", "module__hidden_dim=16", "--param", "batch_size=32"]  # fmt: skip
    checkpoints = ["--checkpoint-dir", str(tmp_path / "ckpt")]
    assert main([*base, "--epochs", "2", "--out", str(tmp_path / "a.musemb"),
                 *checkpoints]) == 0  # fmt: skip
    assert (tmp_path / "ckpt" / "checkpoint.pt").is_file()
    assert main([*base, "--epochs", "4", "--out", str(tmp_path / "b.musemb"),
                 *checkpoints]) == 0  # fmt: skip
    assert main([*base, "--epochs", "4", "--out", str(tmp_path / "c.musemb")]) == 0
    resumed = load_model(tmp_path / "b.musemb")
    straight = load_model(tmp_path / "c.musemb")
    assert len(resumed.history) == 4
    units = np.random.default_rng(0).integers(40, 90, size=(20, 8, 2))
    np.testing.assert_array_equal(resumed.transform(units), straight.transform(units))
    # the model file keeps no callback of the run
    assert resumed.callbacks is None


def test_piano_roll_methods_embed_and_search_beat_units(corpus, tmp_path, capsys):
    model = tmp_path / "roll.musemb"
    assert main(["fit", "--method", "denoising-roll", "--data", str(corpus),
                 "--out", str(model), "--quiet", "--epochs", "1", "--beats", "2",
                 "--param", "embedding_dim=4", "--param", "module__channels=(2,2,2,2)",
                 "--param", "module__hidden_dims=(8,)"]) == 0  # fmt: skip
    assert read_model_metadata(model)["metadata"]["units"] == {
        "kind": "beats", "beats": 2,
    }  # fmt: skip
    out = tmp_path / "e.npz"
    assert main(["embed", str(model), str(corpus), "--out", str(out)]) == 0
    table = np.load(out, allow_pickle=False)
    first = table["file"] == "bach/bach0.mid"
    # 2-beat windows at 120 qpm: one second each, back to back
    np.testing.assert_allclose(np.diff(table["start"][first]), 1.0)
    np.testing.assert_allclose(table["end"] - table["start"], 1.0)
    capsys.readouterr()
    assert main(["search", str(model), "--index", str(corpus), "--query",
                 str(corpus / "bach" / "bach0.mid"), "--start", "3", "--end", "3.5",
                 "--json", "-k", "2"]) == 0  # fmt: skip
    hits = json.loads(capsys.readouterr().out)["hits"]
    assert hits[0]["file"] == "bach/bach0.mid" and hits[0]["start"] == 3.0


def test_info_describes_a_model_without_loading_it(model, tmp_path, capsys):
    assert main(["info", str(model)]) == 0
    out = capsys.readouterr().out
    assert "estimator: sklearn_musemb.embedders.adjacency.AdjDEmbedder" in out
    assert "method:    adjd" in out and "epochs:    1, last train_loss" in out
    assert "  embedding_dim = 6" in out
    assert main(["info", str(model), "--json"]) == 0
    manifest = json.loads(capsys.readouterr().out)
    assert manifest["metadata"]["units"]["n_notes"] == 8
    (tmp_path / "notes.txt").write_text("not a model")
    assert main(["info", str(tmp_path / "notes.txt")]) == 1
    assert "not a sklearn-musemb model file" in capsys.readouterr().err


def test_class_parameters_take_names(corpus, tmp_path):
    out = tmp_path / "sgd.musemb"
    assert main(["fit", "--method", "adjd", "--data", str(corpus), "--out", str(out),
                 "--quiet", *LIGHT, "--param", "optimizer=SGD"]) == 0  # fmt: skip
    import torch

    assert load_model(out).optimizer is torch.optim.SGD
