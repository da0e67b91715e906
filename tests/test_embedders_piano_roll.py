"""The seven piano-roll models of Bretan et al. (2017) as sklearn estimators.

sklearn's generic checks feed 2-10 columns, which the piano-roll embedders refuse
(a flat roll has 60 x 96 = 5760; see ROLL_WIDTH_CHECKS in test_common.py); the
properties those checks assert are asserted here on valid beat units and rolls,
together with what the models do: training items (duplicates, neighbours),
the supervised head, model selection, learning on a toy problem, and real music.
"""

from __future__ import annotations

import csv
import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from scipy import sparse
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, GroupKFold, KFold
from sklearn.pipeline import Pipeline
from skorch.dataset import Dataset, ValidSplit

from sklearn_musemb.embedders import (
    ComposerRollEmbedder,
    ContextRollEmbedder,
    DenoisingRollEmbedder,
    RegularizedRollEmbedder,
    RollEmbedder,
)
from sklearn_musemb.embedders.base import IndexBatches
from sklearn_musemb.embedders.piano_roll import rolls_to_units
from sklearn_musemb.encodings import piano_roll
from sklearn_musemb.io import load_midi_corpus, load_music21_corpus
from sklearn_musemb.units import Transposer, Units, segment_beats
from sklearn_musemb.units.segment import unit_content_ids

#: ``../shared/data/piano-midi`` next to the repository (as tests/conftest.py has it).
PIANO_MIDI_ROOT = Path(__file__).resolve().parents[2] / "shared/data/piano-midi"

LIGHT = {
    "embedding_dim": 8,
    "batch_size": 16,
    "max_epochs": 2,
    "random_state": 0,
    "module__channels": (2, 2, 2, 2),
    "module__hidden_dims": (8,),
}
ROLL_CELLS = 60 * 96


@dataclass
class Model:
    """One of the paper's seven models: a class and the parameters that pick it."""

    name: str
    cls: type[RollEmbedder]
    params: dict[str, Any] = field(default_factory=dict)
    supervised: bool = False
    #: Neighbours an input unit needs in its piece (0, 1 for next, 2 for context).
    neighbours: int = 0

    def make(self, **kwargs: Any) -> RollEmbedder:
        return self.cls(**{**LIGHT, **self.params, **kwargs})

    def y(self, units: Units) -> np.ndarray | None:
        return units.labels if self.supervised else None


MODELS = [
    Model("note_drop", DenoisingRollEmbedder, {"corruption": "note_drop"}),
    Model("beat_drop", DenoisingRollEmbedder, {"corruption": "beat_drop"}),
    Model("octave_split", DenoisingRollEmbedder, {"corruption": "octave_split"}),
    Model("next", ContextRollEmbedder, {"target": "next"}, neighbours=1),
    Model("context", ContextRollEmbedder, {"target": "context"}, neighbours=2),
    Model("composer", ComposerRollEmbedder, supervised=True),
    Model("regularized", RegularizedRollEmbedder, supervised=True, neighbours=2),
]
SUPERVISED = [m for m in MODELS if m.supervised]


@pytest.fixture(params=MODELS, ids=lambda m: m.name)
def model(request) -> Model:
    return request.param


# ------------------------------------------------------------------- data
def make_units(
    n_pieces: int = 3,
    units_per_piece: int = 12,
    max_onsets: int = 10,
    seed: int = 0,
    labels: tuple[str, ...] = ("a", "b", "c"),
) -> Units:
    """Random beat units: distinct (pitch 36..95, tick 0..95) onsets per unit.

    Onsets are sorted by tick then pitch (as segment_beats has them) and padded with
    -1; every unit has 1..max_onsets onsets, so all units differ (almost surely).
    """
    rng = np.random.default_rng(seed)
    n = n_pieces * units_per_piece
    events = np.full((n, max_onsets, 2), -1, dtype=np.int16)
    n_events = rng.integers(1, max_onsets + 1, n)
    for i, k in enumerate(n_events):
        cell = rng.choice(ROLL_CELLS, size=k, replace=False)
        tick, row = cell % 96, cell // 96
        order = np.lexsort((row, tick))
        events[i, :k, 0] = 36 + row[order]
        events[i, :k, 1] = tick[order]
    piece = np.repeat(np.arange(n_pieces), units_per_piece)
    position = np.tile(np.arange(units_per_piece), n_pieces)
    unit_labels = np.array(labels)[piece % len(labels)]
    return Units(
        events,
        piece=piece,
        position=position,
        labels=unit_labels,
        n_events=n_events,
        kind="beats",
    )


def one_piece(n: int = 20, seed: int = 0) -> Units:
    """Units of one piece in row order, labelled a, b, a, b... (what an array is)."""
    units = make_units(n_pieces=1, units_per_piece=n, seed=seed)
    units.labels = np.array(["a", "b"])[np.arange(n) % 2]
    return units


def rolls_of(units: Units) -> np.ndarray:
    """Dense 60 x 96 float32 rolls of beat units (built with the package's encoder)."""
    return piano_roll(torch.as_tensor(units.events)).numpy()


def fit(model: Model, X: Any, units: Units, **kwargs: Any) -> RollEmbedder:
    return model.make(**kwargs).fit(X, model.y(units))


def n_items_expected(units: Units, neighbours: int) -> int:
    """Training items counted by hand: units with the neighbours asked for."""
    keys = set(zip(units.piece, units.variant, units.position, strict=True))
    count = 0
    for piece, variant, position in keys:
        after = (piece, variant, position + 1) in keys
        before = (piece, variant, position - 1) in keys
        count += {0: True, 1: after, 2: after and before}[neighbours]
    return count


# ----------------------------------------------------- fit / transform contract
def test_fit_returns_self_and_transform_is_float32(model):
    units = make_units()
    emb = model.make()
    assert emb.fit(units, model.y(units)) is emb
    Z = emb.transform(units)
    assert Z.dtype == np.float32
    assert Z.shape == (len(units), 8)
    assert np.isfinite(Z).all()
    assert Z.std(axis=0).max() > 0  # not one constant vector
    names = emb.get_feature_names_out()
    assert names.tolist() == [f"{model.cls.__name__.lower()}{i}" for i in range(8)]
    assert emb.n_features_in_ == ROLL_CELLS
    assert emb.roll_shape_ == (60, 96)
    assert tuple(emb.pitch_range_) == (36, 96)
    assert emb.device_ == ("cuda" if torch.cuda.is_available() else "cpu")


