"""triplet_score and precision_at_k."""

from __future__ import annotations

import numpy as np
import pytest

from sklearn_musemb.metrics import precision_at_k, triplet_score


def test_triplet_score_counts_strictly_closer_positives():
    Z = np.array([[0.0, 0.0], [1.0, 0.0], [3.0, 0.0], [1.0, 0.0]])
    assert triplet_score(Z, [[0, 1, 2]]) == 1.0
    assert triplet_score(Z, [[0, 2, 1]]) == 0.0
    assert triplet_score(Z, [[0, 1, 3]]) == 0.0  # a tie is a failure
    assert triplet_score(Z, [[0, 1, 2], [0, 2, 1]], metric="sqeuclidean") == 0.5


def test_triplet_score_cosine_ignores_length():
    Z = np.array([[1.0, 0.0], [10.0, 0.5], [0.0, 1.0]])
    assert triplet_score(Z, [[0, 1, 2]], metric="cosine") == 1.0


@pytest.mark.parametrize(
    "triplets, match",
    [([[0, 1]], "shape"), ([[0, 1, 9]], "0..2"), ([[0.0, 1.0, 2.0]], "integer")],
)
def test_triplet_score_rejects_bad_triplets(triplets, match):
    with pytest.raises(ValueError, match=match):
        triplet_score(np.zeros((3, 2)), triplets)


def test_precision_at_k_single_and_multi_label_and_indicator():
    rng = np.random.default_rng(0)
    y = np.repeat(["a", "b", "c"], 20)
    Z = rng.normal(size=(60, 3)) + 10 * (y[:, None] == np.array(["a", "b", "c"]))
    assert precision_at_k(Z, y, k=10) == 1.0
    noise = rng.normal(size=(60, 3))
    assert 0.2 < precision_at_k(noise, y, k=10) < 0.5  # chance: 19/59
    tags = [[label, "x"] if i % 2 else [label] for i, label in enumerate(y)]
    assert precision_at_k(Z, tags, k=10) == 1.0
    indicator = (y[:, None] == np.array(["a", "b", "c"])).astype(int)
    assert precision_at_k(Z, indicator, k=10) == precision_at_k(Z, y, k=10)


def test_precision_at_k_excludes_the_query_and_its_group():
    Z = np.array([[0.0], [0.1], [5.0], [5.1]])
    y = ["a", "a", "b", "b"]
    assert precision_at_k(Z, y, k=1) == 1.0
    # with each pair one group, the nearest allowed item has the other label
    assert precision_at_k(Z, y, k=1, groups=[0, 0, 1, 1]) == 0.0


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"k": 4}, "retrieve only 3"),
        ({"k": 0}, "k"),
        ({"metric": "manhattan"}, "metric"),
        ({"groups": [0, 1]}, "groups"),
    ],
)
def test_precision_at_k_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        precision_at_k(np.zeros((4, 2)), ["a", "a", "b", "b"], **kwargs)


def test_retrieval_rejects_non_finite_embeddings():
    with pytest.raises(ValueError, match="NaN"):
        precision_at_k(np.array([[np.nan], [1.0]]), ["a", "b"], k=1)
    with pytest.raises(ValueError, match="NaN"):
        triplet_score(np.array([[np.inf], [1.0], [2.0]]), [[0, 1, 2]])


def test_precision_at_k_scorer_works_in_cross_validate():
    from sklearn.decomposition import PCA
    from sklearn.model_selection import KFold, cross_validate

    from sklearn_musemb.metrics import make_precision_at_k_scorer

    rng = np.random.default_rng(0)
    y = np.repeat(["a", "b"], 30)
    X = rng.normal(size=(60, 5))
    X[:, 0] += 8 * (y == "a")
    scorer = make_precision_at_k_scorer(k=5)
    result = cross_validate(
        PCA(1), X, y, scoring=scorer, cv=KFold(3, shuffle=True, random_state=0)
    )
    assert np.all(result["test_score"] > 0.9)
    shuffled = cross_validate(
        PCA(1),
        X,
        rng.permutation(y),
        scoring=scorer,
        cv=KFold(3, shuffle=True, random_state=0),
    )
    assert shuffled["test_score"].mean() < 0.8
    with pytest.raises(TypeError, match="transform"):
        scorer(object(), X, y)
    with pytest.raises(ValueError, match="metric"):
        make_precision_at_k_scorer(metric="l1")
