"""The probes of the downstream tasks: chroma (skorch), composer and density (sklearn).

Each probe must learn a synthetic signal well above chance, be repeatable with a
random_state, refuse bad input clearly, and work as the last step of a Pipeline
after a real embedder in cross_validate with GroupKFold over pieces.
"""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest
import torch
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import f1_score, get_scorer, root_mean_squared_error
from sklearn.model_selection import GroupKFold, cross_validate
from sklearn.pipeline import Pipeline

from sklearn_musemb.embedders import AdjDEmbedder
from sklearn_musemb.nn.losses import dssm_logits
from sklearn_musemb.tasks.chroma import (
    ChromaNet,
    ChromaProbe,
    chroma_cosine,
    chroma_cosine_scorer,
    chroma_cosines,
)
from sklearn_musemb.tasks.composer import COMPOSER_SCORING, make_composer_probe
from sklearn_musemb.tasks.density import DENSITY_SCORING, make_density_probe
from sklearn_musemb.tasks.targets import unit_chroma, unit_duration
from sklearn_musemb.units.container import Units

# The sklearn probes run few iterations on purpose.
pytestmark = pytest.mark.filterwarnings("ignore", category=ConvergenceWarning)

#: A small, quick ChromaProbe.
LIGHT = {
    "max_epochs": 15,
    "batch_size": 32,
    "random_state": 0,
    "module__hidden_dim": 16,
}


def chroma_data(n=400, seed=0):
    """Chromas and 'embeddings' that are a noisy linear image of them."""
    rng = np.random.default_rng(seed)
    chroma = rng.dirichlet(np.full(12, 0.3), size=n)
    X = chroma @ rng.normal(size=(12, 16)) + 0.05 * rng.normal(size=(n, 16))
    return X.astype(np.float32), chroma


# -- the chroma loss -------------------------------------------------------------------


def test_cosine_softmax_loss_matches_a_hand_computation():
    pred = torch.tensor([[1.0, 0.0]])
    true = torch.tensor([[1.0, 1.0]])
    negatives = torch.tensor([[[0.0, 2.0], [3.0, 0.0]]])
    logits = dssm_logits(pred, true, negatives, scale=2.0, similarity="cosine")
    # cosines: 1/sqrt(2), 0, 1; softmax of 2 * cos, class 0
    c = 1 / math.sqrt(2)
    expected = -math.log(math.exp(2 * c) / (math.exp(2 * c) + 1 + math.exp(2)))
    loss = torch.nn.functional.cross_entropy(logits, torch.tensor([0]))
    assert loss.item() == pytest.approx(expected, rel=1e-6)  # 1.3898


def test_probe_loss_draws_negatives_from_the_training_targets():
    X, chroma = chroma_data(n=40)
    probe = ChromaProbe(**{**LIGHT, "max_epochs": 1, "n_negatives": 3}).fit(X, chroma)
    pred = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    true = torch.tensor([[1.0, 1.0, 0.0], [0.0, 1.0, 0.0]])
    # as during fit: a pool of training targets (one row: every negative is it)
    probe._negative_pool = torch.tensor([[0.0, 0.0, 1.0]])
    loss = probe.get_loss(pred, true).item()
    del probe._negative_pool
    c = 1 / math.sqrt(2)
    row0 = -math.log(math.exp(c) / (math.exp(c) + 3 * math.exp(0.0)))
    row1 = -math.log(math.exp(1.0) / (math.exp(1.0) + 3 * math.exp(0.0)))
    assert loss == pytest.approx((row0 + row1) / 2, rel=1e-6)


# -- ChromaProbe -----------------------------------------------------------------------


def test_chroma_probe_learns_far_above_chance_on_held_out_units():
    X, chroma = chroma_data(n=500)
    train, test = slice(0, 400), slice(400, None)
    probe = ChromaProbe(**{**LIGHT, "max_epochs": 30}).fit(X[train], chroma[train])
    score = chroma_cosine(chroma[test], probe.predict(X[test]))
    mean_chroma = np.tile(chroma[train].mean(axis=0), (100, 1))
    shuffled = chroma[train][:100]
    assert chroma_cosine(chroma[test], mean_chroma) < 0.6
    assert chroma_cosine(chroma[test], shuffled) < 0.3
    assert score > 0.85
    assert probe.history_[-1]["train_loss"] < probe.history_[0]["train_loss"]