def test_fit_transform_equals_fit_then_transform(model):
    units = make_units()
    Z = model.make().fit_transform(units, model.y(units))
    np.testing.assert_array_equal(Z, fit(model, units, units).transform(units))


def test_units_3d_rolls_and_flat_rolls_give_identical_embeddings(model):
    units = one_piece(20)
    rolls = rolls_of(units)
    assert rolls.shape == (20, 60, 96) and rolls.dtype == np.float32
    flat = rolls.reshape(len(rolls), -1)
    Z_units = fit(model, units, units).transform(units)
    Z_rolls = fit(model, rolls, units).transform(rolls)
    Z_flat = fit(model, flat, units).transform(flat)
    np.testing.assert_array_equal(Z_rolls, Z_units)
    np.testing.assert_array_equal(Z_flat, Z_units)
    # and within one fit, 3-d and flat rolls are the same input
    emb = fit(model, rolls, units)
    np.testing.assert_array_equal(emb.transform(flat), emb.transform(rolls))


def test_any_positive_cell_is_an_onset():
    units = one_piece(20)
    rolls = rolls_of(units)
    emb = DenoisingRollEmbedder(**LIGHT)
    Z = emb.fit_transform(rolls)
    Z_scaled = clone(emb).fit_transform(0.3 * rolls.astype(np.float64))
    np.testing.assert_array_equal(Z_scaled, Z)
    Z_bool = clone(emb).fit_transform(rolls > 0)
    np.testing.assert_array_equal(Z_bool, Z)


@pytest.mark.parametrize("fitted_on", ["units", "rolls"])
def test_units_and_rolls_embed_alike_in_one_fitted_model(fitted_on):
    units = one_piece(20)
    rolls = rolls_of(units)
    emb = DenoisingRollEmbedder(**LIGHT).fit(units if fitted_on == "units" else rolls)
    np.testing.assert_allclose(emb.transform(rolls), emb.transform(units), atol=1e-6)


def test_other_roll_shapes_train_a_matching_network():
    rng = np.random.default_rng(0)
    rolls = rng.random((20, 48, 96)) < 0.03  # four octaves
    emb = DenoisingRollEmbedder(**LIGHT).fit(rolls)
    assert emb.roll_shape_ == (48, 96)
    assert emb.n_features_in_ == 48 * 96
    assert emb.module_.encoder.conv_shapes[0] == (48, 96)
    Z = emb.transform(rolls)
    assert Z.shape == (20, 8)
    np.testing.assert_array_equal(emb.transform(rolls.reshape(20, -1)), Z)


def test_rolls_that_do_not_span_whole_octaves_are_refused_up_front():
    rolls = np.random.default_rng(0).random((20, 88, 96)) < 0.03
    with pytest.raises(ValueError, match="DenoisingRollEmbedder.*whole octaves.*88"):
        DenoisingRollEmbedder(**LIGHT).fit(rolls)


def test_units_of_another_pitch_range_are_refused_at_transform():
    units = one_piece(20)
    emb = DenoisingRollEmbedder(**LIGHT).fit(units)
    shifted = units[:]
    shifted.meta = {**units.meta, "pitch_range": (48, 108)}
    with pytest.raises(ValueError, match="pitches 48..108.*fitted on 36..96"):
        emb.transform(shifted)


@pytest.mark.parametrize("batch_size", [1, 0])
def test_batch_size_below_two_is_refused(batch_size):
    with pytest.raises(ValueError, match="batch_size"):
        DenoisingRollEmbedder(**{**LIGHT, "batch_size": batch_size}).fit(one_piece(20))


def test_same_int_random_state_gives_identical_embeddings_other_seeds_differ(model):
    units = make_units()
    Z1 = fit(model, units, units).transform(units)
    Z2 = fit(model, units, units).transform(units)
    np.testing.assert_array_equal(Z1, Z2)
    Z3 = fit(model, units, units, random_state=1).transform(units)
    assert not np.allclose(Z1, Z3)


def test_transform_is_independent_of_batch_size_and_row_order(model):
    units = make_units()
    emb = fit(model, units, units)
    Z = emb.transform(units)
    perm = np.random.default_rng(0).permutation(len(units))
    np.testing.assert_allclose(emb.transform(units[perm]), Z[perm], atol=1e-5)
    np.testing.assert_allclose(emb.transform(units[:5]), Z[:5], atol=1e-5)
    np.testing.assert_allclose(emb.transform(units[[7]]), Z[[7]], atol=1e-5)
    for batch_size in (1, 5, -1):
        emb.set_params(batch_size=batch_size)
        np.testing.assert_allclose(emb.transform(units), Z, atol=1e-5)
    rolls = rolls_of(units)
    emb_rolls = fit(model, rolls, units)
    Zr = emb_rolls.transform(rolls)
    np.testing.assert_allclose(emb_rolls.transform(rolls[perm]), Zr[perm], atol=1e-5)


def test_pickle_roundtrip_keeps_embeddings(model):
    units = make_units()
    emb = fit(model, units, units)
    restored = pickle.loads(pickle.dumps(emb))
    assert type(restored) is type(emb)
    assert restored.device == "auto"
    np.testing.assert_array_equal(restored.transform(units), emb.transform(units))
    assert restored.roll_shape_ == emb.roll_shape_
    if model.supervised:
        np.testing.assert_array_equal(restored.classes_, emb.classes_)


def test_clone_get_params_and_set_params(model):
    emb = model.make()
    params = emb.get_params(deep=False)
    for key, value in {**LIGHT, **model.params}.items():
        assert params[key] == value, key
    for key in ("n_negatives", "similarity_scale", "drop_duplicates"):
        assert key in params
    if model.cls is RegularizedRollEmbedder:
        assert params["composer_weight"] == 1.0 and params["target"] == "context"
    copy = clone(emb)
    assert copy is not emb and type(copy) is type(emb)
    assert copy.get_params(deep=False).keys() == params.keys()
    assert copy.get_params(deep=False)["module__channels"] == (2, 2, 2, 2)
    assert emb.set_params(embedding_dim=5, n_negatives=2) is emb
    assert (emb.embedding_dim, emb.n_negatives) == (5, 2)
    units = make_units()
    assert emb.fit_transform(units, model.y(units)).shape == (len(units), 5)
    # a clone of a fitted embedder is unfitted, with the changed parameters
    fresh = clone(emb)
    assert fresh.embedding_dim == 5
    with pytest.raises(NotFittedError):
        fresh.transform(units)


