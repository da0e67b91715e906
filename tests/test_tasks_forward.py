"""Forward prediction (Bretan & Heck 2019, 4.4; Bretan et al. 2017, 5.0.1).

Windows of consecutive units, the ranking against a brute-force reference, the
LSTM predictor learning a deterministic sequence and not a random one, and the
predictor at the end of a Pipeline in cross-validation. scikit-learn's generic
estimator checks pass a 1-d ``y`` that cannot be a sequence order; the properties
they test are checked here with a valid order instead.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch
from scipy.spatial.distance import cdist
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, GroupKFold, cross_validate
from sklearn.pipeline import Pipeline

from sklearn_musemb.embedders import AdjDEmbedder
from sklearn_musemb.nn.sequence import CosineDistanceLoss, EmbeddingLSTM
from sklearn_musemb.tasks.forward import (
    ForwardPredictor,
    _draw_distractors,
    forward_prediction_rank,
    forward_prediction_ranks,
    sequence_windows,
    unit_order,
)
from sklearn_musemb.units.container import Units

#: A tiny, quick predictor.
LIGHT = {
    "n_context": 3,
    "max_epochs": 20,
    "lr": 0.01,
    "batch_size": 32,
    "random_state": 0,
    "module__hidden_dim": 16,
}

#: Geometric mean of 1..100: the expected rank of random predictions.
CHANCE_100 = float(np.exp(np.mean(np.log(np.arange(1, 101)))))


def rotation_sequences(n_pieces=8, length=30, dim=8, seed=0):
    """Embeddings that follow one fixed rotation: z[t + 1] = R z[t], per piece.

    Every piece starts at its own random point; ``R`` is the same for all seeds,
    so pieces of another seed follow the same rule.

    Returns
    -------
    Z : ndarray of float32, shape (n_pieces * length, dim)
    order : ndarray of int64, shape (n_pieces * length, 3)
    """
    rotation, _ = np.linalg.qr(np.random.default_rng(123).normal(size=(dim, dim)))
    z = np.random.default_rng(seed).normal(size=(n_pieces, dim))
    steps = []
    for _ in range(length):
        steps.append(z)
        z = z @ rotation.T
    Z = np.stack(steps, axis=1).reshape(-1, dim).astype(np.float32)
    order = np.column_stack(
        [
            np.repeat(np.arange(n_pieces), length),
            np.zeros(n_pieces * length, dtype=np.int64),
            np.tile(np.arange(length), n_pieces),
        ]
    )
    return Z, order


def walk_units(n_pieces=6, units_per_piece=30, n_events=8, seed=0):
    """Note units of slow pitch random walks, one register and tempo per piece."""
    rng = np.random.default_rng(seed)
    n_notes = units_per_piece * n_events
    pitch = rng.integers(45, 80, (n_pieces, 1)) + np.cumsum(
        rng.choice([-1, 0, 1], (n_pieces, n_notes)), axis=1
    )
    ioi = rng.uniform(100, 600, (n_pieces, 1)) + rng.normal(0, 30, (n_pieces, n_notes))
    events = np.stack([np.clip(pitch, 24, 108), np.clip(ioi, 0, 1900)], axis=-1)
    return Units(
        events.reshape(-1, n_events, 2).astype(np.int16),
        piece=np.repeat(np.arange(n_pieces), units_per_piece),
        position=np.tile(np.arange(units_per_piece), n_pieces),
    )


# -- windows ---------------------------------------------------------------------------
def hand_built_units():
    """Two pieces, piece 0 in two variants, piece 1 with position 3 missing."""
    rows = [(0, 0, p) for p in range(5)] + [(0, 1, p) for p in range(5)]
    rows += [(1, 0, p) for p in (0, 1, 2, 4, 5, 6, 7)]
    piece, variant, position = np.array(rows).T
    shuffle = np.random.default_rng(0).permutation(len(rows))
    return Units(
        np.zeros((len(rows), 2, 2), dtype=np.int16),
        piece=piece[shuffle],
        variant=variant[shuffle],
        position=position[shuffle],
    )


@pytest.mark.parametrize(
    ("length", "expected"),
    [
        (
            3,
            [(0, 0, 0), (0, 0, 1), (0, 0, 2), (0, 1, 0), (0, 1, 1), (0, 1, 2)]
            + [(1, 0, 0), (1, 0, 4), (1, 0, 5)],
        ),
        (4, [(0, 0, 0), (0, 0, 1), (0, 1, 0), (0, 1, 1), (1, 0, 4)]),
        (5, [(0, 0, 0), (0, 1, 0)]),
        (6, []),
    ],
)
def test_windows_exact_on_shuffled_units(length, expected):
    units = hand_built_units()
    order = unit_order(units)
    windows = sequence_windows(order, length)
    assert windows.shape == (len(expected), length)
    assert windows.dtype == np.int64
    # (piece, variant, first position) of each window, in the returned order
    assert [tuple(order[w[0]]) for w in windows] == expected
    # every window: one piece and variant, positions p .. p + length - 1
    for w in windows:
        assert len({tuple(order[i, :2]) for i in w}) == 1
        np.testing.assert_array_equal(order[w, 2], order[w[0], 2] + np.arange(length))


def test_windows_match_brute_force_on_random_orders():
    rng = np.random.default_rng(1)
    for _ in range(20):
        keys = rng.choice(3 * 2 * 12, size=40, replace=False)
        order = np.column_stack(np.unravel_index(keys, (3, 2, 12))).astype(np.int64)
        present = {tuple(row) for row in order.tolist()}
        for length in (1, 2, 4):
            expected = sorted(
                (p, v, s)
                for p, v, s in present
                if all((p, v, s + k) in present for k in range(length))
            )
            windows = sequence_windows(order, length)
            assert [tuple(order[w[0]]) for w in windows] == expected


def test_unit_order_columns_and_units_only():
    units = hand_built_units()
    order = unit_order(units)
    np.testing.assert_array_equal(order[:, 0], units.piece)
    np.testing.assert_array_equal(order[:, 1], units.variant)
    np.testing.assert_array_equal(order[:, 2], units.position)
    with pytest.raises(TypeError, match="unit_order needs Units"):
        unit_order(order)


def test_duplicate_positions_are_refused():
    order = np.array([[0, 0, 0], [0, 0, 1], [0, 0, 1]])
    with pytest.raises(ValueError, match=r"duplicate .* rows 1 and 2"):
        sequence_windows(order, 2)


# -- ranking ---------------------------------------------------------------------------
def brute_force_ranks(predicted, embeddings, targets, distractors, metric):
    ranks = []
    for i, target in enumerate(targets):
        rows = [target, *distractors[i]]
        d = cdist(predicted[i : i + 1], embeddings[rows], metric=metric)[0]
        ranks.append(1 + np.sum(d[1:] < d[0]) + 0.5 * np.sum(d[1:] == d[0]))
    return np.array(ranks)


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_ranks_match_brute_force(metric):
    rng = np.random.default_rng(0)
    embeddings = rng.normal(size=(40, 37)).astype(np.float32)
    embeddings[20:] = embeddings[:20]  # every target ties with another row
    targets = rng.integers(0, 40, 25)
    predicted = embeddings[targets] + rng.normal(scale=0.8, size=(25, 37))
    unit_ids = np.arange(40) // 2  # rows 2k and 2k + 1: copies of one unit
    ranks = forward_prediction_ranks(
        predicted,
        embeddings,
        targets,
        unit_ids=unit_ids,
        n_candidates=10,
        metric=metric,
        random_state=7,
        chunk_size=4,
    )
    group = np.unique(unit_ids, return_inverse=True)[1]
    distractors = _draw_distractors(targets, group, 9, np.random.default_rng(7))
    expected = brute_force_ranks(predicted, embeddings, targets, distractors, metric)
    np.testing.assert_array_equal(ranks, expected)
    assert np.any(ranks % 1 == 0.5)  # ties happened and counted half


def test_distractors_avoid_the_target_unit_and_cover_the_rest():
    unit_ids = np.repeat(np.arange(10), 3)  # 10 units, 3 copies each
    targets = np.full(2000, 4)  # a row of unit 1
    group = np.unique(unit_ids, return_inverse=True)[1]
    drawn = _draw_distractors(targets, group, 9, np.random.default_rng(0))
    counts = np.bincount(drawn.ravel(), minlength=30)
    assert counts[3:6].sum() == 0  # the target and its copies
    allowed = np.delete(counts, [3, 4, 5])
    assert allowed.min() > 0.8 * allowed.mean()  # uniform over the other 27 rows


def test_constant_and_perfect_predictions():
    emb = np.random.default_rng(0).normal(size=(50, 4))
    targets = np.arange(10, 30)
    perfect = forward_prediction_ranks(emb[targets], emb, targets, n_candidates=20)
    np.testing.assert_array_equal(perfect, 1.0)
    collapsed = forward_prediction_ranks(
        np.zeros((20, 4)), np.zeros((50, 4)), targets, n_candidates=20
    )
    np.testing.assert_array_equal(collapsed, 10.5)


def test_cosine_ignores_scale_euclidean_does_not():
    rng = np.random.default_rng(0)
    emb = rng.normal(size=(60, 4))
    targets = np.arange(30)
    predicted = emb[targets] + rng.normal(scale=0.5, size=(30, 4))
    kwargs = {"n_candidates": 20, "random_state": 0}
    for metric, same in (("cosine", True), ("euclidean", False)):
        a = forward_prediction_ranks(predicted, emb, targets, metric=metric, **kwargs)
        b = forward_prediction_ranks(
            10 * predicted, emb, targets, metric=metric, **kwargs
        )
        assert np.array_equal(a, b) == same


def test_random_predictions_rank_at_chance():
    rng = np.random.default_rng(0)
    emb = rng.normal(size=(2000, 8))
    rank = forward_prediction_rank(
        rng.normal(size=(2000, 8)), emb, np.arange(2000), random_state=0
    )
    assert abs(rank - CHANCE_100) < 2.0
    assert (
        forward_prediction_rank(
            np.zeros((4, 8)), 0 * emb, np.arange(4), statistic="median"
        )
        == 50.5
    )


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"metric": "manhattan"}, r"metric must be one of \('euclidean', 'cosine'\)"),
        ({"n_candidates": 1}, "n_candidates must be at least 2"),
        ({"n_candidates": 12}, r"n_candidates=12 needs 11 distractors .* only 9"),
        ({"targets": [0, 10]}, r"targets must be rows of embeddings \(0\.\.9\)"),
        ({"targets": [0.0, 1.0]}, "targets must be 2 integer row indices"),
        ({"unit_ids": np.zeros(3)}, r"unit_ids must have shape \(10,\)"),
        ({"chunk_size": 0}, "chunk_size must be a positive integer"),
        ({"statistic": "max"}, "statistic must be one of"),
    ],
)
def test_ranking_bad_arguments(kwargs, match):
    args = {"targets": [0, 1], "n_candidates": 5, **kwargs}
    emb = np.random.default_rng(0).normal(size=(10, 3))
    with pytest.raises(ValueError, match=match):
        forward_prediction_rank(emb[:2], emb, **args)


def test_ranking_refuses_nan_and_width_mismatch():
    emb = np.ones((10, 3))
    with pytest.raises(ValueError, match="predicted contains NaN"):
        forward_prediction_ranks(np.full((2, 3), np.nan), emb, [0, 1], n_candidates=3)
    with pytest.raises(ValueError, match="predicted has 2 columns but embeddings"):
        forward_prediction_ranks(np.ones((2, 2)), emb, [0, 1], n_candidates=3)


# -- the network -----------------------------------------------------------------------
def test_embedding_lstm_shapes_head_and_standardisation():
    net = EmbeddingLSTM(input_dim=3, hidden_dim=5, n_layers=3)
    assert net(torch.zeros(2, 4, 3)).shape == (2, 3)
    assert net.lstm.num_layers == 3 and net.lstm.hidden_size == 5
    torch.nn.init.zeros_(net.head.weight)
    torch.nn.init.zeros_(net.head.bias)
    net.standardize(torch.tensor([1.0, 2.0, 3.0]), torch.tensor([2.0, 2.0, 2.0]))
    torch.testing.assert_close(net(torch.zeros(1, 4, 3)), torch.tensor([[1.0, 2, 3]]))
    assert EmbeddingLSTM(3, hidden_dim=3, head=False)(torch.zeros(1, 2, 3)).shape == (
        1,
        3,
    )
    with pytest.raises(ValueError, match=r"hidden_dim \(5\) must equal output_dim"):
        EmbeddingLSTM(3, hidden_dim=5, head=False)


# -- the estimator: learning -----------------------------------------------------------
def test_learns_a_deterministic_sequence_far_above_chance():
    Z, order = rotation_sequences(seed=0)
    Z_new, order_new = rotation_sequences(seed=1)  # new pieces, same rule
    fwd = ForwardPredictor(n_candidates=100, **LIGHT).fit(Z, order)
    assert fwd.n_windows_ == 8 * (30 - 3)
    assert fwd.score(Z_new, order_new) > -1.5  # chance: -38
    assert fwd.history_[-1, "train_loss"] < 0.1 * fwd.history_[0, "train_loss"]


def test_cosine_variant_learns_the_sequence():
    Z, order = rotation_sequences(seed=0)
    Z_new, order_new = rotation_sequences(seed=1)
    fwd = ForwardPredictor(
        criterion=CosineDistanceLoss, metric="cosine", n_candidates=50, **LIGHT
    ).fit(Z, order)
    assert fwd.score(Z_new, order_new) > -1.5


def test_random_sequence_stays_near_chance():
    rng = np.random.default_rng(0)
    Z = rng.normal(size=(600, 8)).astype(np.float32)
    order = rotation_sequences(n_pieces=20, length=30)[1]
    fwd = ForwardPredictor(**{**LIGHT, "max_epochs": 5}).fit(Z[:300], order[:300])
    assert -44 < fwd.score(Z[300:], order[300:]) < -32  # chance: -37.99


def test_ranks_are_one_per_window_and_score_summarises_them():
    Z, order = rotation_sequences(seed=0)
    rng = np.random.default_rng(0)
    noisy = Z + rng.normal(scale=0.5, size=Z.shape).astype(np.float32)
    fwd = ForwardPredictor(**{**LIGHT, "max_epochs": 2}).fit(Z, order)
    ranks = fwd.ranks(noisy, order)
    assert ranks.shape == (8 * (30 - 3),)
    assert ranks.min() >= 1 and ranks.max() <= 100
    assert fwd.score(noisy, order) == -np.exp(np.log(ranks).mean())
    assert np.array_equal(fwd.ranks(noisy, order, random_state=0), ranks)
    assert not np.array_equal(fwd.ranks(noisy, order, random_state=1), ranks)


# -- the estimator: sequence order -----------------------------------------------------
def test_fit_uses_exactly_the_windows_of_consecutive_units():
    units = hand_built_units()
    Z = np.random.default_rng(0).normal(size=(len(units), 4))
    fwd = ForwardPredictor(**{**LIGHT, "n_context": 2, "max_epochs": 1})
    assert fwd.fit(Z, units).n_windows_ == 9
    assert fwd.fit(Z, unit_order(units)).n_windows_ == 9
    assert fwd.fit(Z).n_windows_ == len(units) - 2  # y=None: one sequence


def test_predict_is_the_embedding_after_each_row_and_follows_the_order():
    Z, order = rotation_sequences(n_pieces=3, length=10)
    fwd = ForwardPredictor(**{**LIGHT, "max_epochs": 2}).fit(Z, order)
    predicted = fwd.predict(Z, order)
    assert predicted.dtype == np.float32 and predicted.shape == Z.shape
    missing = np.isnan(predicted).any(axis=1)
    np.testing.assert_array_equal(missing, order[:, 2] < 2)  # n_context - 1 = 2
    assert not np.isnan(predicted[order[:, 2] == 9]).any()  # beyond the last unit
    shuffle = np.random.default_rng(0).permutation(len(Z))
    np.testing.assert_allclose(
        fwd.predict(Z[shuffle], order[shuffle]), predicted[shuffle], rtol=1e-6
    )
    # score ranks exactly these predictions against the rows that follow them
    windows = sequence_windows(order, 4)
    ids = order[:, 0] * 100 + order[:, 2]
    rank = forward_prediction_rank(
        predicted[windows[:, -2]],
        Z,
        windows[:, -1],
        unit_ids=ids,
        n_candidates=10,
        random_state=0,
    )
    assert fwd.set_params(n_candidates=10).score(Z, order) == pytest.approx(-rank)


def test_augmented_copies_are_separate_sequences_and_never_distractors():
    Z, order = rotation_sequences(n_pieces=4, length=12)
    copy = order.copy()
    copy[:, 1] = 1  # the same pieces as a second variant
    Z2, order2 = np.vstack([Z, -Z]), np.vstack([order, copy])
    fwd = ForwardPredictor(**{**LIGHT, "max_epochs": 1}).fit(Z2, order2)
    assert fwd.n_windows_ == 2 * 4 * (12 - 3)
    # 48 units of 4 x 12 (piece, position) pairs: 94 rows outside any target's pair
    fwd.set_params(n_candidates=95).score(Z2, order2)
    with pytest.raises(ValueError, match="n_candidates=96 needs 95"):
        fwd.set_params(n_candidates=96).score(Z2, order2)


# -- the estimator: scikit-learn integration -------------------------------------------
def test_cross_validate_pipeline_with_a_real_embedder():
    units = walk_units()
    pipe = Pipeline(
        [
            (
                "emb",
                AdjDEmbedder(
                    embedding_dim=8,
                    max_epochs=1,
                    batch_size=64,
                    random_state=0,
                    module__hidden_dim=16,
                    module__event_channels=4,
                ),
            ),
            ("fwd", ForwardPredictor(**{**LIGHT, "max_epochs": 3, "n_candidates": 20})),
        ]
    )
    for y in (unit_order(units), units):
        result = cross_validate(
            pipe, units, y, groups=units.piece, cv=GroupKFold(3), error_score="raise"
        )
        assert np.all((result["test_score"] >= -20) & (result["test_score"] <= -1))
    predicted = pipe.fit(units, units).predict(units, order=units)
    assert predicted.shape == (len(units), 8)


def test_grid_search_prefers_a_trained_model():
    Z, order = rotation_sequences(n_pieces=6)
    search = GridSearchCV(
        ForwardPredictor(**{**LIGHT, "n_candidates": 20}),
        {"lr": [0.0, 0.01]},
        cv=GroupKFold(2),
        error_score="raise",
    ).fit(Z, order, groups=order[:, 0])
    assert search.best_params_ == {"lr": 0.01}
    assert search.cv_results_["mean_test_score"][0] < -3  # lr=0: untrained


def test_random_state_gives_identical_fits_and_leaves_torch_alone():
    Z, order = rotation_sequences(n_pieces=3, length=12)
    state = torch.get_rng_state()
    a = ForwardPredictor(**{**LIGHT, "max_epochs": 2}).fit(Z, order).predict(Z, order)
    b = ForwardPredictor(**{**LIGHT, "max_epochs": 2}).fit(Z, order).predict(Z, order)
    np.testing.assert_array_equal(a, b)
    assert torch.equal(state, torch.get_rng_state())
    c = ForwardPredictor(**{**LIGHT, "max_epochs": 2, "random_state": 1}).fit(Z, order)
    assert not np.array_equal(a, c.predict(Z, order), equal_nan=True)


def test_params_clone_set_params_and_pickle():
    Z, order = rotation_sequences(n_pieces=3, length=12)
    fwd = ForwardPredictor(**{**LIGHT, "max_epochs": 2})
    params = fwd.get_params()
    assert params["device"] == "auto" and params["n_context"] == 3
    assert params["module__hidden_dim"] == 16
    assert params["module"] is EmbeddingLSTM
    assert not [k for k in params if k.startswith("_")]
    fwd.fit(Z, order)
    assert fwd.device_ in {"cpu", "cuda"} and fwd.get_params()["device"] == "auto"
    copy = clone(fwd)
    assert not hasattr(copy, "module_") and copy.get_params()["n_context"] == 3
    restored = pickle.loads(pickle.dumps(fwd))
    assert restored.device == "auto"
    np.testing.assert_array_equal(restored.predict(Z, order), fwd.predict(Z, order))
    fwd.set_params(module__hidden_dim=4)  # re-initialises the fitted net
    assert fwd.module_.lstm.hidden_size == 4 and fwd.device == "auto"


def test_partial_fit_continues_training():
    Z, order = rotation_sequences(n_pieces=3, length=12)
    fwd = ForwardPredictor(**{**LIGHT, "max_epochs": 2}).fit(Z, order)
    weights = fwd.module_.head.weight.detach().clone()
    fwd.partial_fit(Z, order)
    assert len(fwd.history_) == 4
    assert not torch.equal(weights, fwd.module_.head.weight)


def test_contract_properties_on_valid_orders():
    """What sklearn's generic checks test, with a valid sequence order."""
    Z, order = rotation_sequences(n_pieces=3, length=12)
    fwd = ForwardPredictor(**{**LIGHT, "max_epochs": 1, "n_candidates": 10})
    assert fwd.fit(Z, order) is fwd
    for dtype in (np.float64, np.int64):  # estimators_dtypes
        assert fwd.fit(Z.astype(dtype), order).predict(Z, order).dtype == np.float32
    fwd.fit(Z, order)
    before = vars(fwd).copy()
    fwd.predict(Z, order)
    fwd.score(Z, order)
    assert vars(fwd).keys() == before.keys()  # dict_unchanged
    readonly = Z.copy()
    readonly.flags.writeable = False  # readonly_memmap_input
    first = fwd.fit(readonly, order).predict(Z, order)
    np.testing.assert_array_equal(first, fwd.fit(Z, order).predict(Z, order))


