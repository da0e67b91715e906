"""NT-Xent, the contrastive embedder, and performance augmentation of every embedder.

tests/test_embedder_contract.py checks what every embedder shares (it picks
ContrastiveEmbedder up through discovery); here: the loss against a hand
computation, the options of ContrastiveEmbedder, and ``augment``/``chord_ms``/
``representation="relative"`` on the Bretan & Heck embedders.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from sklearn.base import clone

from sklearn_musemb.embedders import (
    AAdjDEmbedder,
    AAEEmbedder,
    AdjDEmbedder,
    ADSSMEmbedder,
    ContrastiveEmbedder,
    DSSMEmbedder,
    VAEEmbedder,
)
from sklearn_musemb.nn import ContrastiveNet
from sklearn_musemb.nn.losses import NTXentLoss, nt_xent_loss
from sklearn_musemb.units import PerformanceModel, Units

LIGHT = {
    "max_epochs": 1,
    "batch_size": 16,
    "random_state": 0,
    "embedding_dim": 8,
    "module__hidden_dim": 16,
    "module__event_channels": 4,
    "module__n_layers": 3,
}
#: The Bretan & Heck embedders that take ``augment`` (every UnitEmbedder does).
AUGMENTABLE = [AdjDEmbedder, DSSMEmbedder, VAEEmbedder, AAEEmbedder]
NOTE_EMBEDDERS = [*AUGMENTABLE, AAdjDEmbedder, ADSSMEmbedder, ContrastiveEmbedder]
#: Strong enough that a one-epoch fit sees it.
AUGMENT = PerformanceModel(
    tempo=(0.7, 1.4), jitter=0.2, asynchrony_ms=30, deletion_rate=0.1,
    insertion_rate=0.1, octave_doubling=0.1,
)  # fmt: skip


def make_units(n_pieces=3, units_per_piece=12, n_events=8, seed=0) -> Units:
    """Random note units on a 125 ms grid (chords where the interval is 0)."""
    rng = np.random.default_rng(seed)
    n = n_pieces * units_per_piece
    events = np.stack(
        [
            rng.integers(40, 90, (n, n_events)),
            rng.choice([0, 125, 250, 500], (n, n_events)),
        ],
        axis=-1,
    ).astype(np.int16)
    return Units(
        events,
        piece=np.repeat(np.arange(n_pieces), units_per_piece),
        position=np.tile(np.arange(units_per_piece), n_pieces),
    )


@pytest.fixture(scope="module")
def units() -> Units:
    return make_units()


def light(cls, **params):
    return cls(**{**LIGHT, **params})


def check_embeddings(Z, units, dim=LIGHT["embedding_dim"]) -> None:
    assert Z.dtype == np.float32
    assert Z.shape == (len(units), dim)
    assert np.isfinite(Z).all()


# -- NT-Xent ---------------------------------------------------------------------------
def nt_xent_by_hand(first, second, temperature):
    """NT-Xent written out with loops: SimCLR's equation, view by view."""
    views = [np.asarray(v, dtype=float) for v in (*first, *second)]
    n = len(first)
    total = 0.0
    for i, zi in enumerate(views):
        partner = i + n if i < n else i - n
        denominator = 0.0
        for k, zk in enumerate(views):
            if k == i:
                continue
            cos = zi @ zk / (np.linalg.norm(zi) * np.linalg.norm(zk))
            denominator += math.exp(cos / temperature)
            if k == partner:
                numerator = math.exp(cos / temperature)
        total += -math.log(numerator / denominator)
    return total / (2 * n)


def test_nt_xent_matches_a_hand_computation():
    first = np.array([[1.0, 0.0], [0.6, 0.8], [-1.0, 2.0]])
    second = np.array([[0.9, 0.3], [0.0, 1.0], [-0.5, 0.4]])
    expected = nt_xent_by_hand(first, second, 0.5)
    got = nt_xent_loss(torch.tensor(first), torch.tensor(second), temperature=0.5)
    assert got.item() == pytest.approx(expected, rel=1e-5)
    module = NTXentLoss(temperature=0.5)
    assert module(torch.tensor(first), torch.tensor(second)).item() == pytest.approx(
        expected, rel=1e-5
    )
    # the docstring's value
    assert nt_xent_loss(torch.eye(2), torch.eye(2), 1.0).item() == pytest.approx(
        nt_xent_by_hand(np.eye(2), np.eye(2), 1.0), abs=1e-6
    )


@pytest.mark.parametrize("temperature", [0.05, 0.1, 1.0, 3.0])
def test_nt_xent_random_batches_and_symmetry(temperature):
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(2, 6, 4))
    expected = nt_xent_by_hand(a, b, temperature)
    ta, tb = torch.tensor(a), torch.tensor(b)
    assert nt_xent_loss(ta, tb, temperature).item() == pytest.approx(expected, rel=1e-4)
    assert nt_xent_loss(tb, ta, temperature).item() == pytest.approx(
        nt_xent_loss(ta, tb, temperature).item(), rel=1e-6
    )
    # the scale of a projection does not matter (cosine similarity)
    assert nt_xent_loss(3 * ta, tb, temperature).item() == pytest.approx(
        expected, rel=1e-4
    )