def test_fit_leaves_params_and_dict_unchanged(model):
    units = make_units()
    emb = model.make()
    params = emb.get_params(deep=False)
    emb.fit(units, model.y(units))
    after = emb.get_params(deep=False)
    assert after.keys() == params.keys()
    for key, value in params.items():
        assert after[key] is value, key
        if key in vars(emb):
            assert vars(emb)[key] is value, key
    # transform rebinds no attribute and changes no fitted array in place
    state = dict(vars(emb))
    arrays = {k: v.copy() for k, v in state.items() if isinstance(v, np.ndarray)}
    emb.transform(units)
    assert set(vars(emb)) == set(state)
    for key, value in vars(emb).items():
        assert value is state[key], key
    for key, array in arrays.items():
        np.testing.assert_array_equal(vars(emb)[key], array, err_msg=key)
    # fit adds no public attribute without a trailing underscore
    new_public = {
        k for k in vars(emb) if not k.startswith("_") and not k.endswith("_")
    } - set(params)
    assert new_public <= {"history"}


def test_transform_before_fit_raises_not_fitted(model):
    with pytest.raises(NotFittedError):
        model.make().transform(make_units())


def test_predict_is_hidden(model):
    assert not hasattr(model.make(), "predict")
    assert not hasattr(model.make(), "predict_proba")


def test_set_output_pandas():
    pd = pytest.importorskip("pandas")
    units = make_units()
    emb = DenoisingRollEmbedder(**LIGHT).set_output(transform="pandas")
    frame = emb.fit_transform(units)
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns) == list(emb.get_feature_names_out())


# ----------------------------------------------------------------- bad input
def bad_fit(model: Model, X: Any, n: int | None = None):
    """Fit on X with labels when supervised (so the error is about X, not y)."""
    n = len(X) if n is None else n
    y = np.array(["a", "b"])[np.arange(n) % 2] if model.supervised else None
    return model.make().fit(X, y)


@pytest.mark.parametrize(
    "make_bad, match",
    [
        (lambda r: np.where(r > 0, np.nan, 0.0), "NaN"),
        (lambda r: np.where(r > 0, np.inf, 0.0), "infinity"),
        (lambda r: -r, "Negative values"),
        (lambda r: r.reshape(len(r), -1)[:, :100], "5760"),
        (lambda r: r.reshape(len(r), -1)[:, :-1], "5760 columns, got 5759"),
        (lambda r: r.reshape(len(r), -1)[:0], "0 sample"),
        (lambda r: r[None], "dim 4"),
    ],
    ids=["nan", "inf", "negative", "width100", "width5759", "empty", "4d"],
)
def test_bad_rolls_get_clear_value_errors(model, make_bad, match):
    rolls = rolls_of(make_units())
    bad = make_bad(rolls)
    with pytest.raises(ValueError, match=match):
        bad_fit(model, bad, n=len(rolls))


def test_empty_units_are_refused():
    empty = make_units()[np.zeros(36, dtype=bool)]
    with pytest.raises(ValueError, match="found 0 units"):
        DenoisingRollEmbedder(**LIGHT).fit(empty)


def test_empty_3d_rolls_get_the_zero_samples_message():
    with pytest.raises(ValueError, match="0 sample"):
        DenoisingRollEmbedder(**LIGHT).fit(np.zeros((0, 60, 96)))


def test_nan_in_a_3d_roll_is_refused(model):
    rolls = rolls_of(make_units())
    rolls[3, 10, 20] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        bad_fit(model, rolls)


def test_sparse_input_is_refused_with_a_message_about_sparse(model):
    flat = sparse.csr_matrix(rolls_of(make_units()).reshape(36, -1))
    with pytest.raises((TypeError, ValueError), match="[Ss]parse"):
        bad_fit(model, flat)


def test_note_units_are_refused(model):
    notes = Units(np.full((10, 4, 2), 60, dtype=np.int16), kind="notes")
    with pytest.raises(ValueError, match="kind 'beats'.*'notes'"):
        bad_fit(model, notes)


def test_onset_tick_beyond_the_unit_is_refused():
    units = make_units()
    events = units.events.copy()
    events[0, 0, 1] = 96
    bad = Units(events, n_events=units.n_events, kind="beats")
    with pytest.raises(ValueError, match="onset tick 96 is outside units of 96"):
        DenoisingRollEmbedder(**LIGHT).fit(bad)


def test_wrong_roll_shape_at_transform_is_named(model):
    units = make_units()
    emb = fit(model, units, units)
    rolls = rolls_of(units)
    transposed = np.ascontiguousarray(rolls.transpose(0, 2, 1))  # 96 x 60, 5760 cells
    with pytest.raises(ValueError, match="96 x 60 piano rolls.*fitted on 60 x 96"):
        emb.transform(transposed)
    with pytest.raises(ValueError, match="4608"):
        emb.transform(rolls[:, :48])
    with pytest.raises(ValueError, match="5760"):
        emb.transform(rolls.reshape(len(rolls), -1)[:, :100])
    longer = Units(units.events, kind="beats", meta={"n_ticks": 192})
    with pytest.raises(ValueError, match="60 x 192 piano rolls"):
        emb.transform(longer)
    # partial_fit does not start over on another shape either
    with pytest.raises(ValueError, match="96 x 60"):
        emb.partial_fit(transposed, model.y(units))


