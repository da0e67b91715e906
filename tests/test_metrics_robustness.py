"""Retrieval under performance: ranks against brute force, summaries, the scorer."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import GridSearchCV, GroupKFold
from sklearn.preprocessing import FunctionTransformer

from sklearn_musemb.embedders import ContrastiveEmbedder
from sklearn_musemb.features import HandcraftedFeatures
from sklearn_musemb.metrics import (
    RobustnessScorer,
    make_robustness_scorer,
    retrieval_ranks,
    robustness_ranks,
    summarise_retrieval,
)
from sklearn_musemb.metrics.robustness import RETRIEVAL_STATISTICS
from sklearn_musemb.units import PerformanceModel, Units


def brute_force_ranks(queries, database, targets):
    """1 + rows strictly closer + half the other rows at the same distance."""
    ranks = []
    for q, t in zip(queries, targets, strict=True):
        d = [float(np.sum((np.asarray(row) - q) ** 2)) for row in database]
        closer = sum(x < d[t] for x in d)
        tied = sum(x == d[t] for k, x in enumerate(d) if k != t)
        ranks.append(1 + closer + tied / 2)
    return np.array(ranks)


def make_units(n_pieces=4, per_piece=10, n_events=16, seed=0, pitches=None) -> Units:
    """Units on a 250 ms grid, chords in pitch order (as segment_notes cuts them).

    ``pitches``: draw from these only (units then differ mostly in rhythm).
    """
    rng = np.random.default_rng(seed)
    n = n_pieces * per_piece
    if pitches is None:
        pitch = rng.integers(40, 90, (n, n_events))
    else:
        pitch = rng.choice(pitches, (n, n_events))
    ioi = rng.choice([0, 250, 500], (n, n_events))
    ioi[:, -1] = 500
    for unit_p, unit_i in zip(pitch, ioi, strict=True):
        start = 0
        for i in range(n_events):
            if unit_i[i] != 0:
                unit_p[start : i + 1] = np.sort(unit_p[start : i + 1])
                start = i + 1
    return Units(
        np.stack([pitch, ioi], -1).astype(np.int16),
        piece=np.repeat(np.arange(n_pieces), per_piece),
        position=np.tile(np.arange(per_piece), n_pieces),
    )


def tempo_free(units: Units) -> np.ndarray:
    """Pitches and intervals over their unit's total: blind to a global tempo."""
    ioi = units.events[..., 1].astype(np.float64)
    return np.hstack([units.events[..., 0], ioi / ioi.sum(1, keepdims=True)])


# -- retrieval_ranks -------------------------------------------------------------------
def test_ranks_match_brute_force_on_random_floats():
    rng = np.random.default_rng(0)
    database = rng.normal(size=(50, 4))
    targets = rng.integers(0, 50, 30)
    queries = database[targets] + rng.normal(scale=0.5, size=(30, 4))
    got = retrieval_ranks(queries, database, targets)
    assert got.dtype == np.float64 and got.shape == (30,)
    np.testing.assert_array_equal(got, brute_force_ranks(queries, database, targets))


def test_ranks_match_brute_force_with_ties():
    rng = np.random.default_rng(1)
    # small integers: many equal distances, duplicate rows, exact in float32
    database = rng.integers(-2, 3, (40, 3)).astype(float)
    database[5] = database[6] = database[7]
    targets = rng.integers(0, 40, 60)
    targets[:3] = [5, 6, 7]
    queries = rng.integers(-2, 3, (60, 3)).astype(float)
    got = retrieval_ranks(queries, database, targets)
    expected = brute_force_ranks(queries, database, targets)
    np.testing.assert_array_equal(got, expected)
    assert (got % 1 == 0.5).any()  # some ties were counted half
    # a collapsed embedding ranks every target in the middle, not first
    flat = retrieval_ranks(np.zeros((4, 2)), np.zeros((9, 2)), np.arange(4))
    np.testing.assert_array_equal(flat, 5.0)