def test_chroma_probe_predicts_distributions_and_one_column_for_1d_y():
    X, chroma = chroma_data(n=60)
    probe = ChromaProbe(**LIGHT).fit(X, chroma)
    pred = probe.predict(X)
    assert pred.shape == (60, 12) and pred.dtype == np.float64
    assert pred.min() > 0
    np.testing.assert_allclose(pred.sum(axis=1), 1.0, rtol=1e-6)
    assert probe.n_outputs_ == 12 and probe.n_features_in_ == 16
    assert isinstance(probe.module_, ChromaNet)
    assert probe.module_.net[0].out_features == 16  # module__hidden_dim

    one = ChromaProbe(**LIGHT).fit(X, chroma[:, 0])
    np.testing.assert_allclose(one.predict(X), np.ones(60))  # softmax of 1 logit


def test_chroma_probe_is_repeatable_and_leaves_the_global_torch_rng_alone():
    X, chroma = chroma_data(n=80)
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    first = ChromaProbe(**LIGHT).fit(X, chroma).predict(X)
    np.testing.assert_array_equal(torch.rand(3), expected)
    second = clone(ChromaProbe(**LIGHT)).fit(X, chroma).predict(X)
    other = ChromaProbe(**{**LIGHT, "random_state": 1}).fit(X, chroma).predict(X)
    np.testing.assert_array_equal(first, second)
    assert not np.allclose(first, other)


def test_chroma_probe_params_clone_pickle_and_auto_device():
    X, chroma = chroma_data(n=60)
    probe = ChromaProbe(n_negatives=2, similarity_scale=5.0, **LIGHT)
    params = probe.get_params()
    assert params["module__hidden_dim"] == 16 and params["n_negatives"] == 2
    assert params["device"] == "auto"
    assert not any(name.startswith("_") for name in params)
    probe.fit(X, chroma)
    assert probe.device == "auto" and probe.device_ in {"cpu", "cuda"}
    assert clone(probe).get_params()["similarity_scale"] == 5.0
    restored = pickle.loads(pickle.dumps(probe))
    assert restored.device == "auto"
    np.testing.assert_array_equal(restored.predict(X), probe.predict(X))
    assert not hasattr(probe, "predict_proba")


def test_chroma_probe_partial_fit_continues_training():
    X, chroma = chroma_data(n=60)
    probe = ChromaProbe(**{**LIGHT, "max_epochs": 2}).fit(X, chroma)
    probe.partial_fit(X, chroma)
    assert len(probe.history_) == 4
    with pytest.raises(ValueError, match="y has 3 columns, but ChromaProbe was"):
        probe.partial_fit(X, chroma[:, :3])


@pytest.mark.parametrize(
    "change, match",
    [
        ({"X": "nan"}, "Input X contains NaN"),
        ({"y": "rows"}, "inconsistent numbers of samples"),
        ({"y": "3d"}, "Found array with dim 3"),
        ({"n_negatives": 0}, "n_negatives must be a positive integer"),
        ({"similarity_scale": 0.0}, "similarity_scale must be a finite number > 0"),
    ],
)
def test_chroma_probe_refuses_bad_input(change, match):
    X, chroma = chroma_data(n=20)
    if change.get("X") == "nan":
        X[3, 2] = np.nan
    if change.get("y") == "rows":
        chroma = chroma[:-1]
    if change.get("y") == "3d":
        chroma = chroma[:, :, None]
    params = {k: v for k, v in change.items() if k not in ("X", "y")}
    with pytest.raises(ValueError, match=match):
        ChromaProbe(**{**LIGHT, **params}).fit(X, chroma)


def test_chroma_probe_refuses_other_widths_at_predict():
    X, chroma = chroma_data(n=20)
    probe = ChromaProbe(**LIGHT).fit(X, chroma)
    with pytest.raises(ValueError, match="X has 8 features, but ChromaProbe is"):
        probe.predict(X[:, :8])


# -- chroma_cosine -----------------------------------------------------------------