@pytest.mark.parametrize(
    "cls, params, match",
    [
        (DenoisingRollEmbedder, {"corruption": "pitch_shift"}, "corruption.*'pitch_"),
        (ContextRollEmbedder, {"target": "previous"}, "target.*'previous'"),
        (RegularizedRollEmbedder, {"target": "both"}, "target.*'both'"),
        (DenoisingRollEmbedder, {"n_negatives": 0}, "n_negatives must be a positive"),
        (ContextRollEmbedder, {"n_negatives": 1.5}, "n_negatives must be a positive"),
        (ContextRollEmbedder, {"similarity_scale": np.nan}, "similarity_scale"),
        (DenoisingRollEmbedder, {"similarity_scale": np.inf}, "similarity_scale"),
        (DenoisingRollEmbedder, {"similarity_scale": 0.0}, "similarity_scale.*> 0"),
        (RegularizedRollEmbedder, {"composer_weight": -0.5}, "composer_weight"),
        (RegularizedRollEmbedder, {"composer_weight": np.inf}, "composer_weight"),
        (ComposerRollEmbedder, {"embedding_dim": 0}, "embedding_dim"),
        (DenoisingRollEmbedder, {"drop_duplicates": "yes"}, "drop_duplicates"),
    ],
)
def test_invalid_params_are_named_at_fit(cls, params, match):
    units = make_units()
    emb = cls(**{**LIGHT, **params})
    with pytest.raises(ValueError, match=f"{cls.__name__}: {match}"):
        emb.fit(units, units.labels)


def test_composer_weight_zero_is_allowed():
    units = make_units()
    emb = RegularizedRollEmbedder(**LIGHT, composer_weight=0.0).fit(units, units.labels)
    assert emb.transform(units).shape == (len(units), 8)


# ---------------------------------------------------------------- supervised
@pytest.mark.parametrize("m", SUPERVISED, ids=lambda m: m.name)
def test_supervised_models_require_y(m):
    units = make_units()
    with pytest.raises(ValueError, match="requires y to be passed"):
        m.make().fit(units)
    # y is checked before X: even invalid X gives the y message
    with pytest.raises(ValueError, match="requires y to be passed"):
        m.make().fit(np.ones((3, 7)))


@pytest.mark.parametrize("m", SUPERVISED, ids=lambda m: m.name)
def test_supervised_models_check_y_length_and_unseen_labels(m):
    units = make_units()
    with pytest.raises(ValueError, match="36 units but y has 35 labels"):
        m.make().fit(units, units.labels[:-1])
    emb = m.make().fit(units, units.labels)
    np.testing.assert_array_equal(emb.classes_, ["a", "b", "c"])
    y_new = np.where(units.labels == "a", "zelda", units.labels)
    with pytest.raises(ValueError, match=r"unseen in the first fit: \['zelda'\]"):
        emb.partial_fit(units, y_new)
    # a subset of the known labels is fine, and classes_ stays the full set
    keep = units.labels != "c"
    emb.partial_fit(units[keep], units.labels[keep])
    np.testing.assert_array_equal(emb.classes_, ["a", "b", "c"])
    # a fresh fit learns the classes again
    emb.fit(units[keep], units.labels[keep])
    np.testing.assert_array_equal(emb.classes_, ["a", "b"])


@pytest.mark.parametrize("m", SUPERVISED, ids=lambda m: m.name)
def test_classes_and_composer_head(m):
    units = make_units()
    y = np.array([3, 1, 2])[units.piece]  # integer labels
    emb = m.make().fit(units, y)
    np.testing.assert_array_equal(emb.classes_, [1, 2, 3])
    np.testing.assert_array_equal(emb.label_encoder_.classes_, [1, 2, 3])
    Z = torch.as_tensor(emb.transform(units))
    with torch.no_grad():
        logits = emb.module_.classify(Z)
    assert logits.shape == (len(units), 3)
    has_decoder = emb.module_.decoder is not None
    assert has_decoder == (m.cls is RegularizedRollEmbedder)
    if m.cls is RegularizedRollEmbedder:
        # the paper's hidden layer of 50 ELU units, which module__ can change
        assert emb.module_.classifier[0].out_features == 50
        small = m.make(module__classifier_hidden_dim=4).fit(units, y)
        assert small.module_.classifier[0].out_features == 4


def test_unsupervised_models_ignore_y():
    units = make_units()
    a = DenoisingRollEmbedder(**LIGHT).fit(units).transform(units)
    b = DenoisingRollEmbedder(**LIGHT).fit(units, units.labels).transform(units)
    np.testing.assert_array_equal(a, b)
    assert not hasattr(DenoisingRollEmbedder(**LIGHT).fit(units), "classes_")


# ------------------------------------------------- what a training batch sees
class Spy:
    """Mixin recording, per training batch, the items, the clean input rolls, the
    roll the encoder receives, and the reconstruction target."""

    def _batch_loss(self, batch, training):
        if not training:
            return super()._batch_loss(batch, training)
        record = {"items": batch[0].clone()}
        vars(self).setdefault("_spy", []).append(record)

        def grab(module, args):
            record["encoded"] = args[0].detach().clone()

        handle = self.module_.encoder.register_forward_pre_hook(grab)
        try:
            return super()._batch_loss(batch, training)
        finally:
            handle.remove()

    def _corrupt(self, roll):
        out = super()._corrupt(roll)
        self._spy[-1]["clean"] = roll.detach().clone()
        return out

    def _embedding_loss(self, embedding, target, labels, training):
        self._spy[-1]["target"] = target.detach().clone()
        self._spy[-1]["labels"] = labels
        return super()._embedding_loss(embedding, target, labels, training)


def spy_fit(model: Model, units: Units, **kwargs: Any) -> list[dict[str, Any]]:
    spy_cls = type(f"Spy{model.cls.__name__}", (Spy, model.cls), {})
    emb = spy_cls(**{**LIGHT, **model.params, **kwargs})
    emb.fit(units, model.y(units))
    assert emb._spy, "no training batch was recorded"
    return emb._spy


def dense_units(n: int = 24, seed: int = 0) -> Units:
    """One piece of dense units (~290 onsets): no beat or hand is silent."""
    rng = np.random.default_rng(seed)
    rolls = rng.random((n, 60, 96)) < 0.05
    units = rolls_to_units(rolls, pitch_low=36)
    units.labels = np.array(["a", "b"])[np.arange(n) % 2]
    return units