def test_ranks_docstring_and_chunking():
    database = np.array([[0.0], [1.0], [2.0]])
    np.testing.assert_array_equal(
        retrieval_ranks(np.array([[0.9], [0.9]]), database, np.array([1, 0])), [1, 2]
    )
    # more queries than one chunk (1024)
    rng = np.random.default_rng(2)
    database = rng.normal(size=(20, 2))
    targets = rng.integers(0, 20, 2100)
    queries = database[targets] + rng.normal(scale=0.3, size=(2100, 2))
    got = retrieval_ranks(queries, database, targets)
    np.testing.assert_array_equal(got, brute_force_ranks(queries, database, targets))


@pytest.mark.parametrize(
    ("queries", "database", "targets", "match"),
    [
        (np.zeros((2, 3)), np.zeros((4, 2)), [0, 1], "same width"),
        (np.zeros(3), np.zeros((4, 3)), [0], "2-d"),
        (np.zeros((2, 3)), np.zeros((4, 3)), [0], "one row per query"),
        (np.zeros((2, 3)), np.zeros((4, 3)), [0, 4], "rows of database"),
        (np.zeros((2, 3)), np.zeros((4, 3)), [-1, 0], "rows of database"),
        (np.full((2, 3), np.nan), np.zeros((4, 3)), [0, 1], "NaN"),
        (np.zeros((2, 3)), np.full((4, 3), np.inf), [0, 1], "NaN or infinity"),
    ],
)
def test_bad_ranking_input(queries, database, targets, match):
    with pytest.raises(ValueError, match=match):
        retrieval_ranks(queries, database, np.asarray(targets))


# -- summarise_retrieval ---------------------------------------------------------------
def test_summary_values():
    summary = summarise_retrieval([1, 2, 20, 1])
    assert summary == pytest.approx(
        {"mrr": (1 + 0.5 + 0.05 + 1) / 4, "recall_at_1": 0.5, "recall_at_10": 0.75,
         "median_rank": 1.5}
    )  # fmt: skip
    assert set(summary) == set(RETRIEVAL_STATISTICS)
    assert summarise_retrieval([1.5, 10, 10.5]) == pytest.approx(
        {"mrr": (1 / 1.5 + 0.1 + 1 / 10.5) / 3, "recall_at_1": 0.0,
         "recall_at_10": 2 / 3, "median_rank": 10.0}
    )  # fmt: skip
    assert all(isinstance(v, float) for v in summary.values())
    with pytest.raises(ValueError, match="no ranks"):
        summarise_retrieval([])


# -- robustness_ranks and the scorer ---------------------------------------------------
def test_a_tempo_free_feature_finds_every_unit_under_a_tempo_change():
    units = make_units()
    robust = FunctionTransformer(tempo_free).fit(units)
    for tempo in (0.8, 1.25, 1.6):
        ranks, skipped = robustness_ranks(robust, units, PerformanceModel(tempo=tempo))
        assert skipped == 0
        np.testing.assert_array_equal(ranks, 1.0)
        scorer = make_robustness_scorer(PerformanceModel(tempo=tempo))
        assert scorer(robust, units) == 1.0
    rhythmic = make_units(pitches=[60, 64, 67, 72])
    assert make_robustness_scorer(PerformanceModel(tempo=1.6))(robust, rhythmic) == 1
    # raw intervals are not tempo free: a slower copy of a unit is not found first
    pair = Units(np.stack([np.full((2, 4), 60), [[200] * 4, [250] * 4]], -1))
    raw = FunctionTransformer(lambda u: u.events.reshape(len(u), -1)).fit(pair)
    ranks, _ = robustness_ranks(raw, pair[:1], PerformanceModel(tempo=1.25),
                                distractors=pair[1:])  # fmt: skip
    assert ranks.tolist() == [2.0]
    # with distractors in the database the robust feature still ranks first
    ranks, _ = robustness_ranks(
        robust, units, PerformanceModel(tempo=1.25), distractors=make_units(seed=1)
    )
    np.testing.assert_array_equal(ranks, 1.0)


