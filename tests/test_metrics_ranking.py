"""Adjacency ranking (Bretan & Heck 2019, section 4.4) and its scorer."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.model_selection import GridSearchCV, GroupKFold

from sklearn_musemb.metrics import (
    AdjacencyRankScorer,
    adjacency_rank,
    adjacency_rank_scorer,
    adjacency_ranks,
    make_adjacency_rank_scorer,
)
from sklearn_musemb.units import Units


def make_units(lengths, *, variants=1, shuffle_seed=None) -> Units:
    """Pieces of the given lengths (ids 10, 20, ...), each in ``variants`` copies."""
    piece, position, variant = [], [], []
    for v in range(variants):
        for k, length in enumerate(lengths):
            piece += [10 * (k + 1)] * length
            position += list(range(length))
            variant += [v] * length
    n = len(piece)
    events = np.zeros((n, 2, 2), dtype=np.int16)
    units = Units(events, piece=piece, position=position, variant=variant)
    if shuffle_seed is not None:
        units = units[np.random.default_rng(shuffle_seed).permutation(n)]
    return units


def line_embedding(units: Units, *, gap: float = 1000.0) -> np.ndarray:
    """Position on a line, pieces ``gap`` apart: the neighbour is always closest."""
    return (units.piece * gap + units.position).astype(float)[:, None]


# -- values ----------------------------------------------------------------------------
def test_perfect_line_embedding_ranks_one():
    units = make_units([30, 25, 40], shuffle_seed=0)
    ranks = adjacency_ranks(
        line_embedding(units), units, n_candidates=20, random_state=0
    )
    np.testing.assert_array_equal(ranks, np.ones(len(units)))
    assert adjacency_rank(line_embedding(units), units, n_candidates=20) == 1.0


@pytest.mark.parametrize("n_candidates", [2, 10, 100])
def test_constant_embedding_gets_mid_rank(n_candidates):
    units = make_units([60, 60, 60])
    ranks = adjacency_ranks(
        np.ones((len(units), 4)), units, n_candidates=n_candidates, random_state=0
    )
    np.testing.assert_array_equal(ranks, np.full(len(units), (n_candidates + 1) / 2))


def test_random_embedding_geometric_mean_near_paper_value():
    units = make_units([100] * 20)
    emb = np.random.default_rng(0).normal(size=(len(units), 16))
    value = adjacency_rank(emb, units, random_state=0)
    # Uniform ranks 1..100: (100!) ** (1 / 100) = 37.99.
    uniform = np.exp(np.mean(np.log(np.arange(1, 101))))
    assert uniform == pytest.approx(37.99, abs=0.005)
    assert value == pytest.approx(uniform, abs=1.5)
    ranks = adjacency_ranks(emb, units, random_state=0)
    # Gaussian embeddings never tie: every rank is a whole number, and with 2000
    # queries both ends of 1..100 are reached.
    np.testing.assert_array_equal(ranks, np.round(ranks))
    assert ranks.min() == 1 and ranks.max() == 100
    assert adjacency_rank(
        emb, units, statistic="mean", random_state=0
    ) == pytest.approx(ranks.mean())
    assert adjacency_rank(
        emb, units, statistic="median", random_state=0
    ) == pytest.approx(np.median(ranks))


def test_rank_formula_counts_closer_and_half_ties():
    # Pieces A (rows 0, 1) and B (rows 2, 3). A0's pool is {B0, B1}: B0 is closer
    # than A0's neighbour A1, B1 ties with it; A1's pool is also {B0, B1}, both
    # closer than its neighbour A0.
    events = np.zeros((4, 1, 2), dtype=np.int8)
    units = Units(events, piece=[0, 0, 1, 1], position=[0, 1, 0, 1])
    emb = np.array([[0.0], [3.0], [1.0], [3.0]])
    seen = set()
    for seed in range(30):
        ranks = adjacency_ranks(emb, units, n_candidates=3, random_state=seed)
        # Two draws with replacement: B0 counts 1, B1 counts 0.5.
        assert ranks[0] in {2.0, 2.5, 3.0}
        assert ranks[1] == 3.0
        seen.add(ranks[0])
    assert seen == {2.0, 2.5, 3.0}


def test_positive_is_either_neighbour_at_random():
    # A1 is 5 from A0 and 95 from A2; piece B lies in between (10.5 to 18). With
    # A0 as positive A1 ranks 1, with A2 it ranks last: both must occur.
    events = np.zeros((33, 1, 2), dtype=np.int8)
    units = Units(events, piece=[0] * 3 + [1] * 30, position=[0, 1, 2, *range(30)])
    emb = np.r_[0.0, 5.0, 100.0, 10.5 + 0.25 * np.arange(30)][:, None]
    seen = set()
    for seed in range(20):
        ranks = adjacency_ranks(emb, units, n_candidates=10, random_state=seed)
        assert ranks[0] == 1.0  # A0 has one neighbour, A1, closer than all of B
        seen.add(ranks[1])
    assert seen == {1.0, 10.0}


# -- determinism and candidate independence --------------------------------------------
def test_same_seed_same_ranks_different_seed_differs():
    units = make_units([50] * 6)
    emb = np.random.default_rng(1).normal(size=(len(units), 3))
    a = adjacency_ranks(emb, units, n_candidates=20, random_state=3)
    b = adjacency_ranks(emb, units, n_candidates=20, random_state=3)
    c = adjacency_ranks(emb, units, n_candidates=20, random_state=4)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_seed_types_accepted():
    units = make_units([30] * 3)
    emb = np.random.default_rng(2).normal(size=(len(units), 3))

    def ranks(seed):
        return adjacency_ranks(emb, units, n_candidates=10, random_state=seed)

    # an int seeds numpy's default_rng directly
    np.testing.assert_array_equal(ranks(0), ranks(np.random.default_rng(0)))
    # equal Generators or RandomStates give equal groups
    np.testing.assert_array_equal(
        ranks(np.random.default_rng(5)), ranks(np.random.default_rng(5))
    )
    np.testing.assert_array_equal(
        ranks(np.random.RandomState(5)), ranks(np.random.RandomState(5))
    )
    # a RandomState gives one seed drawn from it to default_rng
    seed = np.random.RandomState(5).randint(0, 2**32, dtype=np.uint64)
    np.testing.assert_array_equal(
        ranks(np.random.RandomState(5)), ranks(np.random.default_rng(seed))
    )
    # None draws from numpy's global RandomState: np.random.seed reproduces it
    # (the legacy API is what is tested; its state is restored afterwards)
    saved = np.random.get_state()  # noqa: NPY002
    try:
        np.random.seed(0)  # noqa: NPY002
        a, b = ranks(None), ranks(None)
        np.random.seed(0)  # noqa: NPY002
        np.testing.assert_array_equal(ranks(None), a)
        assert not np.array_equal(a, b)
    finally:
        np.random.set_state(saved)  # noqa: NPY002
    with pytest.raises(ValueError):
        ranks("seed")


def test_candidates_do_not_depend_on_embeddings():
    units = make_units([40] * 5)
    emb = np.random.default_rng(3).normal(size=(len(units), 5))
    a = adjacency_ranks(emb, units, n_candidates=25, random_state=7)
    b = adjacency_ranks(emb * 2, units, n_candidates=25, random_state=7)
    c = adjacency_ranks(
        emb.astype(np.float32) * 4, units, n_candidates=25, random_state=7
    )
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, c)


def test_chunking_does_not_change_ranks():
    units = make_units([40] * 5, shuffle_seed=1)
    emb = np.random.default_rng(4).normal(size=(len(units), 3))
    full = adjacency_ranks(emb, units, n_candidates=30, random_state=0)
    chunked = adjacency_ranks(emb, units, n_candidates=30, random_state=0, chunk_size=7)
    np.testing.assert_array_equal(full, chunked)


# -- queries ---------------------------------------------------------------------------
def test_one_unit_piece_contributes_no_query():
    units = make_units([20, 1, 20])
    ranks = adjacency_ranks(
        line_embedding(units), units, n_candidates=10, random_state=0
    )
    assert ranks.shape == (40,)


def test_number_of_queries_is_units_with_a_neighbour():
    # Positions 0, 1, 2 and 5, 6 have neighbours; 9 does not (gap).
    events = np.zeros((6 + 30, 1, 2), dtype=np.int8)
    piece = [0] * 6 + [1] * 30
    position = [0, 1, 2, 5, 6, 9, *range(30)]
    units = Units(events, piece=piece, position=position)
    ranks = adjacency_ranks(np.zeros((36, 1)), units, n_candidates=5, random_state=0)
    assert ranks.shape == (5 + 30,)


def test_variants_are_separate_sequences():
    # A variant-1 copy at position p + 1 is not a neighbour of variant 0's p.
    events = np.zeros((4 + 20, 1, 2), dtype=np.int8)
    units = Units(
        events,
        piece=[0, 0, 0, 0, *[1] * 20],
        position=[0, 2, 1, 3, *range(20)],
        variant=[0, 0, 1, 1, *[0] * 20],
    )
    ranks = adjacency_ranks(np.zeros((24, 1)), units, n_candidates=5, random_state=0)
    assert ranks.shape == (20,)  # piece 0 has no same-variant consecutive pair


def test_plain_array_is_one_piece_in_row_order():
    emb = np.arange(20.0)[:, None]
    np.testing.assert_array_equal(
        adjacency_ranks(emb, n_candidates=10, random_state=0), np.ones(20)
    )
    np.testing.assert_array_equal(
        adjacency_ranks(emb, emb, n_candidates=10, random_state=0), np.ones(20)
    )
    # Reversing the rows of a line embedding keeps every neighbour closest, but a
    # shuffled order (still read as row order) does not.
    shuffled = emb[np.random.default_rng(0).permutation(20)]
    assert adjacency_rank(shuffled, n_candidates=10, random_state=0) > 1.5


def test_queries_in_row_order():
    units = make_units([20, 20], shuffle_seed=3)
    # Embedding whose rank reveals the query: only queries of piece 10 are bad.
    emb = line_embedding(units)
    bad = units.piece == 10
    emb[bad, 0] = 10_000.0  # collapse piece 10: all its units tie
    ranks = adjacency_ranks(emb, units, n_candidates=10, random_state=0)
    # Piece 10 queries: neighbour at 0 distance, near units excluded, the 17 other
    # piece-10 units tie at 0; other pieces are far. Rank > 1 for them only.
    np.testing.assert_array_equal(ranks > 1, bad)


# -- exclusion of near units -----------------------------------------------------------
def test_transposed_copies_are_never_distractors():
    # Variant 1 copies sit exactly on their originals (closer than the neighbour,
    # which is 1 away); if they could be distractors, ranks would exceed 1.
    units = make_units([12] * 4, variants=4)
    emb = line_embedding(units)
    emb[units.variant > 0] -= 0.4  # copies of p and p + 1 are closer than 1
    ranks = adjacency_ranks(emb, units, n_candidates=20, random_state=0)
    assert ranks.shape == (len(units),)
    assert np.all(ranks == 1.0)


def test_pool_too_small_raises():
    units = make_units([10, 10])
    with pytest.raises(ValueError, match=r"n_candidates=20 needs 19 eligible"):
        adjacency_ranks(np.zeros((20, 2)), units, n_candidates=20)
    # 20 units, at most 3 near: a pool of 17 is enough for 18 candidates.
    assert adjacency_ranks(np.zeros((20, 2)), units, n_candidates=18).shape == (20,)


# -- validation ------------------------------------------------------------------------
def test_nan_and_inf_raise_naming_embeddings():
    emb = np.zeros((20, 2))
    emb[3, 1] = np.nan
    with pytest.raises(ValueError, match="embeddings"):
        adjacency_ranks(emb, n_candidates=5)
    emb[3, 1] = np.inf
    with pytest.raises(ValueError, match="embeddings"):
        adjacency_rank(emb, n_candidates=5)


def test_not_2d_raises():
    with pytest.raises(ValueError, match="2D"):
        adjacency_ranks(np.zeros(20), n_candidates=5)


def test_shape_mismatch_raises():
    units = make_units([10, 10])
    with pytest.raises(ValueError, match="units has 20 rows but embeddings has 19"):
        adjacency_ranks(np.zeros((19, 2)), units, n_candidates=5)


@pytest.mark.parametrize("n_candidates", [1, 0, 2.5, True])
def test_bad_n_candidates_raises(n_candidates):
    with pytest.raises(ValueError, match="n_candidates"):
        adjacency_ranks(np.zeros((20, 2)), n_candidates=n_candidates)
    with pytest.raises(ValueError, match="n_candidates"):
        make_adjacency_rank_scorer(n_candidates=n_candidates)


def test_bad_chunk_size_raises():
    with pytest.raises(ValueError, match="chunk_size"):
        adjacency_ranks(np.zeros((20, 2)), n_candidates=5, chunk_size=0)


def test_bad_statistic_raises_listing_choices():
    with pytest.raises(ValueError, match="geometric_mean.*median.*mean"):
        adjacency_rank(np.zeros((20, 2)), n_candidates=5, statistic="max")
    with pytest.raises(ValueError, match="statistic"):
        make_adjacency_rank_scorer(statistic="max")


def test_no_adjacent_pair_raises():
    events = np.zeros((30, 1, 2), dtype=np.int8)
    units = Units(events, piece=np.arange(30) % 3, position=np.arange(30) * 2)
    with pytest.raises(ValueError, match="no adjacent pair among 30 units of 3 pieces"):
        adjacency_ranks(np.zeros((30, 2)), units, n_candidates=5)


# -- scorer ----------------------------------------------------------------------------
class PositionEmbedder(TransformerMixin, BaseEstimator):
    """Embeds units by a fixed function of piece and position.

    ``ordered=True`` keeps position order (neighbour always closest);
    ``ordered=False`` scrambles positions within each piece.
    """

    def __init__(self, ordered=True):
        self.ordered = ordered

    def fit(self, X, y=None):
        self.fitted_ = True
        return self

    def transform(self, X):
        position = X.position if self.ordered else (X.position * 7919) % 1009
        return np.c_[X.piece * 100_000.0 + position, np.zeros(len(X))]


def test_scorer_returns_negated_rank():
    units = make_units([30] * 4, shuffle_seed=2)
    est = PositionEmbedder(ordered=False).fit(units)
    scorer = make_adjacency_rank_scorer(n_candidates=10, statistic="mean")
    expected = adjacency_rank(
        est.transform(units), units, n_candidates=10, statistic="mean", random_state=0
    )
    assert expected > 1
    assert scorer(est, units) == -expected
    assert scorer(est, units, None) == -expected
    assert isinstance(scorer, AdjacencyRankScorer)


def test_scorer_repr_and_default_instance():
    assert repr(adjacency_rank_scorer) == (
        "make_adjacency_rank_scorer(n_candidates=100, "
        "statistic='geometric_mean', random_state=0)"
    )
    assert repr(make_adjacency_rank_scorer(n_candidates=5, statistic="median")) == (
        "make_adjacency_rank_scorer(n_candidates=5, statistic='median', random_state=0)"
    )


def test_scorer_needs_transform():
    class NoTransform(BaseEstimator):
        def fit(self, X, y=None):
            return self

    with pytest.raises(TypeError, match="NoTransform"):
        adjacency_rank_scorer(NoTransform(), make_units([200]))


def test_scorer_in_grid_search_picks_the_better_setting():
    units = make_units([40] * 6, shuffle_seed=4)
    search = GridSearchCV(
        PositionEmbedder(),
        {"ordered": [False, True]},
        scoring=make_adjacency_rank_scorer(n_candidates=10),
        cv=GroupKFold(n_splits=3),
    )
    search.fit(units, groups=units.piece)
    assert search.best_params_ == {"ordered": True}
    assert search.best_score_ == -1.0
    scores = search.cv_results_["mean_test_score"]
    assert scores[0] < -1.5  # scrambled positions rank far worse