@pytest.mark.parametrize("model", MODELS[:3], ids=lambda m: m.name)
def test_denoising_input_is_the_corrupted_unit_and_target_the_clean_one(model):
    units = dense_units()
    rolls = torch.as_tensor(rolls_of(units))
    kept, total = 0.0, 0.0
    for record in spy_fit(model, units):
        clean, encoded = record["clean"], record["encoded"]
        expected = rolls[record["items"][:, 0]]
        assert torch.equal(clean, expected)
        assert torch.equal(record["target"], expected)  # the clean roll
        assert not ((encoded != 0) & (clean == 0)).any()  # nothing added
        assert not torch.equal(encoded, clean)
        n = len(clean)
        if model.params["corruption"] == "beat_drop":
            changed = (encoded != clean).view(n, 60, 4, 24).any(dim=(1, 3))
            silent = (encoded.view(n, 60, 4, 24) == 0).all(dim=(1, 3))
            assert (changed.sum(1) == 1).all() and (silent.sum(1) == 1).all()
            assert (changed == silent).all()
        elif model.params["corruption"] == "octave_split":
            low_zero = (encoded[:, :24] == 0).all(dim=(1, 2))
            high_zero = (encoded[:, 24:] == 0).all(dim=(1, 2))
            assert (low_zero ^ high_zero).all()
            assert torch.equal(encoded[low_zero, 24:], clean[low_zero, 24:])
            assert torch.equal(encoded[high_zero, :24], clean[high_zero, :24])
        kept += encoded.sum().item()
        total += clean.sum().item()
    if model.params["corruption"] == "note_drop":
        assert 0.45 < kept / total < 0.55


@pytest.mark.parametrize("m", MODELS[3:], ids=lambda m: m.name)
def test_other_models_get_the_clean_unit_and_reconstruct_their_target(m):
    units = dense_units()
    rolls = torch.as_tensor(rolls_of(units))
    for record in spy_fit(m, units):
        items = record["items"]
        assert torch.equal(record["encoded"], rolls[items[:, 0]])
        if m.name == "next":
            assert torch.equal(record["target"], rolls[items[:, 1]])
            assert (
                units.position[items[:, 1]] == units.position[items[:, 0]] + 1
            ).all()
        elif m.name in ("context", "regularized"):
            # the two neighbours summed into one 60 x 96 target
            neighbours = rolls[items[:, 1]] + rolls[items[:, 2]]
            assert torch.equal(record["target"], neighbours)
            assert record["target"].max() == 2  # shared onsets add up
        if m.supervised:
            expected = np.searchsorted(["a", "b"], units.labels[items[:, 0]])
            np.testing.assert_array_equal(record["labels"].numpy(), expected)
        else:
            assert record["labels"] is None


# ------------------------------------------------------------------- history
def test_history_records_loss_and_accuracies(model):
    units = make_units()
    emb = fit(model, units, units, max_epochs=3)
    assert len(emb.history_) == 3
    keys = set(emb.history_[-1])
    assert "train_loss" in keys
    reconstructs = model.cls is not ComposerRollEmbedder
    assert ("train_reconstruction_accuracy" in keys) == reconstructs
    assert ("train_composer_accuracy" in keys) == model.supervised
    for key in keys & {"train_reconstruction_accuracy", "train_composer_accuracy"}:
        values = emb.history_[:, key]
        assert all(0.0 <= v <= 1.0 for v in values), key
    assert all(np.isfinite(emb.history_[:, "train_loss"]))


def test_validation_split_records_valid_figures():
    units = make_units()
    emb = RegularizedRollEmbedder(**LIGHT, train_split=ValidSplit(4)).fit(
        units, units.labels
    )
    row = emb.history_[-1]
    for name in ("loss", "reconstruction_accuracy", "composer_accuracy"):
        assert np.isfinite(row[f"valid_{name}"]), name


def test_partial_fit_continues_training(model):
    units = make_units()
    emb = fit(model, units, units)
    before = emb.transform(units)
    state = {k: v.clone() for k, v in emb.module_.state_dict().items()}
    emb.partial_fit(units, model.y(units))
    assert len(emb.history_) == 2 * LIGHT["max_epochs"]
    assert not np.allclose(before, emb.transform(units))
    # the network continues from its weights: a fresh fit would give `before` again
    refit = fit(model, units, units)
    np.testing.assert_array_equal(refit.transform(units), before)
    changed = [
        k for k, v in emb.module_.state_dict().items() if not torch.equal(v, state[k])
    ]
    assert changed


def test_warm_start_fit_continues_like_partial_fit():
    units = make_units()
    emb = DenoisingRollEmbedder(**LIGHT, warm_start=True).fit(units)
    emb.fit(units)
    assert len(emb.history_) == 2 * LIGHT["max_epochs"]


# --------------------------------------------------------- batching and BN
def test_index_batches_merge_a_last_batch_below_min_size():
    def sizes(n, batch_size, min_size):
        batches = IndexBatches(
            Dataset(np.arange(n), None), batch_size, False, "cpu", min_size=min_size
        )
        out = [len(x) for x, _ in batches]
        assert len(batches) == len(out)
        return out

    assert sizes(17, 16, 2) == [17]
    assert sizes(17, 16, 1) == [16, 1]
    assert sizes(33, 16, 2) == [16, 17]
    assert sizes(34, 16, 2) == [16, 16, 2]
    assert sizes(16, 16, 2) == [16]
    assert sizes(5, -1, 2) == [5]


def test_index_batches_shuffle_cover_every_item_once_reproducibly():
    ds = Dataset(np.arange(40), np.arange(40) * 10)

    def rows(seed):
        g = torch.Generator().manual_seed(seed)
        batches = IndexBatches(ds, 16, True, "cpu", generator=g, min_size=2)
        xs, ys = zip(*batches, strict=True)
        return torch.cat(xs), torch.cat(ys)

    x, y = rows(0)
    assert sorted(x.tolist()) == list(range(40))
    assert torch.equal(y, x * 10)  # labels follow their items
    assert torch.equal(rows(0)[0], x)
    assert not torch.equal(rows(1)[0], x)
    assert x.tolist() != list(range(40))


@pytest.mark.parametrize("n_items, batches", [(17, 1), (18, 2), (33, 2)])
def test_last_batch_of_one_item_does_not_crash_batch_norm(model, n_items, batches):
    units = one_piece(n_items + model.neighbours)
    emb = fit(model, units, units)
    assert emb.n_items_ == n_items
    assert emb.history_[-1, "train_batch_count"] == batches
    assert len(emb.history_[-1, "batches"]) == batches
    assert np.isfinite(emb.transform(units)).all()


