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