# -- bad input -------------------------------------------------------------------------
def test_too_few_consecutive_units_names_how_many_are_needed():
    order = np.column_stack(
        [np.repeat([0, 1], 5), np.zeros(10, dtype=int), np.tile(np.arange(5), 2)]
    )
    Z = np.zeros((10, 2))
    with pytest.raises(ValueError, match=r"at least 8 units .* longest run .* has 5"):
        ForwardPredictor().fit(Z, order)
    fwd = ForwardPredictor(**{**LIGHT, "max_epochs": 1}).fit(Z, order)
    with pytest.raises(ValueError, match="at least 4 units .* to score"):
        fwd.score(Z[:3], order[:3])


@pytest.mark.parametrize(
    ("y", "match"),
    [
        (np.zeros(10, dtype=int), r"shape \(n_samples, 3\).* shape \(10,\)"),
        (np.zeros((10, 2), dtype=int), r"shape \(n_samples, 3\)"),
        (np.zeros((10, 3)), "got float64 array"),
        (np.zeros((9, 3), dtype=int), "y has 9 rows but X has 10"),
    ],
)
def test_bad_order_is_named(y, match):
    with pytest.raises(ValueError, match=match):
        ForwardPredictor().fit(np.zeros((10, 2)), y)


def test_bad_embeddings_and_parameters():
    Z, order = rotation_sequences(n_pieces=2, length=10)
    bad = Z.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        ForwardPredictor().fit(bad, order)
    with pytest.raises(TypeError, match="takes embeddings .* got Units"):
        ForwardPredictor().fit(hand_built_units())
    for params, match in (
        ({"metric": "manhattan"}, "metric must be one of"),
        ({"n_context": 0}, "n_context must be a positive integer"),
        ({"n_candidates": 1}, "n_candidates must be at least 2"),
        ({"statistic": "mode"}, "statistic must be one of"),
    ):
        with pytest.raises(ValueError, match=match):
            ForwardPredictor(**params).fit(Z, order)
    with pytest.raises(NotFittedError):
        ForwardPredictor().predict(Z)
    fwd = ForwardPredictor(**{**LIGHT, "max_epochs": 1}).fit(Z, order)
    with pytest.raises(ValueError, match="X has 3 features"):
        fwd.predict(Z[:, :3], order)