def test_too_few_items_are_refused():
    units = make_units()
    with pytest.raises(ValueError, match="at least 2 training items, found 1"):
        DenoisingRollEmbedder(**LIGHT).fit(units[:1])
    with pytest.raises(ValueError, match="found 1 among n_samples=2"):
        DenoisingRollEmbedder(**LIGHT).fit(units[[4, 4]])  # one distinct unit


# -------------------------------------------------------- training items
def test_drop_duplicates_counts_duplicate_units():
    base = make_units(n_pieces=1, units_per_piece=5)
    units = base[[0, 1, 2, 0, 1, 3, 4, 0]]
    emb = DenoisingRollEmbedder(**LIGHT).fit(units)
    assert (emb.n_items_, emb.n_duplicate_items_) == (5, 3)
    emb = DenoisingRollEmbedder(**LIGHT, drop_duplicates=False).fit(units)
    assert (emb.n_items_, emb.n_duplicate_items_) == (8, 0)
    # the same holds for the rolls of those units
    emb = DenoisingRollEmbedder(**LIGHT).fit(rolls_of(units))
    assert (emb.n_items_, emb.n_duplicate_items_) == (5, 3)


def test_duplicates_ignore_piece_position_and_variant():
    base = make_units(n_pieces=1, units_per_piece=3)
    units = Units(
        base.events[[0, 1, 0, 2, 0]],
        n_events=base.n_events[[0, 1, 0, 2, 0]],
        piece=[0, 0, 1, 2, 3],
        position=[0, 1, 7, 0, 0],
        variant=[0, 0, 0, 0, 5],
        kind="beats",
    )
    emb = DenoisingRollEmbedder(**LIGHT).fit(units)
    assert (emb.n_items_, emb.n_duplicate_items_) == (3, 2)


def tuple_units(pattern: str, labels: str | None = None) -> Units:
    """One piece whose unit i has the contents named by letter ``pattern[i]``."""
    base = make_units(n_pieces=1, units_per_piece=6, seed=3)
    rows = ["abcdpq".index(c) for c in pattern]
    return Units(
        base.events[rows],
        n_events=base.n_events[rows],
        labels=None if labels is None else list(labels),
        kind="beats",
    )


@pytest.mark.parametrize(
    "target, pattern, n_items, n_duplicates",
    [
        # centres with (previous, next): (p; a, b) (b; p, c) (c; b, p) (p; c, d):
        # the input p repeats with other neighbours, so nothing is a duplicate
        ("context", "apbcpd", 4, 0),
        # (p; a, b) (b; p, a) (a; b, p) (p; a, b): the last repeats the first
        ("context", "apbapb", 3, 1),
        # pairs (p, a) (a, p) (p, b): p twice as input, with other targets
        ("next", "papb", 3, 0),
        # (a, b) (b, a) (a, b) (b, a) (a, b)
        ("next", "ababab", 2, 3),
    ],
)
def test_duplicate_key_of_context_items_is_the_whole_tuple(
    target, pattern, n_items, n_duplicates
):
    units = tuple_units(pattern)
    emb = ContextRollEmbedder(**LIGHT, target=target).fit(units)
    assert (emb.n_items_, emb.n_duplicate_items_) == (n_items, n_duplicates)
    emb = ContextRollEmbedder(**LIGHT, target=target, drop_duplicates=False).fit(units)
    assert emb.n_items_ == n_items + n_duplicates
    assert emb.n_duplicate_items_ == 0


def test_supervised_duplicates_are_per_label():
    # the same contents under two composers are two items, under one composer one
    emb = ComposerRollEmbedder(**LIGHT).fit(tuple_units("aab"), ["x", "y", "x"])
    assert (emb.n_items_, emb.n_duplicate_items_) == (3, 0)
    emb = ComposerRollEmbedder(**LIGHT).fit(tuple_units("aab"), ["x", "x", "y"])
    assert (emb.n_items_, emb.n_duplicate_items_) == (2, 1)
    units = tuple_units("apbapb")
    emb = RegularizedRollEmbedder(**LIGHT).fit(units, list("xxxxxy"))
    assert (emb.n_items_, emb.n_duplicate_items_) == (3, 1)
    emb = RegularizedRollEmbedder(**LIGHT).fit(units, list("xyxxxx"))
    assert (emb.n_items_, emb.n_duplicate_items_) == (4, 0)


def variant_units() -> Units:
    """Rows in shuffled order over two pieces and two variants, with gaps.

    piece 0 variant 0: positions 0 1 2 3, then 6 7 (4 and 5 missing);
    piece 0 variant 1: positions 0 1 2; piece 1 variant 0: positions 1 2;
    piece 2 variant 0: position 0 alone; piece 1 variant 1: 0 2 (not adjacent).
    """
    rows = [
        (0, 0, 0), (0, 0, 1), (0, 0, 2), (0, 0, 3), (0, 0, 6), (0, 0, 7),
        (0, 1, 0), (0, 1, 1), (0, 1, 2),
        (1, 0, 1), (1, 0, 2),
        (2, 0, 0),
        (1, 1, 0), (1, 1, 2),
    ]  # fmt: skip
    piece, variant, position = np.array(rows).T
    base = make_units(n_pieces=1, units_per_piece=len(rows), seed=4)
    units = Units(
        base.events,
        n_events=base.n_events,
        piece=piece,
        variant=variant,
        position=position,
        labels=np.array(["x", "y"])[piece % 2],
        kind="beats",
    )
    return units[np.random.default_rng(0).permutation(len(rows))]


def test_context_items_need_both_neighbours_in_the_same_piece_and_variant():
    units = variant_units()
    emb = ContextRollEmbedder(**LIGHT, target="context")
    items, labels = emb._training_data(units)
    assert labels is None
    key = np.column_stack([units.piece, units.variant, units.position])
    centres = sorted(tuple(int(v) for v in k) for k in key[items[:, 0]])
    # not (0, 0, 3): position 4 is missing; not 6 or 7; nothing in pieces 1 and 2
    # (piece 1 variant 0 has only two units, variant 1 has a gap)
    assert centres == [(0, 0, 1), (0, 0, 2), (0, 1, 1)]
    assert items.shape == (3, 3)
    for centre, before, after in items:
        for other, step in ((before, -1), (after, 1)):
            assert units.piece[other] == units.piece[centre]
            assert units.variant[other] == units.variant[centre]
            assert units.position[other] == units.position[centre] + step
    assert len(items) == n_items_expected(units, 2)
    fitted = ContextRollEmbedder(**LIGHT, target="context").fit(units)
    assert (fitted.n_items_, fitted.n_duplicate_items_) == (3, 0)


