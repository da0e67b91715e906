"""The example scripts run end to end (on music21's corpus, tiny settings)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def load_example(name: str):
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
    assert "music21's corpus" in out and "best:" in out
    methods = {type(e).__name__ for e in search.cv_results_["param_emb"]}
    assert methods == {
        "VAEEmbedder",
        "AAEEmbedder",
        "DSSMEmbedder",
        "ADSSMEmbedder",
        "AdjDEmbedder",
        "AAdjDEmbedder",
    }
    assert len(search.cv_results_["params"]) == 12
    scores = search.cv_results_["mean_test_score"]
    # negated geometric mean ranks among 5 candidates: in [-5, -1]
    assert np.all((scores <= -1) & (scores >= -5))
    assert search.best_score_ == scores.max()
