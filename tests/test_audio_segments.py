"""Segmenting tracks, pooling segment embeddings, and TrackEmbedder."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.cross_decomposition import PLSRegression
from sklearn.decomposition import PCA
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils.estimator_checks import (
    check_get_params_invariance,
    check_no_attributes_set_in_init,
    check_parameters_default_constructible,
    check_set_params,
)

from sklearn_musemb.audio.segments import (
    TrackEmbedder,
    aggregate_segments,
    segment_audio,
)

SR = 100  # segmenting is sample arithmetic: a low rate keeps the arrays small


def ramp(seconds: float, start: float = 0.0, sr: int = SR) -> np.ndarray:
    """Each sample holds its own time in seconds, so boundaries are visible."""
    return (start + np.arange(round(seconds * sr)) / sr).astype(np.float32)


# -- segment_audio --------------------------------------------------------------------


def test_segments_are_non_overlapping_and_drop_the_tail():
    tracks = [ramp(7.5), ramp(3.0, start=100.0), ramp(6.0, start=200.0)]
    segments, index = segment_audio(tracks, sr=SR, segment_s=3.0)
    assert segments.shape == (5, 300) and segments.dtype == np.float32
    assert index.tolist() == [0, 0, 1, 2, 2] and index.dtype == np.int64
    starts = segments[:, 0].round(2).tolist()
    assert starts == [0.0, 3.0, 100.0, 200.0, 203.0]
    np.testing.assert_array_equal(segments[1], tracks[0][300:600])
    np.testing.assert_array_equal(segments[4], tracks[2][300:600])


def test_offset_and_max_segments():
    tracks = [ramp(20.0), ramp(7.0, start=50.0)]
    segments, index = segment_audio(
        tracks, sr=SR, segment_s=2.0, offset_s=3.0, max_segments=3
    )
    assert index.tolist() == [0, 0, 0, 1, 1]
    assert segments[:, 0].round(2).tolist() == [3.0, 5.0, 7.0, 53.0, 55.0]


def test_paper_004_excerpt_is_six_seconds_from_a_three_second_offset():
    track = ramp(30.0, sr=22050)
    segments, index = segment_audio(
        [track], sr=22050, segment_s=6.0, offset_s=3.0, max_segments=1
    )
    assert segments.shape == (1, 6 * 22050) and index.tolist() == [0]
    np.testing.assert_array_equal(segments[0], track[3 * 22050 : 9 * 22050])


def test_a_2d_array_is_a_batch_of_tracks():
    segments, index = segment_audio(np.zeros((3, 700)), sr=SR, segment_s=2.0)
    assert index.tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2]


def test_files_are_read_and_resampled(tmp_path):
    sf = pytest.importorskip("soundfile")
    pytest.importorskip("librosa")
    t = np.arange(int(7.2 * 44100)) / 44100
    sf.write(tmp_path / "a.wav", 0.3 * np.sin(2 * np.pi * 440 * t), 44100)
    segments, index = segment_audio([tmp_path / "a.wav"], sr=22050, segment_s=3.0)
    assert segments.shape == (2, 66150) and index.tolist() == [0, 0]
    expected = 0.3 * np.sin(2 * np.pi * 440 * np.arange(66150) / 22050)
    np.testing.assert_allclose(segments[0][1000:-1000], expected[1000:-1000], atol=2e-3)
    # with max_segments only the first segments are read
    first, _ = segment_audio(
        [str(tmp_path / "a.wav")], sr=22050, segment_s=3.0, max_segments=1
    )
    np.testing.assert_allclose(first[0][:-1000], segments[0][:-1000], atol=1e-4)


def test_a_short_track_raises_naming_it():
    tracks = [ramp(7.0), ramp(2.9), ramp(4.0)]
    with pytest.raises(
        ValueError, match=r"track 1 lasts 2.900 s, shorter than .* 3.000"
    ):
        segment_audio(tracks, sr=SR)
    with pytest.raises(ValueError, match=r"track 1 lasts 4.000 s, .* = 4.500 s"):
        segment_audio([ramp(7.0), ramp(4.0)], sr=SR, offset_s=1.5)


def test_short_file_is_named_by_its_path(tmp_path):
    sf = pytest.importorskip("soundfile")
    pytest.importorskip("librosa")
    sf.write(tmp_path / "short.wav", np.zeros(1000), 22050)
    with pytest.raises(ValueError, match=r"track 0 \('.*short.wav'\) lasts 0.045 s"):
        segment_audio([tmp_path / "short.wav"], sr=22050)


def test_errors_skip_warns_and_leaves_the_track_out():
    tracks = [ramp(7.0), ramp(2.9), ramp(4.0)]
    with pytest.warns(UserWarning, match=r"skipped 1 track\(s\) .*: \[1\]"):
        segments, index = segment_audio(tracks, sr=SR, errors="skip")
    assert index.tolist() == [0, 0, 2]
    with pytest.raises(ValueError, match="no track lasts"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            segment_audio([ramp(1.0)], sr=SR, errors="skip")


@pytest.mark.parametrize(
    ("tracks", "kwargs", "message"),
    [
        ("song.wav", {}, "single path 'song.wav'"),
        (np.zeros(1000), {}, r"shape \(1000,\) \(for one track pass \[y\]\)"),
        ([], {}, "no tracks given"),
        (3, {}, "got int"),
        ([np.zeros(500), np.array([0.0, np.nan] * 300)], {}, r"track 1 holds NaN"),
        ([np.zeros((2, 600))], {}, "track 0 must be a 1-d mono waveform"),
        ([np.zeros(600, dtype=np.int16)], {}, "track 0 holds integers"),
        (["missing.wav"], {}, "track 0: load_audio: no such file: 'missing.wav'"),
        ([np.zeros(600)], {"segment_s": 0}, "segment_s must be a finite number > 0"),
        ([np.zeros(600)], {"segment_s": 0.001}, "segment_s=0.001 is under one sample"),
        ([np.zeros(600)], {"offset_s": -1.0}, "offset_s must be a finite number >= 0"),
        ([np.zeros(600)], {"max_segments": 0}, "max_segments must be a positive"),
        ([np.zeros(600)], {"sr": 0}, "sr must be a positive integer"),
        ([np.zeros(600)], {"errors": "ignore"}, "errors must be one of"),
    ],
)
def test_bad_segment_inputs_raise(tracks, kwargs, message):
    with pytest.raises(ValueError, match=message):
        segment_audio(tracks, **{"sr": SR, "segment_s": 3.0, **kwargs})


# -- aggregate_segments ---------------------------------------------------------------


def test_mean_equals_the_hand_computed_mean():
    rng = np.random.default_rng(0)
    index = np.array([2, 0, 2, 1, 0, 2])
    E = rng.normal(size=(6, 4, 3))
    pooled = aggregate_segments(E, index)
    assert pooled.shape == (3, 4, 3) and pooled.dtype == np.float64
    np.testing.assert_allclose(pooled[0], (E[1] + E[4]) / 2)
    np.testing.assert_allclose(pooled[1], E[3])
    np.testing.assert_allclose(pooled[2], (E[0] + E[2] + E[5]) / 3)
    maxed = aggregate_segments(E, index, how="max")
    np.testing.assert_allclose(maxed[2], np.maximum(np.maximum(E[0], E[2]), E[5]))


def test_float32_embeddings_stay_float32():
    E = np.ones((3, 2), dtype=np.float32)
    assert aggregate_segments(E, [0, 1, 1]).dtype == np.float32
    assert aggregate_segments(E.astype(int), [0, 1, 1]).dtype == np.float64


@pytest.mark.parametrize(
    ("embeddings", "index", "kwargs", "message"),
    [
        (np.ones((3, 2)), [0, 2, 2], {}, r"track\(s\) \[1\] have no segment"),
        (np.ones((3, 2)), [0, 0, 0], {"n_tracks": 2}, r"\[1\] have no segment"),
        (np.ones((3, 2)), [0, 1], {}, "got 2 for 3 segments"),
        (np.ones((3, 2)), [0, -1, 1], {}, "negative"),
        (np.ones((3, 2)), [0.0, 1.0, 1.0], {}, "1-d integer array"),
        (np.ones((3, 2)), [0, 1, 5], {"n_tracks": 3}, "holds 5 but n_tracks=3"),
        (np.ones((3, 2)), [0, 1, 1], {"how": "median"}, "how must be one of"),
        (np.array([[1.0], [np.nan], [2.0]]), [0, 1, 1], {}, "segment 1 holds NaN"),
        (np.array(["a", "b"]), [0, 1], {}, "numeric array"),
    ],
)
def test_bad_aggregation_inputs_raise(embeddings, index, kwargs, message):
    with pytest.raises(ValueError, match=message):
        aggregate_segments(embeddings, index, **kwargs)


# -- TrackEmbedder --------------------------------------------------------------------


class Recorder(TransformerMixin, BaseEstimator):
    """Keeps what fit saw; embeds a segment as its first four samples."""

    def fit(self, X, y=None):
        self.shape_ = X.shape
        self.y_ = None if y is None else np.asarray(y)
        return self

    def transform(self, X):
        return X[:, :4] * 2


def flatten(Z):
    return Z.reshape(len(Z), -1)


def mel_pca(n_components=2, sr=8000):
    """Log-mel, flattened, PCA: a cheap segment embedder (fitting needs librosa)."""
    from sklearn_musemb.audio.features import LogMelSpectrogram

    return make_pipeline(
        LogMelSpectrogram(sr=sr, n_mels=16),
        FunctionTransformer(flatten),
        PCA(n_components=n_components),
    )


def test_track_embedder_fits_on_segments_with_repeated_targets():
    tracks = [ramp(7.0), ramp(3.5, start=100.0), ramp(6.0, start=200.0)]
    te = TrackEmbedder(Recorder(), segment_s=3.0, sr=SR)
    te.fit(tracks, ["a", "b", "c"])
    assert te.estimator_.shape_ == (5, 300) and te.n_segments_fit_ == 5
    assert te.estimator_.y_.tolist() == ["a", "a", "b", "c", "c"]
    y2 = np.array([[1, 10], [2, 20], [3, 30]])
    assert te.fit(tracks, y2).estimator_.y_.tolist() == [
        [1, 10],
        [1, 10],
        [2, 20],
        [3, 30],
        [3, 30],
    ]
    assert te.fit(tracks).estimator_.y_ is None


def test_track_embedding_is_the_mean_of_its_segment_embeddings():
    tracks = [ramp(7.0), ramp(3.5, start=100.0)]
    te = TrackEmbedder(Recorder(), segment_s=3.0, sr=SR, offset_s=0.5).fit(tracks)
    Z = te.transform(tracks)
    # track 0: segments start at 0.5 and 3.5 s, embedded as 2 * first 4 samples
    expected0 = 2 * (ramp(0.04, start=0.5) + ramp(0.04, start=3.5)) / 2
    np.testing.assert_allclose(Z[0], expected0, rtol=1e-6)
    np.testing.assert_allclose(Z[1], 2 * ramp(0.04, start=100.5), rtol=1e-6)
    np.testing.assert_allclose(te.fit_transform(tracks), Z)
    assert TrackEmbedder(Recorder(), sr=SR, how="max").fit_transform(tracks)[0, 0] == (
        pytest.approx(2 * 3.0)
    )


def test_fit_transform_equals_fit_then_transform_with_a_real_pipeline():
    pytest.importorskip("librosa")
    rng = np.random.default_rng(0)
    tracks = [rng.normal(0, 0.1, n).astype(np.float32) for n in (16000, 8000, 25000)]
    te = TrackEmbedder(mel_pca(), segment_s=1.0, sr=8000)
    Z = te.fit_transform(tracks)
    assert Z.shape == (3, 2) and te.n_segments_fit_ == 6
    np.testing.assert_allclose(te.transform(tracks), Z, atol=1e-4)


def tone_tracks(n_per_class=6, sr=8000):
    """Low-pitched and high-pitched noisy tracks of 2-3 s (and skip if no librosa)."""
    pytest.importorskip("librosa")
    rng = np.random.default_rng(0)
    tracks, labels = [], []
    for label, base in enumerate((200.0, 1600.0)):
        for _ in range(n_per_class):
            t = np.arange(int(rng.uniform(2.0, 3.0) * sr)) / sr
            f = base * rng.uniform(0.9, 1.1)
            y = 0.3 * np.sin(2 * np.pi * f * t) + 0.05 * rng.normal(size=t.size)
            tracks.append(y.astype(np.float32))
            labels.append(label)
    return tracks, np.array(labels)


def test_track_embedder_in_a_pipeline_with_cross_validation():
    tracks, labels = tone_tracks()
    model = make_pipeline(
        TrackEmbedder(mel_pca(), segment_s=1.0, sr=8000), LogisticRegression()
    )
    cv = StratifiedKFold(n_splits=3, shuffle=True, random_state=0)
    scores = cross_val_score(model, tracks, labels, cv=cv)
    assert scores.mean() > 0.9
    search = GridSearchCV(
        model,
        {"trackembedder__estimator__pca__n_components": [1, 3]},
        cv=cv,
    )
    search.fit(tracks, labels)
    assert search.best_params_["trackembedder__estimator__pca__n_components"] in {1, 3}
    fitted = search.best_estimator_[0].estimator_
    assert (
        fitted[-1].n_components
        == search.best_params_["trackembedder__estimator__pca__n_components"]
    )
    assert search.predict(tracks[:2]).tolist() == [0, 0]


def test_track_embedder_passes_2d_targets_to_a_supervised_embedder():
    tracks, labels = tone_tracks(3)
    Y = np.stack([labels, 1 - labels], axis=1).astype(float)
    pls = mel_pca()
    pls.steps[-1] = ("pls", PLSRegression(n_components=1))
    # PLSRegression.fit_transform returns (x_scores, y_scores): fit, then transform
    Z = TrackEmbedder(pls, segment_s=1.0, sr=8000).fit(tracks, Y).transform(tracks)
    assert Z.shape == (6, 1)
    # the single PLS direction separates the two classes
    assert (Z[labels == 0].max() < Z[labels == 1].min()) or (
        Z[labels == 1].max() < Z[labels == 0].min()
    )


@pytest.mark.parametrize(
    ("te", "y", "message"),
    [
        (TrackEmbedder(), None, "estimator must be a transformer .* got None"),
        (TrackEmbedder("pca"), None, "estimator must be a transformer"),
        (
            TrackEmbedder(mel_pca(sr=22050), sr=8000),
            None,
            "sr=8000 but the estimator's logmelspectrogram__sr=22050",
        ),
        (TrackEmbedder(Recorder(), sr=SR, how="median"), None, "how must be one of"),
        (TrackEmbedder(Recorder(), sr=SR, segment_s=-1), None, "segment_s must be"),
        (TrackEmbedder(Recorder(), sr=SR), [0, 1], "y has 2 rows for 3 tracks"),
        (TrackEmbedder(Recorder(), sr=SR, segment_s=5.0), None, "track 1 lasts"),
    ],
)
def test_track_embedder_bad_input_raises(te, y, message):
    tracks = [ramp(7.0), ramp(4.0), ramp(6.0)]
    with pytest.raises(ValueError, match=message):
        te.fit(tracks, y)


def test_track_embedder_transform_checks_fitted_and_tracks():
    with pytest.raises(NotFittedError):
        TrackEmbedder(Recorder(), sr=SR).transform([ramp(4.0)])
    te = TrackEmbedder(Recorder(), sr=SR).fit([ramp(4.0)])
    with pytest.raises(ValueError, match="track 1 lasts 1.000 s"):
        te.transform([ramp(4.0), ramp(1.0)])


def test_track_embedder_params_clone_and_pickle():
    te = TrackEmbedder(mel_pca(), segment_s=1.0, sr=8000)
    params = te.get_params(deep=True)
    assert params["estimator__logmelspectrogram__n_mels"] == 16
    assert params["estimator__pca__n_components"] == 2
    copy = clone(te).set_params(estimator__pca__n_components=1)
    assert copy.estimator[-1].n_components == 1 and te.estimator[-1].n_components == 2
    tracks, _ = tone_tracks(2)
    te.fit(tracks)
    assert te.estimator is not te.estimator_
    restored = pickle.loads(pickle.dumps(te))
    # float32 BLAS products may differ in the last bit between calls
    np.testing.assert_allclose(
        restored.transform(tracks), te.transform(tracks), rtol=1e-5
    )


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
    check("TrackEmbedder", TrackEmbedder())
    check("TrackEmbedder", TrackEmbedder(mel_pca()))