def test_robustness_ranks_count_skipped_units_and_target_their_rows():
    units = make_units(n_pieces=20, per_piece=1, n_events=3)
    model = PerformanceModel(deletion_rate=0.25, random_state=0)
    robust = FunctionTransformer(tempo_free).fit(units)
    ranks, skipped = robustness_ranks(robust, units, model)
    assert len(ranks) + skipped == len(units)
    assert (ranks >= 1).all() and (ranks <= len(units)).all()
    # the same ranks, by hand, from the aligned rows
    queries = model.perform_units(units)
    expected = retrieval_ranks(
        tempo_free(queries), tempo_free(units), queries.meta["source_rows"]
    )
    np.testing.assert_array_equal(ranks, expected)


@pytest.mark.parametrize("statistic", RETRIEVAL_STATISTICS)
def test_scorer_returns_the_statistic_greater_is_better(statistic):
    units = make_units()
    model = PerformanceModel(asynchrony_ms=30, jitter=0.1, random_state=0)
    estimator = HandcraftedFeatures().fit(units)
    scorer = make_robustness_scorer(model, statistic=statistic)
    assert isinstance(scorer, RobustnessScorer)
    value = scorer(estimator, units)
    ranks, _ = robustness_ranks(estimator, units, model)
    expected = summarise_retrieval(ranks)[statistic]
    assert value == (-expected if statistic == "median_rank" else expected)
    assert np.isfinite(value)
    assert statistic in repr(scorer)


def test_default_performance_is_the_typical_one_seeded():
    scorer = make_robustness_scorer()
    assert scorer.performance.get_params() == PerformanceModel.typical(0).get_params()
    units = make_units()
    estimator = HandcraftedFeatures().fit(units)
    assert scorer(estimator, units) == make_robustness_scorer()(estimator, units)


def test_scorer_in_grid_search_over_handcrafted_features():
    units = make_units(pitches=[60, 64, 67, 72])
    scorer = make_robustness_scorer(PerformanceModel(asynchrony_ms=30, random_state=0))
    search = GridSearchCV(
        HandcraftedFeatures(), {"chord_ms": [0, 35]}, scoring=scorer, cv=GroupKFold(2)
    )
    search.fit(units, groups=units.piece)
    assert np.isfinite(search.best_score_)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    # grouping chords undoes the spread: the grid must pick it
    assert search.best_params_ == {"chord_ms": 35}


def test_scorer_in_grid_search_over_contrastive_embedder():
    units = make_units(n_events=8)
    scorer = make_robustness_scorer(PerformanceModel(tempo=(0.8, 1.25), random_state=0))
    embedder = ContrastiveEmbedder(
        max_epochs=1, batch_size=16, random_state=0, embedding_dim=8,
        module__hidden_dim=16, module__event_channels=4, module__n_layers=3,
    )  # fmt: skip
    search = GridSearchCV(
        embedder,
        {"temperature": [0.1, 0.5], "augment": [None, "typical"]},
        scoring=scorer,
        cv=GroupKFold(2),
    )
    # augment=None needs positives="adjacent": the grid says so
    search.set_params(estimator__positives="adjacent")
    search.fit(units, groups=units.piece)
    assert np.isfinite(search.best_score_)
    assert 0 < search.best_score_ <= 1
    assert len(search.cv_results_["params"]) == 4


@pytest.mark.parametrize("statistic", ["MRR", "recall_at_5", "mean_rank", None])
def test_unknown_statistic_is_refused(statistic):
    with pytest.raises(ValueError, match="statistic"):
        make_robustness_scorer(statistic=statistic)


def test_bad_performance_is_refused():
    with pytest.raises(TypeError, match="PerformanceModel"):
        make_robustness_scorer("typical")
    with pytest.raises(ValueError, match="jitter"):
        make_robustness_scorer(PerformanceModel(jitter=2.0))


def test_estimator_without_transform_is_refused():
    units = make_units()
    scorer = make_robustness_scorer(PerformanceModel(tempo=1.2))
    regression = LinearRegression().fit(np.zeros((3, 2)), np.zeros(3))
    with pytest.raises(TypeError, match="transform"):
        scorer(regression, units)


def test_non_units_are_refused():
    units = make_units()
    estimator = HandcraftedFeatures().fit(units)
    with pytest.raises(TypeError, match="Units"):
        robustness_ranks(estimator, units.events, PerformanceModel(tempo=1.2))