def test_nt_xent_is_lower_for_matching_positives():
    rng = np.random.default_rng(1)
    z = torch.tensor(rng.normal(size=(16, 8)), dtype=torch.float32)
    matched = nt_xent_loss(z, z, 0.1)
    shuffled = nt_xent_loss(
        z, z[torch.randperm(16, generator=torch.Generator().manual_seed(0))], 0.1
    )
    assert matched < shuffled
    # gradients flow to both views
    a = z.clone().requires_grad_(True)
    b = z.flip(0).clone().requires_grad_(True)
    nt_xent_loss(a, b, 0.1).backward()
    assert a.grad.abs().sum() > 0 and b.grad.abs().sum() > 0


def test_contrastive_net_embeds_and_projects():
    net = ContrastiveNet(event_dim=98, n_events=8, hidden_dim=16, n_layers=3)
    x = torch.zeros(3, 8, 98)
    assert net.embed(x).shape == (3, 32)
    assert net(x).shape == (3, 64)
    torch.testing.assert_close(net.projector(net.embed(x)), net(x))


# -- ContrastiveEmbedder ---------------------------------------------------------------
def test_defaults():
    emb = ContrastiveEmbedder()
    assert emb.representation == "relative"
    assert emb.chord_ms == 35.0
    assert emb.augment == "typical"
    assert emb.positives == "both"
    assert emb.temperature == 0.1


@pytest.mark.parametrize("positives", ["adjacent", "perturbed", "both"])
def test_fit_transform_for_each_kind_of_positive(units, positives):
    emb = light(ContrastiveEmbedder, positives=positives)
    Z = emb.fit(units).transform(units)
    check_embeddings(Z, units)
    accuracy = emb.history_[-1, "train_positive_accuracy"]
    assert 0.0 <= accuracy <= 1.0
    assert math.isfinite(emb.history_[-1, "train_loss"])
    # the embedding is the encoder's output, not the projection head's
    assert Z.shape[1] == emb.embedding_dim != emb.module_.projector[-1].out_features


def test_adjacent_positives_need_no_augmentation(units):
    emb = light(ContrastiveEmbedder, positives="adjacent", augment=None)
    check_embeddings(emb.fit_transform(units), units)


@pytest.mark.parametrize("positives", ["perturbed", "both"])
def test_perturbed_positives_without_augment_are_refused(units, positives):
    emb = light(ContrastiveEmbedder, positives=positives, augment=None)
    with pytest.raises(ValueError, match="positives.*augment"):
        emb.fit(units)


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"temperature": 0}, "temperature"),
        ({"temperature": -0.1}, "temperature"),
        ({"temperature": float("nan")}, "temperature"),
        ({"temperature": "0.1"}, "temperature"),
        ({"positives": "neighbours"}, "positives"),
        ({"positives": None}, "positives"),
        ({"augment": "heavy"}, "augment"),
        ({"augment": 0.1}, "augment"),
        ({"augment": {"tempo": 1.2}}, "augment"),
        ({"augment": PerformanceModel(rubato=-1)}, "rubato"),
        ({"augment": PerformanceModel(tempo=(1.2, 0.9))}, "tempo"),
        ({"chord_ms": -1}, "chord_ms"),
        ({"chord_ms": float("nan")}, "chord_ms"),
        ({"representation": "absolute"}, "representation"),
    ],
)
def test_bad_parameters_are_named(units, params, name):
    with pytest.raises(ValueError, match=name):
        light(ContrastiveEmbedder, **params).fit(units)


def test_random_state_gives_identical_embeddings(units):
    Z1 = light(ContrastiveEmbedder).fit(units).transform(units)
    Z2 = light(ContrastiveEmbedder).fit(units).transform(units)
    np.testing.assert_array_equal(Z1, Z2)
    Z3 = light(ContrastiveEmbedder, random_state=1).fit(units)
    assert not np.allclose(Z3.transform(units), Z1)


def test_transform_is_deterministic_and_never_augments(units):
    emb = light(ContrastiveEmbedder, augment=AUGMENT).fit(units)
    Z = emb.transform(units)
    np.testing.assert_array_equal(emb.transform(units), Z)
    # switching augmentation off after fit changes nothing at transform
    emb.set_params(augment=None, positives="adjacent")
    np.testing.assert_array_equal(emb.transform(units), Z)
    # no training state is left behind
    assert not {"_strengths", "_successor_on_device", "_hop"} & set(vars(emb))
    assert not emb.module_.training


def test_contrastive_units_alone_in_their_pieces_with_heavy_deletions():
    units = make_units(n_pieces=40, units_per_piece=1, n_events=4)
    heavy = PerformanceModel(deletion_rate=0.25, tempo=(0.8, 1.2))
    emb = light(ContrastiveEmbedder, positives="perturbed", augment=heavy)
    check_embeddings(emb.fit_transform(units), units)
    # without neighbours, adjacent positives cannot work and say what to do
    with pytest.raises(ValueError, match="perturbed"):
        light(ContrastiveEmbedder, positives="adjacent").fit(units)


