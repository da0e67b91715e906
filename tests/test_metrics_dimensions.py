"""Triplets per musical dimension, sub-space analysis and the dimension scorer."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import cross_validate
from sklearn.preprocessing import FunctionTransformer

from sklearn_musemb.metrics import (
    DimensionTripletScorer,
    sample_dimension_triplets,
    subspace_scores,
)
from sklearn_musemb.metrics.similarity_rules import code_labels, similar


def table(n=60, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "era": rng.choice(["baroque", "classical", "romantic"], size=n),
            "tempo": rng.choice([60.0, 120.0, 90.0, 100.0], size=n),
            "key": rng.choice(["C major", "c minor", "G major", "e minor"], size=n),
        }
    )


RULES = {"tempo": "tempo", "key": "key"}


def test_triplets_follow_each_rule_and_avoid_the_anchor_group():
    y = table()
    groups = np.arange(len(y)) // 3
    triplets = sample_dimension_triplets(
        y, RULES, n_triplets=300, groups=groups, random_state=0
    )
    assert set(triplets) == {"era", "tempo", "key"}
    for name, t in triplets.items():
        assert t.shape == (300, 3)
        rule = RULES.get(name, "equal")
        codes = code_labels(y[name], rule)
        a, p, n = t.T
        assert similar(codes[a], codes[p], rule).all()
        assert not similar(codes[a], codes[n], rule).any()
        assert (groups[a] != groups[p]).all() and (groups[a] != groups[n]).all()
    # 60 and 120 bpm are a tempo octave apart; C major and c minor are parallel
    t = triplets["tempo"]
    tempo = y["tempo"].to_numpy()
    assert ((tempo[t[:, 0]] == 60) & (tempo[t[:, 1]] == 120)).any()
    k = triplets["key"]
    keys = y["key"].to_numpy()
    assert ((keys[k[:, 0]] == "C major") & (keys[k[:, 1]] == "c minor")).any()


def test_triplets_are_reproducible_and_skip_dimensions_without_any():
    y = table().assign(constant="x")
    a = sample_dimension_triplets(y, RULES, n_triplets=50, random_state=3)
    b = sample_dimension_triplets(y, RULES, n_triplets=50, random_state=3)
    assert "constant" not in a
    for name in a:
        np.testing.assert_array_equal(a[name], b[name])


def test_triplet_sampling_errors():
    y = table(n=6)
    with pytest.raises(ValueError, match="unknown dimensions \\['bpm'\\]"):
        sample_dimension_triplets(y, {"bpm": "tempo"})
    with pytest.raises(ValueError, match="groups must have shape \\(6,\\)"):
        sample_dimension_triplets(y, groups=[1, 2])
    with pytest.raises(ValueError, match="unknown similarity rule"):
        sample_dimension_triplets(y, {"era": "loose"})


class _TwoBlockModel:
    """Stands in for a fitted CSN: dimension 'era' owns column 0, 'tempo' column 1."""

    dimensions_ = ["era", "tempo"]

    def subspace(self, embeddings, dimensions):
        keep = np.zeros(2)
        for d in dimensions:
            keep[self.dimensions_.index(d)] = 1.0
        return np.asarray(embeddings) * keep


def test_subspace_scores_rank_the_combinations():
    y = table(n=80)
    era = code_labels(y["era"], "equal")
    noise = np.random.default_rng(0).normal(size=80)
    Z = np.column_stack([era, noise])  # column 0 encodes the era, column 1 noise
    triplets = sample_dimension_triplets(y[["era"]], n_triplets=200, random_state=0)
    rows = subspace_scores(_TwoBlockModel(), Z, triplets)
    assert [r["dimensions"] for r in rows] == [("era",), ("era", "tempo"), ("tempo",)]
    assert rows[0]["era"] == 1.0 and rows[-1]["era"] < 0.8
    assert len(subspace_scores(_TwoBlockModel(), Z, triplets, max_size=1)) == 2


def test_dimension_scorer_works_in_cross_validate():
    y = table(n=90)
    X = np.column_stack([code_labels(y["era"], "equal"), np.zeros(90)])
    scorer = DimensionTripletScorer(RULES, dimension="era", n_triplets=100)
    cv = cross_validate(FunctionTransformer(), X, y, scoring=scorer, cv=3)
    assert (cv["test_score"] == 1.0).all()
    overall = DimensionTripletScorer(RULES, n_triplets=100)(
        FunctionTransformer().fit(X), X, y
    )
    assert overall < 0.9  # the tempo and key triplets are not in X
    with pytest.raises(ValueError, match="no triplets for dimension 'mood'"):
        DimensionTripletScorer(dimension="mood")(FunctionTransformer().fit(X), X, y)
    with pytest.raises(ValueError, match="needs y"):
        scorer(FunctionTransformer().fit(X), X)