def test_next_items_are_every_adjacent_pair():
    units = variant_units()
    items, _ = ContextRollEmbedder(**LIGHT, target="next")._training_data(units)
    assert items.shape == (n_items_expected(units, 1), 2)
    pairs = {
        (
            (units.piece[a], units.variant[a], units.position[a]),
            (units.piece[b], units.variant[b], units.position[b]),
        )
        for a, b in items
    }
    expected = {
        ((p, v, q), (p, v, q + 1))
        for p, v, q in zip(units.piece, units.variant, units.position, strict=True)
        if ((units.piece == p) & (units.variant == v) & (units.position == q + 1)).any()
    }
    assert pairs == expected
    assert len(expected) == 7  # 3 + 1 + 2 + 1 pairs


def test_regularized_items_follow_the_context_target_with_labels():
    units = variant_units()
    emb = RegularizedRollEmbedder(**LIGHT, target="next")
    items, labels = emb._training_data(units, units.labels)
    assert items.shape == (7, 2)
    np.testing.assert_array_equal(emb.classes_[labels], units.labels[items[:, 0]])
    emb_context = RegularizedRollEmbedder(**LIGHT)
    items, labels = emb_context._training_data(units, units.labels)
    assert len(items) == 3
    # the label of an item is the composer of its input unit
    np.testing.assert_array_equal(
        emb_context.classes_[labels], units.labels[items[:, 0]]
    )


@pytest.mark.parametrize("target", ["context", "next"])
def test_units_without_consecutive_units_are_refused(target):
    units = make_units(n_pieces=6, units_per_piece=1)  # every unit its own piece
    with pytest.raises(ValueError, match=f"target='{target}'.*consecutive units"):
        ContextRollEmbedder(**LIGHT, target=target).fit(units)
    with pytest.raises(ValueError, match="consecutive units"):
        RegularizedRollEmbedder(**LIGHT, target=target).fit(units, units.labels)


def test_pairs_but_no_triples_are_refused_for_context_only():
    units = make_units(n_pieces=5, units_per_piece=2)
    assert ContextRollEmbedder(**LIGHT, target="next").fit(units).n_items_ == 5
    with pytest.raises(ValueError, match="at least 3 consecutive units"):
        ContextRollEmbedder(**LIGHT, target="context").fit(units)


# ----------------------------------------------------------- helper functions
def test_rolls_to_units_round_trips_through_piano_roll():
    units = make_units()
    rolls = rolls_of(units)
    back = rolls_to_units(rolls, pitch_low=36)
    assert back.kind == "beats"
    assert back.meta == {"pitch_range": (36, 96), "n_ticks": 96}
    np.testing.assert_array_equal(back.n_events, units.n_events)
    np.testing.assert_array_equal(back.n_events, (rolls > 0).sum(axis=(1, 2)))
    assert back.events.shape[1] == units.n_events.max()
    np.testing.assert_array_equal(rolls_of(back), rolls)
    # every real event is (pitch, tick) of an onset cell; the rest is padding
    unit, slot = np.nonzero(np.arange(back.events.shape[1]) < back.n_events[:, None])
    pitch, tick = back.events[unit, slot].T
    assert (rolls[unit, pitch - 36, tick] == 1).all()
    assert (
        back.events[np.arange(back.events.shape[1]) >= back.n_events[:, None]] == -1
    ).all()
    assert back.events.dtype == np.int16
    assert (back.piece == 0).all()
    np.testing.assert_array_equal(back.position, np.arange(len(units)))


def test_rolls_to_units_of_empty_rolls_and_other_shapes():
    empty = rolls_to_units(np.zeros((3, 24, 10)))
    assert empty.events.shape == (3, 1, 2)
    assert (empty.events == -1).all()
    assert empty.n_events.tolist() == [0, 0, 0]
    assert empty.meta == {"pitch_range": (0, 24), "n_ticks": 10}
    rolls = np.zeros((2, 24, 10))
    rolls[1, 5, 9] = 0.2
    rolls[1, 0, 0] = -1.0  # only cells above 0 are onsets
    units = rolls_to_units(rolls, pitch_low=48)
    assert units.events[1].tolist() == [[53, 9]]
    assert units.n_events.tolist() == [0, 1]


def test_unit_content_ids():
    units = make_units(n_pieces=1, units_per_piece=4)
    picked = units[[2, 0, 2, 1, 0, 3]]
    ids = unit_content_ids(picked)
    assert ids.dtype == np.int64
    assert ids[0] == ids[2] and ids[1] == ids[4]
    assert len(set(ids.tolist())) == 4
    assert sorted(set(ids.tolist())) == [0, 1, 2, 3]
    # piece, position, variant and labels are not contents; n_events is
    moved = Units(
        picked.events,
        n_events=picked.n_events,
        piece=np.arange(6),
        position=np.arange(6)[::-1],
        variant=np.arange(6),
        labels=list("uvwxyz"),
        kind="beats",
    )
    np.testing.assert_array_equal(unit_content_ids(moved), ids)
    same_events = Units(np.zeros((2, 3, 2), dtype=np.int16), n_events=[3, 2])
    assert len(set(unit_content_ids(same_events).tolist())) == 2
    with pytest.raises(TypeError, match="needs Units"):
        unit_content_ids(picked.events)


# ------------------------------------------------------ pipelines and search
def test_works_in_a_pipeline_with_logistic_regression(model):
    units = make_units(n_pieces=4)
    pipe = Pipeline([("emb", model.make()), ("clf", LogisticRegression(max_iter=200))])
    pipe.fit(units, units.labels)
    predicted = pipe.predict(units)
    assert predicted.shape == (len(units),)
    assert set(predicted) <= {"a", "b", "c"}
    proba = pipe.predict_proba(units)
    assert proba.shape == (len(units), 3)
    np.testing.assert_allclose(proba.sum(1), 1.0, rtol=1e-6)