def test_a_batch_of_one_is_not_a_contrastive_step():
    # 17 units, batch 16: the single leftover unit has no negative
    units = make_units(n_pieces=1, units_per_piece=17)
    emb = light(ContrastiveEmbedder, positives="perturbed")
    check_embeddings(emb.fit_transform(units), units)
    assert math.isfinite(emb.history_[-1, "train_loss"])


# -- augment, chord_ms and relative on every note embedder -----------------------------
@pytest.mark.parametrize("cls", AUGMENTABLE, ids=lambda c: c.__name__)
def test_augment_trains_every_embedder_and_changes_it(units, cls):
    plain = light(cls).fit(units)
    augmented = light(cls, augment=AUGMENT).fit(units)
    Z = augmented.transform(units)
    check_embeddings(Z, units)
    assert math.isfinite(augmented.history_[-1, "train_loss"])
    assert not np.allclose(Z, plain.transform(units))
    # reproducible with augmentation too
    again = light(cls, augment=AUGMENT).fit(units).transform(units)
    np.testing.assert_array_equal(again, Z)
    # the performance model is a parameter: cloned, not shared or modified
    params = AUGMENT.get_params()
    assert clone(augmented).augment is not AUGMENT
    assert AUGMENT.get_params() == params


@pytest.mark.parametrize("cls", AUGMENTABLE, ids=lambda c: c.__name__)
def test_identity_augmentation_is_no_augmentation(units, cls):
    plain = light(cls).fit(units).transform(units)
    identity = light(cls, augment=PerformanceModel()).fit(units).transform(units)
    np.testing.assert_array_equal(identity, plain)


@pytest.mark.parametrize("cls", AUGMENTABLE, ids=lambda c: c.__name__)
def test_bad_augment_and_chord_ms_are_named(units, cls):
    with pytest.raises(ValueError, match="augment"):
        light(cls, augment="typical").fit(units)
    with pytest.raises(ValueError, match="deletion_rate"):
        light(cls, augment=PerformanceModel(deletion_rate=0.5)).fit(units)
    with pytest.raises(ValueError, match="chord_ms"):
        light(cls, chord_ms=-5).fit(units)


@pytest.mark.parametrize("cls", NOTE_EMBEDDERS, ids=lambda c: c.__name__)
def test_relative_representation_in_every_note_embedder(units, cls):
    emb = light(cls, representation="relative", chord_ms=35)
    Z = emb.fit(units).transform(units)
    check_embeddings(Z, units)
    assert math.isfinite(emb.history_[-1, "train_loss"])


@pytest.mark.parametrize("cls", [AdjDEmbedder, VAEEmbedder], ids=lambda c: c.__name__)
def test_chord_ms_groups_spread_chords_before_encoding(units, cls):
    emb = light(cls, representation="relative", chord_ms=35).fit(units)
    quantised = emb.transform(units)
    # every chord spread by up to 20 ms, the highest note first
    spread = PerformanceModel(asynchrony_ms=20, random_state=0).perform_units(units)
    rows = spread.meta["source_rows"]
    assert (spread.events != units.events[rows]).any()
    grouped = np.linalg.norm(emb.transform(spread) - quantised[rows], axis=1)
    # chord_ms is applied at transform: without it the spread chords stay spread
    emb.set_params(chord_ms=0)
    ungrouped = np.linalg.norm(
        emb.transform(spread) - emb.transform(units)[rows], axis=1
    )
    assert np.median(grouped) < 0.2 * np.median(ungrouped)


def test_units_alone_in_their_pieces_train_an_autoencoder_with_heavy_deletions():
    units = make_units(n_pieces=40, units_per_piece=1, n_events=4)
    heavy = PerformanceModel(deletion_rate=0.25, insertion_rate=0.25)
    for representation in ("two_hot", "relative"):
        emb = light(VAEEmbedder, augment=heavy, representation=representation)
        check_embeddings(emb.fit_transform(units), units)


def test_augmented_models_round_trip_through_save_model(units, tmp_path):
    from sklearn_musemb.persistence import load_model, save_model

    for emb in (
        light(AdjDEmbedder, augment=AUGMENT, chord_ms=35, representation="relative"),
        light(ContrastiveEmbedder, augment=PerformanceModel(tempo=(0.8, 1.2))),
    ):
        emb.fit(units)
        loaded = load_model(save_model(emb, tmp_path / f"{type(emb).__name__}.musemb"))
        assert loaded.augment.get_params() == emb.augment.get_params()
        assert loaded.chord_ms == emb.chord_ms
        np.testing.assert_array_equal(loaded.transform(units), emb.transform(units))


def test_nested_augment_parameters_can_be_set(units):
    emb = light(AdjDEmbedder, augment=PerformanceModel(tempo=1.2))
    assert "augment__rubato" in emb.get_params(deep=True)
    emb.set_params(augment__rubato=0.2)
    assert emb.augment.rubato == 0.2
    emb.fit(units)
