"""TagTripletEmbedder and ConditionalSimilarityEmbedder on feature maps they can learn.

The maps are made so that the labels are visible in them: each class of a dimension
adds its own pattern to its own band of bins, under noise. A trained embedding must
then place items of the same class closer than an untrained one does.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.pipeline import make_pipeline

from sklearn_musemb.embedders import ConditionalSimilarityEmbedder, TagTripletEmbedder
from sklearn_musemb.metrics import precision_at_k, triplet_score
from sklearn_musemb.metrics.similarity_rules import code_labels, similar

N_BINS, N_FRAMES = 12, 16


def labelled_maps(n=96, seed=0, noise=0.6):
    """Maps whose bins 0-5 show the instrument and bins 6-11 the tempo class."""
    rng = np.random.default_rng(seed)
    instrument = rng.integers(0, 3, size=n)
    tempo_class = rng.integers(0, 3, size=n)
    patterns = rng.normal(size=(2, 3, 6, N_FRAMES))
    X = noise * rng.normal(size=(n, N_BINS, N_FRAMES))
    X[:, :6] += patterns[0, instrument]
    X[:, 6:] += patterns[1, tempo_class]
    # tempo 60 and 120 bpm are one tempo octave apart: classes 0 and 1 are similar
    tempo = np.array([60.0, 120.0, 87.0])[tempo_class] + rng.uniform(-2, 2, size=n)
    y = pd.DataFrame(
        {
            "instrument": np.array(["piano", "organ", "strings"])[instrument],
            "tempo": tempo,
        }
    )
    return X.astype(np.float32), y


def same_class_precision(embeddings, labels, k=5):
    return precision_at_k(embeddings, labels, k=k)


# -- TagTripletEmbedder ---------------------------------------------------------------
def tag_embedder(**params):
    defaults = dict(
        embedding_dim=8,
        module__channels=(4, 8),
        max_epochs=25,
        batch_size=48,
        lr=3e-3,
        random_state=0,
    )
    return TagTripletEmbedder(**{**defaults, **params})


def test_tag_triplets_pull_items_with_related_tags_together():
    X, y = labelled_maps()
    tags = [[f"instrument:{i}"] for i in y["instrument"]]
    untrained = tag_embedder(max_epochs=0).fit(X, tags).transform(X)
    model = tag_embedder().fit(X, tags)
    before = same_class_precision(untrained, y["instrument"])
    after = same_class_precision(model.transform(X), y["instrument"])
    assert after > before + 0.15, (before, after)
    assert model.history_[-1, "train_triplet_fraction"] > 0.9
    assert model.tag_model_.n_tags_ == 3


def test_tag_triplets_accept_precomputed_tag_vectors():
    X, y = labelled_maps(n=32)
    onehot = pd.get_dummies(y["instrument"]).to_numpy(dtype=float)
    model = tag_embedder(max_epochs=1).fit(X, onehot)
    assert model.tag_model_ is None
    assert model.transform(X).shape == (32, 8)


def test_tag_triplets_never_pair_items_of_one_album():
    X, y = labelled_maps(n=48)
    tags = [[i] for i in y["instrument"]]
    # every album holds exactly one instrument: no positive pair is left
    model = tag_embedder(max_epochs=1).fit(X, tags, groups=y["instrument"])
    assert model.history_[-1, "train_triplet_fraction"] == 0.0
    assert model.history_[-1, "train_loss"] == 0.0
    other = tag_embedder(max_epochs=1).fit(X, tags, groups=np.arange(48))
    assert other.history_[-1, "train_triplet_fraction"] > 0.0


def test_tag_triplet_thresholds_decide_the_pairs():
    X, y = labelled_maps(n=48)
    tags = [[i] for i in y["instrument"]]
    # no pair of different single-tag tracks reaches a cosine of 0.5: no negatives
    model = tag_embedder(max_epochs=1, negative_threshold=-0.5, positive_threshold=0.5)
    assert model.fit(X, tags).history_[-1, "train_triplet_fraction"] == 0.0


def test_tag_embeddings_are_unit_length_unless_asked_otherwise():
    X, y = labelled_maps(n=24)
    tags = [[i] for i in y["instrument"]]
    Z = tag_embedder(max_epochs=1).fit(X, tags).transform(X)
    np.testing.assert_allclose(np.linalg.norm(Z, axis=1), 1.0, rtol=1e-5)
    Z = tag_embedder(max_epochs=1, normalize=False).fit(X, tags).transform(X)
    assert not np.allclose(np.linalg.norm(Z, axis=1), 1.0)


@pytest.mark.parametrize(
    "params, match",
    [
        (
            {"positive_threshold": 0.1, "negative_threshold": 0.5},
            "negative_threshold <=",
        ),
        ({"margin": -1.0}, "margin must be a finite number >= 0"),
        ({"normalize": "yes"}, "normalize must be True or False"),
    ],
)
def test_tag_triplet_bad_parameters(params, match):
    X, y = labelled_maps(n=8)
    with pytest.raises(ValueError, match=match):
        tag_embedder(**params).fit(X, y["instrument"])


def test_tag_triplet_bad_targets():
    X, y = labelled_maps(n=8)
    with pytest.raises(ValueError, match="requires y"):
        tag_embedder().fit(X)
    with pytest.raises(ValueError, match="X has 8 items but y has 7"):
        tag_embedder().fit(X, y["instrument"][:7])
    with pytest.raises(ValueError, match="groups has 3"):
        tag_embedder().fit(X, y["instrument"], groups=[1, 2, 3])
    with pytest.raises(ValueError, match="NaN or infinity"):
        tag_embedder().fit(X, np.full((8, 2), np.nan))


# -- ConditionalSimilarityEmbedder ----------------------------------------------------
def csn(**params):
    defaults = dict(
        rules={"tempo": "tempo"},
        embedding_dim=16,
        module__width=4,
        module__n_blocks=1,
        max_epochs=30,
        batch_size=48,
        lr=3e-3,
        random_state=0,
    )
    return ConditionalSimilarityEmbedder(**{**defaults, **params})


def dimension_triplets(y, column, rule, n=400, seed=0):
    """Random (anchor, similar, dissimilar) triplets of one dimension."""
    codes = code_labels(y[column], rule)
    same = similar(codes[:, None], codes[None, :], rule)
    rng = np.random.default_rng(seed)
    out = []
    while len(out) < n:
        a = rng.integers(len(codes))
        pos = np.flatnonzero(same[a] & (np.arange(len(codes)) != a))
        neg = np.flatnonzero(~same[a])
        if len(pos) and len(neg):
            out.append((a, rng.choice(pos), rng.choice(neg)))
    return np.array(out)


def test_each_subspace_learns_its_dimension():
    X, y = labelled_maps(n=144)
    model = csn().fit(X, y)
    Z = model.transform(X)
    scores = {}
    for dim, rule in [("instrument", "equal"), ("tempo", "tempo")]:
        t = dimension_triplets(y, dim, rule)
        sub = model.subspace(Z, [dim])
        scores[dim] = triplet_score(sub, t)
    assert scores["instrument"] > 0.8 and scores["tempo"] > 0.8, scores
    assert model.dimensions_ == ["instrument", "tempo"]
    assert model.rules_ == ["equal", "tempo"]


def test_fixed_subspaces_are_disjoint_blocks():
    X, y = labelled_maps(n=16)
    model = csn(max_epochs=1).fit(X, y)
    Z = model.transform(X)
    tempo = model.transform_subspace(X, ["tempo"])
    assert (tempo[:, :8] == 0).all()
    np.testing.assert_array_equal(tempo[:, 8:], Z[:, 8:])
    np.testing.assert_array_equal(model.subspace(Z, [0, "tempo"]), Z)
    with pytest.raises(ValueError, match="unknown dimension 'key'"):
        model.subspace(Z, ["key"])
    with pytest.raises(ValueError, match="at least one dimension"):
        model.subspace(Z, [])


def test_learned_masks_move_and_fixed_ones_do_not():
    X, y = labelled_maps(n=32)
    fixed = csn(max_epochs=2).fit(X, y)
    learned = csn(max_epochs=2, masks="learned").fit(X, y)
    start = 0.1 + 0.8 * fixed.masks_
    np.testing.assert_array_equal(fixed.masks_, np.repeat(np.eye(2), 8, axis=1))
    assert not np.allclose(learned.masks_, start)


def test_multi_input_network_splits_the_bins():
    X, y = labelled_maps(n=16)
    model = csn(
        max_epochs=1, inputs=(6, 6), module__branch_blocks=1, module__branch_size=8
    )
    model.fit(X, y)
    assert model.module_.backbone.inputs == [6, 6]
    with pytest.raises(ValueError, match="summing to the 12 bins"):
        clone(model).set_params(inputs=(6, 5)).fit(X, y)


def test_conditional_transform_ignores_row_order_and_batching():
    X, y = labelled_maps(n=24)
    model = csn(max_epochs=1, batch_size=7).fit(X, y)
    order = np.random.default_rng(0).permutation(24)
    np.testing.assert_allclose(
        model.transform(X)[order], model.transform(X[order]), atol=1e-5
    )


def test_fits_are_reproducible_and_work_in_a_pipeline():
    X, y = labelled_maps(n=24)
    a = csn(max_epochs=2).fit(X, y).transform(X)
    b = make_pipeline(csn(max_epochs=2)).fit(X, y).transform(X)
    np.testing.assert_array_equal(a, b)


def test_refit_with_other_dimensions_and_partial_fit_checks_them():
    X, y = labelled_maps(n=24)
    model = csn(max_epochs=1).fit(X, y)
    model.set_params(rules=None).fit(X, y[["instrument"]])  # a fresh fit
    assert model.dimensions_ == ["instrument"]
    with pytest.raises(ValueError, match="was fitted on \\['instrument'\\]"):
        model.partial_fit(X, y)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"rules": {"bpm": "tempo"}}, "dimensions \\['bpm'\\] that y does not have"),
        ({"rules": {"tempo": "fast"}}, "unknown similarity rule 'fast'"),
        ({"rules": ["equal"]}, "1 rules for the 2 dimensions"),
        ({"masks": "soft"}, "masks must be one of"),
        ({"margin": -0.1}, "margin must be a finite number >= 0"),
        ({"inputs": (6, "six")}, "inputs must be None or a sequence"),
    ],
)
def test_conditional_bad_parameters(params, match):
    X, y = labelled_maps(n=8)
    with pytest.raises(ValueError, match=match):
        csn(**params).fit(X, y)


def test_conditional_bad_inputs_name_the_culprit():
    X, y = labelled_maps(n=8)
    bad_tempo = y.assign(tempo=[np.nan] + [90.0] * 7)
    with pytest.raises(ValueError, match="tempi must be positive finite bpm"):
        csn().fit(X, bad_tempo)
    with pytest.raises(ValueError, match="requires y"):
        csn().fit(X)
    with pytest.raises(ValueError, match="at least 2 samples"):
        csn().fit(X[:1], y[:1])
    X_nan = X.copy()
    X_nan[3, 2, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        csn().fit(X_nan, y)
    model = csn(max_epochs=1).fit(X, y)
    with pytest.raises(ValueError, match="fitted on 12 x 16"):
        model.transform(X[:, :10])
    keys = y.assign(key=["C major", "c minor", "G major", "Db major"] * 2)
    keyed = csn(max_epochs=1, rules={"tempo": "tempo", "key": "key"}).fit(X, keys)
    assert keyed.rules_ == ["equal", "tempo", "key"]
    with pytest.raises(ValueError, match="row 1"):
        csn(rules={"key": "key"}).fit(X, keys.assign(key=["C major", "H dur"] * 4))