def test_grid_search_over_corruption_with_piece_groups():
    units = make_units(n_pieces=4)
    pipe = Pipeline(
        [
            ("emb", DenoisingRollEmbedder(**LIGHT)),
            ("clf", LogisticRegression(max_iter=200)),
        ]
    )
    search = GridSearchCV(
        pipe,
        {"emb__corruption": ["note_drop", "beat_drop", "octave_split"]},
        cv=GroupKFold(n_splits=2),
        error_score="raise",
    )
    search.fit(units, units.labels, groups=units.piece)
    scores = search.cv_results_["mean_test_score"]
    assert scores.shape == (3,) and np.isfinite(scores).all()
    chosen = search.best_params_["emb__corruption"]
    assert search.best_estimator_["emb"].corruption == chosen
    # the refitted embedder trained on all units
    assert search.best_estimator_["emb"].n_items_ == len(units)


def test_grid_search_over_target_on_rolls_with_kfold():
    units = one_piece(24)
    rolls = rolls_of(units)
    y = np.array(["a", "b"])[np.arange(24) // 12]
    pipe = Pipeline(
        [
            ("emb", ContextRollEmbedder(**LIGHT)),
            ("clf", LogisticRegression(max_iter=200)),
        ]
    )
    search = GridSearchCV(
        pipe,
        {"emb__target": ["context", "next"]},
        cv=KFold(n_splits=2, shuffle=True, random_state=0),
        error_score="raise",
    )
    search.fit(rolls, y)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    best = search.best_estimator_["emb"]
    assert best.target == search.best_params_["emb__target"]
    # a plain array is one piece in row order: 22 triples or 23 pairs
    assert best.n_items_ == {"context": 22, "next": 23}[best.target]


def test_grid_search_over_composer_weight():
    units = make_units(n_pieces=4)
    search = GridSearchCV(
        Pipeline(
            [
                ("emb", RegularizedRollEmbedder(**LIGHT)),
                ("clf", LogisticRegression(max_iter=200)),
            ]
        ),
        {"emb__composer_weight": [0.0, 1.0]},
        cv=GroupKFold(n_splits=2),
        error_score="raise",
    )
    search.fit(units, units.labels, groups=units.piece)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()


# ---------------------------------------------------------------- learning
def pattern_rolls(n_patterns=8, n_units=48, seed=0) -> np.ndarray:
    """Units that repeat a few random patterns, each with one extra onset."""
    rng = np.random.default_rng(seed)
    patterns = rng.random((n_patterns, 60, 96)) < 0.03
    rolls = patterns[rng.integers(0, n_patterns, n_units)]
    rolls[
        np.arange(n_units), rng.integers(0, 60, n_units), rng.integers(0, 96, n_units)
    ] = True
    return rolls.astype(np.float32)


def test_denoising_autoencoder_learns_a_toy_problem():
    rolls = pattern_rolls()
    params = {
        **LIGHT,
        "max_epochs": 30,
        "lr": 3e-3,
        "module__channels": (4, 4, 4, 4),
        "module__hidden_dims": (16,),
    }
    dae = DenoisingRollEmbedder(**params).fit(rolls)
    assert dae.n_items_ == 48
    accuracy = np.asarray(dae.history_[:, "train_reconstruction_accuracy"])
    trained = accuracy[-5:].mean()
    # the untrained network (lr=0) is the baseline: tied weights already put the
    # reconstruction of x nearer x than chance (1/5) would
    frozen = DenoisingRollEmbedder(**{**params, "lr": 0.0, "max_epochs": 5}).fit(rolls)
    baseline = np.mean(frozen.history_[:, "train_reconstruction_accuracy"])
    assert trained > 0.2 + 0.4, accuracy  # chance is 1/5 (1 target, 4 negatives)
    assert trained > baseline + 0.15, (trained, baseline)
    losses = dae.history_[:, "train_loss"]
    assert np.mean(losses[-5:]) < np.mean(losses[:3])


# ---------------------------------------------------------------- real music
def test_context_model_on_music21_corpus(tmp_path):
    corpus = load_music21_corpus(
        composers=("bach",), max_pieces_per_composer=2, cache_dir=tmp_path
    )
    units = segment_beats(
        corpus.pieces, labels=corpus.labels, piece_ids=corpus.piece_ids
    )
    assert units.kind == "beats" and len(units) > 10
    augmented = Transposer(shifts=(0, 5)).fit_transform(units)
    assert len(augmented) == 2 * len(units)
    emb = ContextRollEmbedder(**{**LIGHT, "max_epochs": 1})
    emb.fit(augmented)
    # items never span two pieces or two keys
    assert emb.n_items_ + emb.n_duplicate_items_ == n_items_expected(augmented, 2)
    assert emb.n_items_ + emb.n_duplicate_items_ == 2 * n_items_expected(units, 2)
    assert len(emb.history_) == 1
    Z = emb.transform(units)
    assert Z.shape == (len(units), 8)
    assert np.isfinite(Z).all()


def test_denoising_model_on_piano_midi(tmp_path):
    if not (PIANO_MIDI_ROOT / "metadata.csv").is_file():
        pytest.skip(
            f"piano-midi corpus not found at {PIANO_MIDI_ROOT}: this integration "
            "test needs ../shared/data/piano-midi next to the repository"
        )
    with open(PIANO_MIDI_ROOT / "metadata.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    # a few pieces: the first of three composers
    wanted, picked = ["Bach", "Chopin", "Mozart"], []
    for composer in wanted:
        picked += [r for r in rows if r["composer"] == composer][:1]
    metadata = tmp_path / "few.csv"
    with open(metadata, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(picked)
    corpus = load_midi_corpus(PIANO_MIDI_ROOT, metadata=metadata)
    assert len(corpus.pieces) == len(picked) == 3
    units = segment_beats(
        corpus.pieces, labels=corpus.labels, piece_ids=corpus.piece_ids
    )
    assert set(units.labels) == set(wanted)
    emb = DenoisingRollEmbedder(**{**LIGHT, "max_epochs": 1}).fit(units)
    assert 0 < emb.n_items_ <= len(units)
    assert emb.n_items_ + emb.n_duplicate_items_ == len(units)
    assert np.isfinite(emb.history_[-1, "train_loss"])
    Z = emb.transform(units)
    assert Z.shape == (len(units), 8)
    assert np.isfinite(Z).all()
