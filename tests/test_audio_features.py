"""Audio feature transformers: shapes, frame grid, values against librosa, errors."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils import get_tags
from sklearn.utils.estimator_checks import (
    check_get_params_invariance,
    check_no_attributes_set_in_init,
    check_parameters_default_constructible,
    check_set_params,
)

librosa = pytest.importorskip("librosa", reason='needs pip install ".[audio]"')
sf = pytest.importorskip("soundfile")

from sklearn_musemb.audio.features import (  # noqa: E402
    CENSChroma,
    CyclicTempogram,
    LogMelSpectrogram,
    MultiInputFeatures,
    frame_grid,
)
from sklearn_musemb.audio.io import load_audio  # noqa: E402

SR = 22050
THREE_S = 3 * SR
FEATURES = [LogMelSpectrogram, CyclicTempogram, CENSChroma]


def tone(freq: float, seconds: float = 3.0, sr: int = SR) -> np.ndarray:
    t = np.arange(round(seconds * sr)) / sr
    return (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def clicks(bpm: float, seconds: float = 6.0, sr: int = SR) -> np.ndarray:
    """Short decaying noise bursts every beat."""
    y = np.zeros(round(seconds * sr), dtype=np.float32)
    burst = np.random.default_rng(0).normal(0, 1, 200) * np.exp(-np.arange(200) / 40)
    for onset in np.arange(0.1 * sr, y.size - 200, 60 * sr / bpm).astype(int):
        y[onset : onset + 200] += burst
    return 0.5 * y


def music(seed: int = 0, seconds: float = 3.0, sr: int = SR) -> np.ndarray:
    """A real-ish clip: decaying harmonic notes on a beat grid, plus some noise."""
    rng = np.random.default_rng(seed)
    n = round(seconds * sr)
    y = 0.01 * rng.normal(size=n)
    t = np.arange(round(0.5 * sr)) / sr
    for start in range(0, n - t.size, round(0.25 * sr)):
        f0 = 110 * 2 ** (rng.integers(0, 36) / 12)
        note = sum(np.sin(2 * np.pi * k * f0 * t) / k for k in (1, 2, 3, 4))
        y[start : start + t.size] += 0.2 * note * np.exp(-t * 6)
    return y.astype(np.float32)


@pytest.fixture(scope="module")
def X():
    return np.stack([music(0), music(1), 0.1 * music(2), music(3)])


# -- frame grid -----------------------------------------------------------------------


def test_frame_grid_rounds_23_ms_to_a_power_of_two_with_half_hop():
    assert frame_grid() == (512, 256)
    assert frame_grid(44100) == (1024, 512)
    assert frame_grid(22050, window_ms=46.0) == (1024, 512)
    assert frame_grid(22050, hop_ratio=0.25) == (512, 128)
    assert frame_grid(n_fft=2048) == (2048, 1024)


@pytest.mark.parametrize("cls", FEATURES)
def test_three_seconds_give_259_frames(cls, X):
    est = cls()
    Z = est.fit_transform(X[:2])
    n_bins = {LogMelSpectrogram: 128, CyclicTempogram: 30, CENSChroma: 12}[cls]
    assert Z.shape == (2, n_bins, 1 + THREE_S // 256) == (2, n_bins, 259)
    assert Z.dtype == np.float32
    assert (est.n_fft_, est.hop_length_, est.n_bins_) == (512, 256, n_bins)


@pytest.mark.parametrize("n_samples", [THREE_S, THREE_S + 200, THREE_S - 100])
def test_multi_input_frames_match_exactly(n_samples):
    X = music(0, 3.1)[np.newaxis, :n_samples]
    multi = MultiInputFeatures()
    Z = multi.fit_transform(X)
    n_frames = 1 + n_samples // 256
    assert multi.input_bands_ == (128, 30, 12)
    assert Z.shape == (1, 170, n_frames)
    # every part is the standalone transformer's output, frame for frame
    parts = np.split(Z, np.cumsum(multi.input_bands_)[:-1], axis=1)
    for part, cls in zip(parts, FEATURES):
        alone = cls().fit_transform(X)
        assert alone.shape[-1] == n_frames
        np.testing.assert_allclose(part, alone, atol=1e-6)


def test_multi_input_crops_to_the_shortest_part():
    features = [np.ones((2, 3, 10)), np.zeros((2, 4, 9)), np.ones((2, 1, 11))]
    stacked = MultiInputFeatures._stack(features)
    assert stacked.shape == (2, 8, 9)
    assert stacked[:, 3:7].sum() == 0 and stacked[:, :3].all()


def test_features_change_at_the_same_frame():
    # A4 for 1.5 s, then C5: the top mel band and the top pitch class switch
    # at frame 1.5 * 22050 / 256 = 129.2 in both features
    y = np.concatenate([tone(440.0, 1.5), tone(523.25, 1.5)])[np.newaxis]
    multi = MultiInputFeatures(mel=LogMelSpectrogram(standardize=False))
    Z = multi.fit_transform(y)[0]
    mel, _, chroma = np.split(Z, np.cumsum(multi.input_bands_)[:-1], axis=0)
    mel_top = mel.argmax(axis=0)
    chroma_top = chroma.argmax(axis=0)
    assert set(chroma_top[:100]) == {9} and set(chroma_top[160:]) == {0}
    assert mel_top[100] != mel_top[160]
    mel_switch = np.flatnonzero(mel_top[100:] != mel_top[100])[0] + 100
    chroma_switch = np.flatnonzero(chroma_top != 9)[0]
    assert abs(mel_switch - 129.2) <= 1.5
    assert abs(chroma_switch - 129.2) <= 1.5


def test_schindler_knees_2019_variant_gives_80_by_130_for_6_seconds():
    mel = LogMelSpectrogram.schindler_knees_2019()
    params = mel.get_params()
    assert params["n_mels"] == 80 and params["fmin"] == 16.0
    assert params["fmax"] == 11000.0 and not params["standardize"]
    track = music(0, seconds=12.0)
    excerpt = load_audio(track, offset=3.0, duration=6.0)
    Z = mel.fit_transform(excerpt[np.newaxis])
    assert Z.shape == (1, 80, 130)
    assert (mel.n_fft_, mel.hop_length_) == (2048, 1024)
    assert mel.mean_ is None
    assert LogMelSpectrogram.schindler_knees_2019(backend="torch").backend == "torch"


# -- values ---------------------------------------------------------------------------


def test_log_mel_is_log10_one_plus_ten_magnitude_mel(X):
    Z = LogMelSpectrogram(standardize=False).fit_transform(X[:1])[0]
    S = librosa.feature.melspectrogram(
        y=X[0], sr=SR, n_fft=512, hop_length=256, n_mels=128, power=1.0
    )
    np.testing.assert_allclose(Z, np.log10(1 + 10 * S), rtol=1e-5, atol=1e-6)


def test_log_mel_db_compression(X):
    Z = LogMelSpectrogram(standardize=False, compression="db", power=2.0).fit_transform(
        X[:1]
    )[0]
    S = librosa.feature.melspectrogram(y=X[0], sr=SR, n_fft=512, hop_length=256)
    np.testing.assert_allclose(
        Z, librosa.power_to_db(S, top_db=None), rtol=1e-4, atol=1e-3
    )


def test_cens_equals_librosa_with_fixed_tuning(X):
    Z = CENSChroma().fit_transform(X[:2])
    for k in range(2):
        expected = librosa.feature.chroma_cens(
            y=X[k], sr=SR, hop_length=256, bins_per_octave=36, n_chroma=12, tuning=0.0
        )
        np.testing.assert_allclose(Z[k], expected, atol=1e-5)


def test_cyclic_tempogram_folds_librosa_tempogram_of_the_onset_strength(X):
    Z = CyclicTempogram(n_bins=12, tempo_min=40.0, n_tempo_octaves=3).fit_transform(
        X[:1]
    )[0]
    env = librosa.onset.onset_strength(y=X[0], sr=SR, n_fft=512, hop_length=256)
    tempogram = librosa.feature.tempogram(
        onset_envelope=env, sr=SR, hop_length=256, win_length=384
    )
    # bin j averages the tempogram at 40 * 2 ** (o + j / 12) bpm, o = 0, 1, 2
    lags = np.arange(384)
    expected = np.zeros_like(Z)
    for j in range(12):
        for o in range(3):
            lag = 60 * SR / 256 / (40 * 2 ** (o + j / 12))
            expected[j] += np.array([np.interp(lag, lags, row) for row in tempogram.T])
    np.testing.assert_allclose(Z, expected / 3, atol=1e-5)


@pytest.mark.parametrize(
    ("freq", "pitch_class"), [(440.0, 9), (261.63, 0), (392.0, 7), (185.0, 6)]
)
def test_pure_tone_cens_peaks_at_its_pitch_class(freq, pitch_class):
    Z = CENSChroma().fit_transform(tone(freq)[np.newaxis])[0]
    assert Z.mean(axis=1).argmax() == pitch_class
    assert (Z.argmax(axis=0) == pitch_class).all()


def _tempo_class(bpm: float) -> int:
    Z = CyclicTempogram().fit_transform(clicks(bpm)[np.newaxis])[0]
    return int(Z.mean(axis=1).argmax())


def _circular_distance(a: float, b: float, n: int = 30) -> float:
    return min(abs(a - b), n - abs(a - b))


def test_click_tracks_an_octave_apart_share_their_tempo_class():
    classes = {bpm: _tempo_class(bpm) for bpm in (60, 120, 240, 90)}
    # tempo_min = 30 bpm: 60, 120 and 240 bpm are class 0; 90 bpm is
    # log2(90 / 30) = 1.585 octaves up, class 0.585 * 30 = 17.5
    for bpm in (60, 120, 240):
        assert _circular_distance(classes[bpm], 0) <= 1, classes
    assert abs(classes[90] - 17.5) <= 1.5, classes


def test_batch_results_do_not_depend_on_the_other_clips(X):
    # one clip 60 dB quieter than the others: per-clip dB clipping keeps its
    # onsets; clipping against the batch maximum (librosa's top_db) would not
    quiet = np.stack([X[0], 1e-3 * X[1], X[2]])
    for cls in FEATURES:
        together = cls(standardize=False).fit_transform(quiet)
        for k in range(3):
            alone = cls(standardize=False).fit_transform(quiet[k : k + 1])[0]
            np.testing.assert_allclose(together[k], alone, atol=1e-5)


def test_batch_size_does_not_change_the_result(X):
    a = MultiInputFeatures().fit_transform(X)
    b = MultiInputFeatures(
        mel=LogMelSpectrogram(batch_size=1),
        tempogram=CyclicTempogram(batch_size=3),
        chroma=CENSChroma(batch_size=2),
    ).fit_transform(X)
    np.testing.assert_allclose(a, b, atol=1e-5)


# -- torch backend -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cls", "params", "max_err", "mean_err"),
    [
        (LogMelSpectrogram, {}, 1e-4, 1e-5),
        (
            LogMelSpectrogram,
            {"compression": "db", "power": 2.0, "fmin": 30.0},
            1e-3,
            1e-4,
        ),
        (CyclicTempogram, {}, 1e-4, 1e-5),
        # soxr vs FFT halving between CQT octaves can flip a CENS quantisation step
        (CENSChroma, {}, 0.1, 3e-3),
    ],
)
def test_torch_backend_matches_librosa(cls, params, max_err, mean_err, X):
    a = cls(backend="librosa", **params).fit_transform(X)
    est = cls(backend="torch", device="cpu", **params)
    b = est.fit_transform(X)
    assert b.shape == a.shape and b.dtype == np.float32
    assert np.abs(a - b).max() < max_err
    assert np.abs(a - b).mean() < mean_err
    if cls is LogMelSpectrogram:
        np.testing.assert_allclose(est.mean_, cls(**params).fit(X).mean_, atol=1e-4)


def test_torch_cens_keeps_the_pitch_classes(X):
    a = CENSChroma().fit_transform(X)
    b = CENSChroma(backend="torch", device="cpu").fit_transform(X)
    assert (a.argmax(axis=1) == b.argmax(axis=1)).mean() > 0.97


@pytest.mark.skipif(
    not __import__("torch").cuda.is_available(), reason="needs a CUDA device"
)
def test_torch_backend_on_cuda_matches_cpu(X):
    for cls in FEATURES:
        a = cls(backend="torch", device="cpu").fit_transform(X)
        b = cls(backend="torch", device="cuda").fit_transform(X)
        assert np.abs(a - b).max() < 1e-2


# -- standardisation -----------------------------------------------------------------


def test_standardize_gives_zero_mean_unit_std_per_band_on_the_fit_data(X):
    est = LogMelSpectrogram()
    Z = est.fit_transform(X)
    np.testing.assert_allclose(Z.mean(axis=(0, 2)), 0, atol=1e-4)
    np.testing.assert_allclose(Z.std(axis=(0, 2)), 1, atol=1e-3)
    assert est.mean_.shape == est.scale_.shape == (128,)
    np.testing.assert_allclose(est.transform(X), Z, atol=1e-5)


def test_standardization_uses_only_the_fit_data(X):
    train, test = X[:2], X[2:]
    est = LogMelSpectrogram().fit(train)
    mean, scale = est.mean_.copy(), est.scale_.copy()
    raw_train = LogMelSpectrogram(standardize=False).fit_transform(train)
    raw_test = LogMelSpectrogram(standardize=False).fit_transform(test)
    np.testing.assert_allclose(mean, raw_train.mean(axis=(0, 2)), rtol=1e-5)
    np.testing.assert_allclose(scale, raw_train.std(axis=(0, 2)), rtol=1e-4)
    Z = est.transform(test)
    expected = (raw_test - mean[:, None]) / scale[:, None]
    np.testing.assert_allclose(Z, expected, atol=1e-4)
    # the test clips (one 20 dB quieter) are not centred by the train statistics
    assert np.abs(Z.mean(axis=(0, 2))).max() > 0.1
    np.testing.assert_array_equal(est.mean_, mean)


def test_a_constant_band_is_centred_not_divided_by_zero():
    est = CENSChroma(standardize=True)
    Z = est.fit_transform(np.zeros((2, THREE_S), dtype=np.float32))
    assert np.isfinite(Z).all()
    np.testing.assert_array_equal(est.scale_, 1.0)
    mel = LogMelSpectrogram(fmin=0.0).fit(np.zeros((1, THREE_S)))
    assert (mel.scale_ == 1).all() and np.isfinite(
        mel.transform(np.zeros((1, 600)))
    ).all()


@pytest.mark.parametrize("cls", [CyclicTempogram, CENSChroma])
def test_tempogram_and_chroma_standardize_on_request_only(cls, X):
    assert cls().fit(X[:1]).mean_ is None
    Z = cls(standardize=True).fit_transform(X)
    np.testing.assert_allclose(Z.mean(axis=(0, 2)), 0, atol=1e-4)


# -- inputs ---------------------------------------------------------------------------


def test_lists_of_arrays_and_paths_give_the_same_features(X, tmp_path):
    paths = []
    for k in range(2):
        path = tmp_path / f"clip{k}.wav"
        sf.write(path, X[k], SR, subtype="FLOAT")
        paths.append(path)
    est = LogMelSpectrogram().fit(X)
    from_array = est.transform(X[:2])
    np.testing.assert_allclose(est.transform(list(X[:2])), from_array, atol=1e-6)
    np.testing.assert_allclose(est.transform(paths), from_array, atol=1e-5)
    np.testing.assert_allclose(
        est.transform([str(paths[0]), X[1]]), from_array, atol=1e-5
    )
    multi = MultiInputFeatures().fit(X)
    np.testing.assert_allclose(
        multi.transform(paths), multi.transform(X[:2]), atol=1e-4
    )


def test_paths_are_resampled_to_sr(tmp_path):
    path = tmp_path / "44k.wav"
    sf.write(path, tone(440.0, 3.0, sr=44100), 44100)
    Z = CENSChroma().fit_transform([path])
    assert Z.shape == (1, 12, 259)
    assert Z[0].mean(axis=1).argmax() == 9


def bad_inputs():
    ok = music(0)
    nan = np.stack([ok, ok])
    nan[1, 1234] = np.nan
    inf = np.stack([ok, ok])
    inf[0, 7] = np.inf
    return [
        (nan, r"X\[1\] holds NaN or infinite samples \(the first at sample 1234\)"),
        (inf, r"X\[0\] holds NaN or infinite samples \(the first at sample 7\)"),
        ([ok, ok[:-1].copy(), ok], r"X\[1\] has 66149 samples but 2 clip\(s\) have"),
        (ok, r"X must be 2-d \(n_clips, n_samples\).*x\[np.newaxis\]"),
        (np.zeros((2, 2, 600)), r"shape \(2, 2, 600\).*mono"),
        ([], "X holds no clips"),
        (np.zeros((0, 600)), "X holds no clips"),
        (np.zeros((2, 100)), "100 samples .* shorter than one analysis window of 512"),
        ([np.zeros(0)], r"X\[0\] is empty"),
        ([np.zeros((2, 600))], r"X\[0\] must be a 1-d mono waveform.*mean\(axis=0\)"),
        (np.zeros((2, 600), dtype=np.int16), "holds integers.*32768"),
        (np.array([["a", "b"]]), "waveform of real numbers"),
        ("clip.wav", "single path 'clip.wav'"),
        (["missing.wav"], r"X\[0\]: load_audio: no such file: 'missing.wav'"),
        (42, "got int"),
    ]


@pytest.mark.parametrize(("X_bad", "message"), bad_inputs())
@pytest.mark.parametrize("cls", [LogMelSpectrogram, MultiInputFeatures])
def test_bad_clips_raise_naming_the_culprit(cls, X_bad, message):
    with pytest.raises(ValueError, match=message):
        cls().fit(X_bad)


def test_undecodable_file_raises_naming_it(tmp_path):
    path = tmp_path / "broken.wav"
    path.write_bytes(b"not audio at all" * 10)
    with pytest.raises(
        ValueError, match=r"X\[1\]: load_audio: could not decode .*broken"
    ):
        CENSChroma().fit([tone(440.0), path])


def test_transform_validates_its_clips_too(X):
    est = LogMelSpectrogram().fit(X)
    bad = X[:2].copy()
    bad[0, 5] = np.nan
    with pytest.raises(ValueError, match=r"X\[0\] holds NaN"):
        est.transform(bad)


@pytest.mark.parametrize(
    ("est", "message"),
    [
        (LogMelSpectrogram(backend="numpy"), "backend must be one of"),
        (LogMelSpectrogram(compression="log"), "compression must be one of"),
        (LogMelSpectrogram(hop_ratio=1.5), r"hop_ratio must lie in \(0, 1\]"),
        (LogMelSpectrogram(hop_ratio=0.0), "hop_ratio must be a finite number > 0"),
        (LogMelSpectrogram(n_fft=0), "n_fft must be a positive integer"),
        (LogMelSpectrogram(sr=22050.5), "sr must be a positive integer"),
        (LogMelSpectrogram(fmax=20000.0), r"fmax <= sr / 2 = 11025.0"),
        (LogMelSpectrogram(fmin=500.0, fmax=400.0), "fmin < fmax"),
        (LogMelSpectrogram(n_mels=0), "n_mels must be a positive integer"),
        (LogMelSpectrogram(power=0), "power must be a finite number > 0"),
        (LogMelSpectrogram(standardize="yes"), "standardize must be a bool"),
        (LogMelSpectrogram(batch_size=0), "batch_size must be a positive integer"),
        (LogMelSpectrogram(window_ms=0.01), "window_ms=0.01 is under 2 samples"),
        (LogMelSpectrogram(backend="torch", device="gpu0"), "not a torch device"),
        (CENSChroma(bins_per_octave=30), "must be a multiple of n_chroma=12"),
        (CENSChroma(n_octaves=9), "above the Nyquist frequency"),
        (CENSChroma(win_len_smooth=0), "win_len_smooth must be a positive integer"),
        (CyclicTempogram(tempo_min=10.0), "tempo_min=10.0 bpm is a lag of 516.8"),
        (CyclicTempogram(n_tempo_octaves=9), "lag under one frame"),
        (CyclicTempogram(win_length=2), "win_length must be at least 4"),
        (MultiInputFeatures(mel=CENSChroma()), "mel must be a LogMelSpectrogram"),
        (
            MultiInputFeatures(chroma=CENSChroma(sr=44100)),
            "must share sr and hop.*chroma: sr=44100, hop=512",
        ),
        (
            MultiInputFeatures(tempogram=CyclicTempogram(hop_ratio=0.25)),
            "must share sr and hop.*tempogram: sr=22050, hop=128",
        ),
    ],
    ids=lambda v: v if isinstance(v, str) else type(v).__name__,
)
def test_bad_parameters_raise_in_fit_naming_them(est, message, X):
    with pytest.raises(ValueError, match=message):
        est.fit(X[:1])


@pytest.mark.skipif(
    __import__("torch").cuda.is_available(), reason="CUDA is available here"
)
def test_cuda_without_a_gpu_raises(X):
    with pytest.raises(ValueError, match="torch finds no CUDA device"):
        LogMelSpectrogram(backend="torch", device="cuda").fit(X[:1])


def test_transform_before_fit_and_after_changing_bins(X):
    with pytest.raises(NotFittedError):
        LogMelSpectrogram().transform(X)
    with pytest.raises(NotFittedError):
        MultiInputFeatures().transform(X)
    est = LogMelSpectrogram().fit(X[:1]).set_params(n_mels=64)
    with pytest.raises(ValueError, match="now give 64 bins but fit saw 128; fit again"):
        est.transform(X[:1])


# -- sklearn API ----------------------------------------------------------------------

ESTIMATORS = [
    LogMelSpectrogram(),
    CyclicTempogram(),
    CENSChroma(),
    MultiInputFeatures(),
    MultiInputFeatures(mel=LogMelSpectrogram(n_mels=32)),
]


@pytest.mark.parametrize(
    "check",
    [
        check_no_attributes_set_in_init,
        check_parameters_default_constructible,
        check_get_params_invariance,
        check_set_params,
    ],
)
@pytest.mark.parametrize("est", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_sklearn_api_checks_that_need_no_arrays(est, check):
    check(type(est).__name__, est)


@pytest.mark.parametrize("est", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_waveform_input_tags(est):
    tags = get_tags(est)
    assert not tags.input_tags.two_d_array
    assert tags.input_tags.string
    assert tags.transformer_tags.preserves_dtype == ["float32"]


def test_clone_and_nested_params_round_trip():
    multi = MultiInputFeatures(mel=LogMelSpectrogram(n_mels=40, backend="torch"))
    params = multi.get_params(deep=True)
    assert params["mel__n_mels"] == 40 and params["mel__backend"] == "torch"
    copy = clone(multi)
    assert copy.mel is not multi.mel
    assert copy.get_params(deep=True)["mel__n_mels"] == 40
    copy.set_params(mel__n_mels=20)
    assert copy.mel.n_mels == 20 and multi.mel.n_mels == 40
    mel = LogMelSpectrogram.schindler_knees_2019()
    assert clone(mel).get_params() == mel.get_params()


@pytest.mark.parametrize(
    "est",
    [
        LogMelSpectrogram(),
        LogMelSpectrogram(backend="torch", device="cpu"),
        CyclicTempogram(standardize=True),
        CENSChroma(backend="torch", device="cpu"),
        MultiInputFeatures(),
    ],
    ids=["mel", "mel-torch", "tempogram", "cens-torch", "multi"],
)
def test_fitted_transformers_pickle(est, X):
    est.fit(X[:2])
    copy = pickle.loads(pickle.dumps(est))
    np.testing.assert_allclose(copy.transform(X[2:]), est.transform(X[2:]), atol=1e-6)


def test_features_import_without_librosa():
    # librosa is optional: the module imports, and computing says how to install
    code = (
        "import sys; sys.modules['librosa'] = None\n"
        "import numpy as np\n"
        "from sklearn_musemb.audio.features import LogMelSpectrogram\n"
        "from sklearn_musemb.audio.segments import segment_audio\n"
        "segment_audio([np.zeros(10)], sr=5, segment_s=1.0)\n"
        "try:\n"
        "    LogMelSpectrogram().fit(np.zeros((1, 1000)))\n"
        "except ImportError as err:\n"
        "    print(err)\n"
    )
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env
    )
    assert out.returncode == 0, out.stderr
    assert 'pip install "sklearn-musemb[audio]"' in out.stdout
    assert "LogMelSpectrogram" in out.stdout