def test_chroma_cosine_known_values():
    y_true = np.array([[1.0, 0, 0], [1, 1, 0], [0, 1, 1]])
    y_pred = np.array([[2.0, 0, 0], [1, 0, 0], [0, 1, 0]])  # cosines 1, c, c
    c = 1 / math.sqrt(2)
    np.testing.assert_allclose(chroma_cosines(y_true, y_pred), [1, c, c])
    assert chroma_cosine(y_true, y_pred) == pytest.approx(c ** (2 / 3))
    assert chroma_cosine(y_true, y_pred, statistic="median") == pytest.approx(c)
    assert chroma_cosine(y_true, y_pred, statistic="mean") == pytest.approx(
        (1 + 2 * c) / 3
    )


def test_chroma_cosine_floors_zero_negative_and_empty_rows_for_the_geometric_mean():
    y_true = np.array([[1.0, 0], [1, 0], [0, 0], [1, 0]])
    y_pred = np.array([[1.0, 0], [0, 1], [1, 0], [-1, 0]])  # cos 1, 0, 0 (empty), -1
    np.testing.assert_array_equal(chroma_cosines(y_true, y_pred), [1, 0, 0, -1])
    assert chroma_cosine(y_true, y_pred) == pytest.approx((1e-3) ** (3 / 4))
    assert chroma_cosine(y_true, y_pred, floor=0.1) == pytest.approx(0.1 ** (3 / 4))
    assert chroma_cosine(y_true, y_pred, statistic="mean") == 0.0  # no floor


@pytest.mark.parametrize(
    "kwargs, y_pred, match",
    [
        ({"statistic": "max"}, None, "statistic must be one of"),
        ({"floor": 0.0}, None, "floor must be a finite number > 0"),
        ({"floor": 2.0}, None, r"floor must be in \(0, 1\]"),
        ({}, np.ones((3, 11)), "same shape"),
        ({}, np.ones(3), "Expected 2D array"),
        ({}, np.full((3, 12), np.inf), "infinity"),
    ],
)
def test_chroma_cosine_refuses_bad_input(kwargs, y_pred, match):
    y_true = np.ones((3, 12))
    y_pred = np.ones((3, 12)) if y_pred is None else y_pred
    with pytest.raises(ValueError, match=match):
        chroma_cosine(y_true, y_pred, **kwargs)


def test_chroma_cosine_scorer_scores_predictions_against_y():
    X, chroma = chroma_data(n=60)
    probe = ChromaProbe(**LIGHT).fit(X, chroma)
    assert chroma_cosine_scorer(probe, X, chroma) == pytest.approx(
        chroma_cosine(chroma, probe.predict(X))
    )


# -- composer and density probes ---------------------------------------------------


def test_composer_probe_learns_far_above_chance_and_is_repeatable():
    rng = np.random.default_rng(0)
    y = np.repeat(["bach", "haydn", "mozart"], 100)
    centres = rng.normal(scale=2.0, size=(3, 8))
    X = centres[np.searchsorted(["bach", "haydn", "mozart"], y)]
    X = X + rng.normal(size=X.shape)
    order = rng.permutation(300)
    X, y = X[order], y[order]
    probe = make_composer_probe(max_iter=300, random_state=0).fit(X[:200], y[:200])
    pred = probe.predict(X[200:])
    assert f1_score(y[200:], pred, average="macro") > 0.8  # chance: about 1/3
    again = make_composer_probe(max_iter=300, random_state=0).fit(X[:200], y[:200])
    np.testing.assert_array_equal(again.predict_proba(X), probe.predict_proba(X))


def test_composer_probe_parameters_reach_the_mlp():
    probe = make_composer_probe((7,), activation="tanh", early_stopping=True, tol=0.1)
    mlp = probe.named_steps["mlp"]
    assert (mlp.hidden_layer_sizes, mlp.activation, mlp.early_stopping, mlp.tol) == (
        (7,),
        "tanh",
        True,
        0.1,
    )
    assert make_composer_probe().named_steps["mlp"].hidden_layer_sizes == (50,)
    assert probe.set_params(mlp__alpha=0.5).named_steps["mlp"].alpha == 0.5


def test_composer_scoring_names_the_three_f1_averages():
    y_true = np.array(["a"] * 8 + ["b"] * 2)
    y_pred = np.array(["a"] * 7 + ["b"] * 3)

    class Fixed(ClassifierMixin, BaseEstimator):
        classes_ = np.array(["a", "b"])

        def predict(self, X):
            return y_pred

    scores = {
        name: get_scorer(name)(Fixed(), None, y_true) for name in COMPOSER_SCORING
    }
    # a: P=1, R=7/8, F1=14/15; b: P=2/3, R=1, F1=4/5
    assert scores["f1_macro"] == pytest.approx((14 / 15 + 4 / 5) / 2)
    assert scores["f1_micro"] == pytest.approx(0.9)  # accuracy
    assert scores["f1_weighted"] == pytest.approx(0.8 * 14 / 15 + 0.2 * 4 / 5)


