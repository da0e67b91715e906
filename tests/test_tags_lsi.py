"""LSITagTransformer and tag_relatedness (Schindler & Knees 2019, III-B)."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.estimator_checks import (
    check_get_params_invariance,
    check_no_attributes_set_in_init,
    check_parameters_default_constructible,
    check_set_params,
)

pytest.importorskip("gensim", reason="LSI needs gensim (pip install '.[tags]')")

from sklearn_musemb.tags import LSITagTransformer, tag_relatedness  # noqa: E402

#: Two clear topics: rock tracks and calm piano tracks.
TRACKS = [
    ["rock", "guitar", "loud"],
    ["rock", "guitar"],
    ["rock", "loud", "drums"],
    ["piano", "calm", "classical"],
    ["piano", "calm"],
    ["classical", "calm", "strings"],
]


def test_related_tracks_are_related_and_unrelated_are_not():
    Z = LSITagTransformer(n_topics=2, random_state=0).fit_transform(TRACKS)
    R = tag_relatedness(Z)
    rock, calm = [0, 1, 2], [3, 4, 5]
    assert R[np.ix_(rock, rock)].min() >= 0.8
    assert R[np.ix_(calm, calm)].min() >= 0.8
    assert np.abs(R[np.ix_(rock, calm)]).max() < 0.2
    np.testing.assert_allclose(np.diag(R), 1.0)


def test_output_width_is_n_topics_even_above_the_matrix_rank():
    Z = LSITagTransformer(n_topics=50, random_state=0).fit_transform(TRACKS)
    assert Z.shape == (6, 50)
    assert np.all(Z[:, 10:] == 0)  # 10 distinct tags: at most 10 topics


def test_unknown_tags_are_ignored_and_tagless_tracks_are_zero():
    lsi = LSITagTransformer(n_topics=2, random_state=0).fit(TRACKS)
    Z = lsi.transform([["rock", "never-seen"], ["never-seen"], []])
    np.testing.assert_allclose(Z[0], lsi.transform([["rock"]])[0])
    assert not Z[1].any() and not Z[2].any()
    assert tag_relatedness(Z)[1, 0] == 0


def test_seeded_fits_are_repeatable_and_tfidf_changes_the_vectors():
    a = LSITagTransformer(n_topics=3, random_state=0).fit_transform(TRACKS)
    b = LSITagTransformer(n_topics=3, random_state=0).fit_transform(TRACKS)
    np.testing.assert_array_equal(a, b)
    c = LSITagTransformer(n_topics=3, tfidf=True, random_state=0).fit_transform(TRACKS)
    assert not np.allclose(np.abs(a), np.abs(c))


def test_tag_sets_combine_with_column_prefixes():
    pd = pytest.importorskip("pandas")
    table = pd.DataFrame(
        {"genre": [["rock"], ["rock"], ["jazz"]], "mood": [["rock"], ["calm"], None]}
    )
    lsi = LSITagTransformer(n_topics=2, random_state=0).fit(table)
    assert sorted(lsi.dictionary_.token2id) == [
        "genre:jazz",
        "genre:rock",
        "mood:calm",
        "mood:rock",
    ]
    assert lsi.transform(table).shape == (3, 2)


def test_duplicate_tags_count_once():
    lsi = LSITagTransformer(n_topics=2, random_state=0).fit(TRACKS)
    np.testing.assert_allclose(
        lsi.transform([["rock", "rock", "guitar"]]), lsi.transform([["rock", "guitar"]])
    )


def test_pickle_clone_and_feature_names():
    lsi = LSITagTransformer(n_topics=2, random_state=0).fit(TRACKS)
    again = pickle.loads(pickle.dumps(lsi))
    np.testing.assert_array_equal(again.transform(TRACKS), lsi.transform(TRACKS))
    assert clone(lsi).get_params() == lsi.get_params()
    assert list(lsi.get_feature_names_out()) == ["lsi0", "lsi1"]


@pytest.mark.parametrize(
    "X, match",
    [
        ("rock", "sequence of tag lists"),
        (["rock", "pop"], "single value"),
        ([], "0 tracks"),
        ([[], []], "no tags at all"),
    ],
)
def test_bad_tag_input_is_named(X, match):
    with pytest.raises(ValueError, match=match):
        LSITagTransformer(n_topics=2).fit(X)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"n_topics": 0}, "n_topics"),
        ({"tfidf": "yes"}, "tfidf"),
        ({"random_state": np.random.RandomState(0)}, "random_state"),
    ],
)
def test_bad_params_are_named_at_fit(params, match):
    with pytest.raises(ValueError, match=match):
        LSITagTransformer(**params).fit(TRACKS)


def test_transform_before_fit_raises():
    with pytest.raises(NotFittedError):
        LSITagTransformer().transform(TRACKS)


def test_tag_relatedness_checks_and_shapes():
    A = np.array([[1.0, 0.0], [0.0, 2.0]])
    assert tag_relatedness(A, A[:1]).shape == (2, 1)
    np.testing.assert_allclose(tag_relatedness(A), np.eye(2))
    with pytest.raises(ValueError, match="one width"):
        tag_relatedness(A, np.ones((2, 3)))
    with pytest.raises(ValueError, match="NaN"):
        tag_relatedness(np.array([[np.nan, 1.0]]))


@pytest.mark.parametrize(
    "check",
    [
        check_no_attributes_set_in_init,
        check_parameters_default_constructible,
        check_get_params_invariance,
        check_set_params,
    ],
)
def test_sklearn_api_checks_that_need_no_arrays(check):
    # sklearn runs only check_estimator_cloneable on estimators whose input is not
    # an array (two_d_array=False); these API checks take no data.
    check("LSITagTransformer", LSITagTransformer())
