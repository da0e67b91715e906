"""The sklearn contract of the embedders, on valid (even-width) note units.

sklearn's generic checks feed 3- or 5-column data, which note units reject (see
test_common.py); the properties those checks assert are asserted here instead.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, GroupKFold, train_test_split
from sklearn.pipeline import Pipeline

from sklearn_musemb.embedders import (
    ADjDEmbedder,
    AdjDEmbedder,
    DSSMEmbedder,
    UnitEmbedder,
)
from sklearn_musemb.units.container import Units
from sklearn_musemb.utils.discovery import all_estimators

EMBEDDERS = [cls for _, cls in all_estimators() if issubclass(cls, UnitEmbedder)]
LIGHT = {
    "max_epochs": 2,
    "batch_size": 32,
    "random_state": 0,
    "module__hidden_dim": 16,
    "module__event_channels": 4,
}


def make_units(n_pieces=4, units_per_piece=15, n_events=8, seed=0):
    """Random note units in several labelled pieces."""
    rng = np.random.default_rng(seed)
    n = n_pieces * units_per_piece
    events = np.stack(
        [rng.integers(30, 100, (n, n_events)), rng.integers(0, 900, (n, n_events))],
        axis=-1,
    ).astype(np.int16)
    piece = np.repeat(np.arange(n_pieces), units_per_piece)
    position = np.tile(np.arange(units_per_piece), n_pieces)
    labels = np.array(["a", "b"])[piece % 2]
    return Units(events, piece=piece, position=position, labels=labels)


@pytest.fixture(params=EMBEDDERS, ids=lambda c: c.__name__)
def embedder(request):
    return request.param(**LIGHT)


@pytest.fixture(params=["two_hot", "continuous"])
def representation(request):
    return request.param


def test_fit_returns_self_and_transform_is_float32(embedder, representation):
    units = make_units()
    embedder.set_params(representation=representation)
    assert embedder.fit(units) is embedder
    Z = embedder.transform(units)
    assert Z.dtype == np.float32
    assert Z.shape == (len(units), embedder.embedding_dim)
    assert np.isfinite(Z).all()
    names = embedder.get_feature_names_out()
    assert len(names) == embedder.embedding_dim
    assert names[0] == type(embedder).__name__.lower() + "0"


@pytest.mark.parametrize("dtype", [np.int16, np.int64, np.float32, np.float64])
def test_accepts_int_and_float_arrays_flat_or_3d(embedder, dtype):
    units = make_units()
    events = units.events.astype(dtype)
    Z3 = clone(embedder).fit(events).transform(events)
    Z2 = (
        clone(embedder)
        .fit(events.reshape(len(events), -1))
        .transform(events.reshape(len(events), -1))
    )
    np.testing.assert_array_equal(Z3, Z2)
    assert Z3.dtype == np.float32


def test_two_fits_with_random_state_give_identical_embeddings(embedder, representation):
    units = make_units()
    embedder.set_params(representation=representation)
    Z1 = clone(embedder).fit(units).transform(units)
    Z2 = clone(embedder).fit(units).transform(units)
    np.testing.assert_array_equal(Z1, Z2)


def test_different_random_states_differ(embedder):
    units = make_units()
    Z1 = clone(embedder).set_params(random_state=0).fit(units).transform(units)
    Z2 = clone(embedder).set_params(random_state=1).fit(units).transform(units)
    assert not np.allclose(Z1, Z2)


def test_fit_does_not_touch_the_global_torch_generator(embedder):
    import torch

    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    embedder.fit(make_units())
    np.testing.assert_array_equal(torch.rand(3).numpy(), expected.numpy())


def test_transform_is_independent_of_batching_and_row_order(embedder):
    units = make_units()
    embedder.fit(units)
    Z = embedder.transform(units)
    perm = np.random.default_rng(0).permutation(len(units))
    np.testing.assert_allclose(embedder.transform(units[perm]), Z[perm], atol=1e-5)
    np.testing.assert_allclose(embedder.transform(units[:7]), Z[:7], atol=1e-5)
    embedder.set_params(batch_size=5)
    np.testing.assert_allclose(embedder.transform(units), Z, atol=1e-5)


def test_pickle_roundtrip_keeps_embeddings_and_auto_device(embedder):
    units = make_units()
    embedder.fit(units)
    restored = pickle.loads(pickle.dumps(embedder))
    assert restored.device == "auto"
    assert restored.device_ == embedder.device_  # "auto" resolves the same way
    np.testing.assert_array_equal(restored.transform(units), embedder.transform(units))


def test_fit_leaves_params_and_dict_unchanged(embedder):
    params = embedder.get_params(deep=False)
    embedder.fit(make_units())
    after = embedder.get_params(deep=False)
    assert after.keys() == params.keys()
    # fit neither replaces nor rebinds a parameter: the very same objects remain
    # (sklearn's check_dont_overwrite_parameters)
    for key, value in params.items():
        assert after[key] is value, key
    # transform rebinds no attribute and changes no fitted array in place
    state = dict(vars(embedder))
    arrays = {k: v.copy() for k, v in state.items() if isinstance(v, np.ndarray)}
    embedder.transform(make_units())
    assert set(vars(embedder)) == set(state)
    for key, value in vars(embedder).items():
        assert value is state[key], key
    for key, array in arrays.items():
        np.testing.assert_array_equal(vars(embedder)[key], array, err_msg=key)
    # no public attribute without a trailing underscore appears in fit
    new_public = (
        {
            k
            for k in vars(clone(embedder).fit(make_units()))
            if not k.startswith("_") and not k.endswith("_")
        }
        - set(params)
        - {"history"}
    )
    assert not new_public


def test_transform_before_fit_raises_not_fitted(embedder):
    with pytest.raises(NotFittedError):
        embedder.transform(make_units())


@pytest.mark.parametrize(
    "bad, match",
    [
        (np.full((10, 8), np.nan), "NaN"),
        (np.full((10, 8), np.inf), "infinity"),
        (np.arange(8.0), "Reshape your data"),
        (np.ones((10, 7)), "7 feature"),
        (-np.ones((10, 8)), "Negative values"),
        (np.full((10, 8), 200.0), "0..127"),
        (np.ones((10, 4, 3)), r"\(n_units, n_events, 2\)"),
        (np.ones((0, 8)), "0 sample"),
    ],
)
def test_bad_arrays_get_clear_errors(embedder, bad, match):
    with pytest.raises(ValueError, match=match):
        embedder.fit(bad)


def test_wrong_width_at_transform_names_both_widths(embedder):
    embedder.fit(make_units(n_events=8))
    with pytest.raises(ValueError, match="expecting 16 features"):
        embedder.transform(make_units(n_events=6))


def test_unknown_representation_is_named(embedder):
    embedder.set_params(representation="one_hot")
    with pytest.raises(ValueError, match="representation.*'one_hot'"):
        embedder.fit(make_units())


def test_beat_units_are_refused(embedder):
    beat = Units(np.zeros((4, 3, 2), dtype=np.int16), kind="beats")
    with pytest.raises(ValueError, match="kind 'notes'"):
        embedder.fit(beat)


def test_units_without_adjacent_pairs_are_refused():
    units = make_units(n_pieces=5, units_per_piece=1)
    with pytest.raises(ValueError, match="adjacent"):
        AdjDEmbedder(**LIGHT).fit(units)
    with pytest.raises(ValueError, match="n_samples=1"):
        AdjDEmbedder(**LIGHT).fit(make_units(n_pieces=1, units_per_piece=1))


def test_predict_is_hidden():
    assert not hasattr(AdjDEmbedder(), "predict")
    assert not hasattr(AdjDEmbedder(), "predict_proba")


def test_design_card_spelling_is_the_same_class():
    assert ADjDEmbedder is AdjDEmbedder


def test_history_records_loss_and_pair_accuracy():
    emb = AdjDEmbedder(**LIGHT).fit(make_units())
    assert len(emb.history_) == LIGHT["max_epochs"]
    assert {"train_loss", "train_pair_accuracy", "dur"} <= set(emb.history_[-1])
    assert 0.0 <= emb.history_[-1, "train_pair_accuracy"] <= 1.0


def test_partial_fit_continues_training():
    units = make_units()
    emb = AdjDEmbedder(**LIGHT).fit(units)
    before = emb.transform(units)
    emb.partial_fit(units)
    assert len(emb.history_) == 2 * LIGHT["max_epochs"]
    assert not np.allclose(before, emb.transform(units))


def test_set_output_pandas():
    pd = pytest.importorskip("pandas")
    units = make_units()
    emb = AdjDEmbedder(**LIGHT).set_output(transform="pandas")
    frame = emb.fit_transform(units)
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns) == list(emb.get_feature_names_out())


def test_works_in_pipeline_split_and_grid_search():
    from sklearn.neural_network import MLPClassifier

    units = make_units(n_pieces=6)
    train, test = train_test_split(np.arange(len(units)), random_state=0)
    pipe = Pipeline(
        [
            ("emb", ADjDEmbedder(**LIGHT)),
            ("clf", MLPClassifier(max_iter=50, random_state=0)),
        ]
    )
    pipe.fit(units[train], units.labels[train])
    assert pipe.predict(units[test]).shape == (len(test),)

    search = GridSearchCV(
        pipe,
        {"emb__representation": ["two_hot", "continuous"]},
        cv=GroupKFold(n_splits=2),
        error_score="raise",  # a failing fit must fail the test, not score NaN
    )
    search.fit(units, units.labels, groups=units.piece)
    scores = search.cv_results_["mean_test_score"]
    assert scores.shape == (2,) and np.isfinite(scores).all()
    chosen = search.best_params_["emb__representation"]
    assert search.best_estimator_["emb"].representation == chosen


def test_training_pairs_follow_the_units_after_a_split():
    # the rows the embedder trains on are adjacent in the units it is given, in
    # whatever order they come
    units = make_units()
    shuffled = units[np.random.default_rng(0).permutation(len(units))]
    first, second = AdjDEmbedder()._training_data(shuffled)
    assert len(first) == len(second) == 4 * 14
    np.testing.assert_array_equal(shuffled.piece[first], shuffled.piece[second])
    np.testing.assert_array_equal(
        shuffled.position[second], shuffled.position[first] + 1
    )


@pytest.mark.skipif(
    __import__("torch").cuda.is_available(), reason="needs a CPU-only machine"
)
def test_model_pickled_for_cuda_loads_on_a_cpu_only_machine():
    from skorch.exceptions import DeviceWarning

    units = make_units()
    emb = AdjDEmbedder(**LIGHT, device="cpu").fit(units)
    expected = emb.transform(units)
    # What a pickle written on a GPU machine holds: device "cuda" in the state.
    state = emb.__getstate__()
    state["device"] = "cuda"
    restored = AdjDEmbedder.__new__(AdjDEmbedder)
    with pytest.warns(DeviceWarning):
        restored.__setstate__(state)
    assert str(restored.device) == "cpu"
    np.testing.assert_array_equal(restored.transform(units), expected)
    # device="auto" resolves silently to what this machine has
    state = pickle.loads(pickle.dumps(AdjDEmbedder(**LIGHT).fit(units))).__getstate__()
    restored = AdjDEmbedder.__new__(AdjDEmbedder)
    restored.__setstate__(state)
    assert (restored.device, restored.device_) == ("auto", "cpu")


@pytest.mark.parametrize(
    "params, match",
    [
        ({"embedding_dim": 0}, "embedding_dim must be a positive integer"),
        ({"embedding_dim": 8.0}, "embedding_dim must be a positive integer"),
        ({"n_negatives": 0}, "n_negatives must be a positive integer"),
        ({"n_negatives": True}, "n_negatives must be a positive integer"),
        ({"batch_size": 0}, "batch_size must be a positive integer"),
        ({"max_epochs": -1}, "max_epochs must be a positive integer"),
        ({"max_epochs": "3"}, "max_epochs must be a positive integer"),
        ({"lr": -1e-3}, r"lr must be a finite number >= 0.0"),
        ({"lr": float("nan")}, r"lr must be a finite number >= 0.0"),
        ({"device": "tpu"}, "device='tpu' is not a torch device"),
    ],
)
@pytest.mark.parametrize("cls", [AdjDEmbedder, DSSMEmbedder], ids=lambda c: c.__name__)
def test_invalid_integer_params_are_named_at_fit(cls, params, match):
    emb = cls(**LIGHT).set_params(**params)
    with pytest.raises(ValueError, match=f"{cls.__name__}: {match}"):
        emb.fit(make_units())