def test_density_probe_learns_durations_in_seconds_and_is_repeatable():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 6))
    seconds = 15.0 + 4.0 * X[:, 0] - 2.0 * X[:, 1] ** 2
    probe = make_density_probe(max_iter=400, random_state=0).fit(X[:200], seconds[:200])
    rmse = root_mean_squared_error(seconds[200:], probe.predict(X[200:]))
    assert rmse < 0.25 * seconds.std()  # predicting the mean scores seconds.std()
    scorer = get_scorer(DENSITY_SCORING)
    assert scorer(probe, X[200:], seconds[200:]) == pytest.approx(-rmse)
    again = make_density_probe(max_iter=400, random_state=0).fit(X[:200], seconds[:200])
    np.testing.assert_array_equal(again.predict(X), probe.predict(X))
    assert probe.regressor_.named_steps["mlp"].hidden_layer_sizes == (50,)


# -- the tasks in cross_validate on units ------------------------------------------


def task_units(n_pieces=6, units_per_piece=12, n_events=8, seed=0):
    """Labelled note units; each composer has its own register and tempo."""
    rng = np.random.default_rng(seed)
    piece = np.repeat(np.arange(n_pieces), units_per_piece)
    composer = piece % 2
    n = piece.size
    low = np.where(composer == 0, 40, 60)[:, None]
    tempo = np.where(composer == 0, 150, 450)[:, None]
    events = np.stack(
        [
            low + rng.integers(0, 20, (n, n_events)),
            tempo + rng.integers(0, 100, (n, n_events)),
        ],
        axis=-1,
    ).astype(np.int16)
    position = np.tile(np.arange(units_per_piece), n_pieces)
    labels = np.array(["bach", "mozart"])[composer]
    return Units(events, piece=piece, position=position, labels=labels)


def embed_then(probe):
    embedder = AdjDEmbedder(
        max_epochs=1,
        batch_size=32,
        random_state=0,
        module__hidden_dim=8,
        module__event_channels=4,
    )
    return Pipeline([("emb", embedder), ("probe", probe)])


@pytest.mark.parametrize(
    "task",
    ["composer", "density", "chroma"],
)
def test_each_task_cross_validates_on_units_over_pieces(task):
    units = task_units()
    probe, y, scoring = {
        "composer": (
            make_composer_probe(max_iter=50, random_state=0),
            units.labels,
            COMPOSER_SCORING,
        ),
        "density": (
            make_density_probe(max_iter=50, random_state=0),
            unit_duration(units),
            DENSITY_SCORING,
        ),
        "chroma": (ChromaProbe(**LIGHT), unit_chroma(units), chroma_cosine_scorer),
    }[task]
    result = cross_validate(
        embed_then(probe),
        units,
        y,
        groups=units.piece,
        cv=GroupKFold(3),
        scoring=scoring,
        error_score="raise",
    )
    keys = [k for k in result if k.startswith("test_")]
    assert keys
    for key in keys:
        assert result[key].shape == (3,) and np.all(np.isfinite(result[key]))
    if task == "chroma":
        assert np.all((result["test_score"] > 0) & (result["test_score"] <= 1))
    if task == "density":
        assert np.all(result["test_score"] < 0)  # minus an RMSE


def test_chroma_cross_validation_is_the_manual_fold_loop():
    units = task_units()
    y = unit_chroma(units)
    cv = GroupKFold(3)
    pipe = embed_then(ChromaProbe(**LIGHT))
    scores = cross_validate(
        pipe, units, y, groups=units.piece, cv=cv, scoring=chroma_cosine_scorer
    )["test_score"]
    manual = []
    for train, test in cv.split(units.events, y, groups=units.piece):
        fitted = clone(pipe).fit(units[train], y[train])
        assert set(units.piece[train]).isdisjoint(units.piece[test])
        manual.append(chroma_cosine(y[test], fitted.predict(units[test])))
    np.testing.assert_allclose(scores, manual)
