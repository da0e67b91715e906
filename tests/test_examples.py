"""The example scripts run end to end (on music21's corpus, tiny settings)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def load_example(name: str):
    # a script finds its sibling modules (_corpus) on sys.path, as when run directly
    if str(EXAMPLES) not in sys.path:
        sys.path.insert(0, str(EXAMPLES))
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_grid_search_over_the_six_methods(tmp_path, capsys):
    example = load_example("grid_search_methods")
    search = example.main(
        [
            "--root", str(tmp_path / "no-piano-midi"),
            "--composers", "bach", "haydn",
            "--max-pieces", "2",
            "--epochs", "1",
            "--hidden-dim", "8",
            "--n-splits", "2",
            "--n-candidates", "5",
            "--cache-dir", str(tmp_path),
        ]
    )  # fmt: skip
    out = capsys.readouterr().out
    assert "music21's corpus" in out
    # the grid covers the six methods, each with both representations
    results = search.cv_results_
    covered = [
        (type(emb).__name__, representation)
        for emb, representation in zip(
            results["param_emb"], results["param_emb__representation"], strict=True
        )
    ]
    methods = [
        "VAEEmbedder",
        "AAEEmbedder",
        "DSSMEmbedder",
        "ADSSMEmbedder",
        "AdjDEmbedder",
        "AAdjDEmbedder",
    ]
    assert sorted(covered) == sorted(
        (m, r) for m in methods for r in ("two_hot", "continuous")
    )
    scores = results["mean_test_score"]
    # every setting was scored: negated geometric mean ranks among 5 candidates
    assert np.isfinite(scores).all()
    assert np.all((scores <= -1) & (scores >= -5))
    # the printed winner is the search's
    best_line = [line for line in out.splitlines() if line.startswith("best:")]
    assert len(best_line) == 1
    name = type(search.best_params_["emb"]).__name__
    representation = search.best_params_["emb__representation"]
    assert best_line[0].startswith(f"best: {name}(representation={representation!r})")


def test_grid_search_over_the_piano_roll_models(tmp_path, capsys):
    example = load_example("piano_roll_models")
    search = example.main(
        [
            "--root", str(tmp_path / "no-piano-midi"),
            "--composers", "bach", "haydn",
            "--max-pieces", "2",
            "--keys", "2",
            "--epochs", "1",
            "--embedding-dim", "8",
            "--channels", "2", "2", "2", "2",
            "--hidden-dims", "8",
            "--lstm-hidden", "8",
            "--n-splits", "2",
            "--n-candidates", "5",
            "--cache-dir", str(tmp_path),
        ]
    )  # fmt: skip
    out = capsys.readouterr().out
    assert "music21's corpus" in out
    # the grid covers the five self-supervised models of the paper
    covered = sorted(
        (type(emb).__name__, getattr(emb, "corruption", None) or emb.target)
        for emb in search.cv_results_["param_emb"]
    )
    assert covered == [
        ("ContextRollEmbedder", "context"),
        ("ContextRollEmbedder", "next"),
        ("DenoisingRollEmbedder", "beat_drop"),
        ("DenoisingRollEmbedder", "note_drop"),
        ("DenoisingRollEmbedder", "octave_split"),
    ]
    # negated median ranks among 5 candidates
    scores = search.cv_results_["mean_test_score"]
    assert np.isfinite(scores).all()
    assert np.all((scores <= -1) & (scores >= -5))
    assert sum(line.startswith("best: ") for line in out.splitlines()) == 1


@pytest.mark.usefixtures("fluidsynth")
def test_audio_similarity_cross_validates_both_networks(tmp_path, capsys):
    pytest.importorskip("librosa", reason='needs pip install ".[audio]"')
    example = load_example("audio_similarity")
    results = example.main(
        [
            "--root", str(tmp_path / "no-piano-midi"),
            "--max-pieces", "4",
            "--epochs", "1",
            "--embedding-dim", "6",
            "--width", "2",
            "--n-splits", "2",
            "--cache-dir", str(tmp_path),
        ]
    )  # fmt: skip
    out = capsys.readouterr().out
    assert "16 clips of 4 pieces from music21's corpus" in out
    assert set(results) == {"single-input (mel)", "multi-input"}
    for cv in results.values():
        scores = cv["test_all"]
        assert len(scores) == 2 and np.all((scores >= 0) & (scores <= 1))


def test_distributed_training_runs_in_one_process(tmp_path, capsys):
    pytest.importorskip("accelerate")
    example = load_example("distributed_training")
    out_file = tmp_path / "model.pkl"
    rank = example.main(
        [
            "--root", str(tmp_path / "no-piano-midi"),
            "--composers", "bach", "haydn",
            "--max-pieces", "4",
            "--epochs", "1",
            "--batch-size", "64",
            "--hidden-dim", "16",
            "--cache-dir", str(tmp_path),
            "--out", str(out_file),
        ]
    )  # fmt: skip
    out = capsys.readouterr().out
    assert "1 process(es)" in out
    assert out_file.is_file()
    # a geometric mean rank among 100 candidates, printed as returned
    assert 1 <= rank <= 100
    assert f"held-out adjacency rank (of 100): {rank:.2f}" in out
