"""Audio features as scikit-learn transformers: log-mel, cyclic tempogram, CENS.

Every transformer takes a batch of equal-length mono clips (a 2-d array, a list
of 1-d arrays or a list of audio files) and returns a float32 array of shape
``(n_clips, n_bins, n_frames)``. All share one frame grid (:func:`frame_grid`): a
window of about 23 ms rounded to a power of two and a hop of half of it, so
``n_frames = 1 + n_samples // hop`` (259 for 3 s at 22050 Hz) for all three, as
paper 002 (a multi-input network over mel, tempogram and chroma) needs.

Two backends compute the same features: ``"librosa"`` (the reference) and
``"torch"`` (the whole batch at once on a CPU or CUDA device). librosa is an
optional dependency imported on first use.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.utils.validation import check_is_fitted

from ..utils.validation import check_finite_number, check_positive_int
from .io import _check_waveform, _is_path, _require_librosa, load_audio

BACKENDS = ("librosa", "torch")
COMPRESSIONS = ("log10", "db", None)

#: librosa's CQT filter sparsity and onset dB range (its defaults).
_CQT_SPARSITY = 0.01
_ONSET_TOP_DB = 80.0

# -- frame grid and clip validation ---------------------------------------------------


def frame_grid(
    sr: int = 22050,
    window_ms: float = 23.0,
    hop_ratio: float = 0.5,
    n_fft: int | None = None,
) -> tuple[int, int]:
    """Analysis window and hop, in samples, of the features' common frame grid.

    The window is ``window_ms`` rounded to the nearest power of two in samples
    (fast FFTs; 23 ms at 22050 Hz is 507 samples, so 512 = 23.2 ms), unless
    ``n_fft`` gives it; the hop is ``round(n_fft * hop_ratio)``. At 22050 Hz the
    default hop of 256 samples (11.6 ms) is a multiple of ``2 ** 6``, so the
    7-octave CQT of :class:`CENSChroma` halves its rate six times on the way
    down, as librosa prefers.

    Parameters
    ----------
    sr : int, default=22050
        Sampling rate in Hz.
    window_ms : float, default=23.0
        Window length in milliseconds, used when ``n_fft`` is None.
    hop_ratio : float, default=0.5
        Hop as a fraction of the window, in (0, 1]; 0.5 is 50 % overlap.
    n_fft : int, default=None
        Window length in samples, overriding ``window_ms``.

    Returns
    -------
    n_fft, hop_length : int

    Examples
    --------
    >>> from sklearn_musemb.audio.features import frame_grid
    >>> frame_grid()
    (512, 256)
    >>> frame_grid(44100)
    (1024, 512)
    >>> frame_grid(n_fft=2048)
    (2048, 1024)
    """
    return _grid(sr, window_ms, hop_ratio, n_fft, "frame_grid")


def _grid(
    sr: Any, window_ms: Any, hop_ratio: Any, n_fft: Any, owner: str
) -> tuple[int, int]:
    sr = check_positive_int(sr, "sr", owner)
    window_ms = check_finite_number(window_ms, "window_ms", owner, strict=True)
    hop_ratio = check_finite_number(hop_ratio, "hop_ratio", owner, strict=True)
    if hop_ratio > 1:
        raise ValueError(
            f"{owner}: hop_ratio must lie in (0, 1] (a fraction of the window), "
            f"got {hop_ratio}"
        )
    if n_fft is None:
        window = sr * window_ms / 1000
        if window < 2:
            raise ValueError(
                f"{owner}: window_ms={window_ms} is under 2 samples at sr={sr}"
            )
        n_fft = 2 ** round(math.log2(window))
    else:
        n_fft = check_positive_int(n_fft, "n_fft", owner)
    hop = round(n_fft * hop_ratio)
    if hop < 1:
        raise ValueError(
            f"{owner}: hop_ratio={hop_ratio} gives a hop of 0 samples for n_fft={n_fft}"
        )
    return n_fft, hop


def _check_clips(X: Any, sr: int, owner: str, min_samples: int) -> np.ndarray:
    """``X`` as a C-contiguous float32 array (n_clips, n_samples), paths loaded.

    Raises a ValueError naming the offending clip (index, or path) and the reason.
    """
    if _is_path(X):
        raise ValueError(
            f"{owner}: X must be a batch of clips (a 2-d array or a list of arrays "
            f"or paths), got the single path {X!r}: pass [path]"
        )
    if isinstance(X, np.ndarray) and X.dtype != object:
        if X.ndim != 2:
            hint = (
                " (for one clip pass x[np.newaxis])"
                if X.ndim == 1
                else " (mix channels to mono first)"
                if X.ndim == 3
                else ""
            )
            raise ValueError(
                f"{owner}: X must be 2-d (n_clips, n_samples), got an array of "
                f"shape {X.shape}{hint}"
            )
        if X.shape[0] == 0:
            raise ValueError(f"{owner}: X holds no clips (shape {X.shape})")
        if X.dtype.kind != "f":
            _check_waveform(X[0], f"{owner}: X[0]")  # raises the dtype message
        finite = np.isfinite(X)
        if not finite.all():
            row = int(np.flatnonzero(~finite.all(axis=1))[0])
            _check_waveform(X[row], f"{owner}: X[{row}]")
        clips = np.ascontiguousarray(X, dtype=np.float32)
    else:
        try:
            items = list(X)
        except TypeError:
            raise ValueError(
                f"{owner}: X must be a 2-d array or a list of 1-d arrays or paths, "
                f"got {type(X).__name__}"
            ) from None
        if not items:
            raise ValueError(f"{owner}: X holds no clips (empty list)")
        waves = [_load_item(item, i, sr, owner) for i, item in enumerate(items)]
        lengths = np.array([w.size for w in waves])
        if (lengths != lengths[0]).any():
            values, counts = np.unique(lengths, return_counts=True)
            common = values[np.argmax(counts)]
            odd = int(np.flatnonzero(lengths != common)[0])
            raise ValueError(
                f"{owner}: clips must all have the same length; X[{odd}] has "
                f"{lengths[odd]} samples but {counts.max()} clip(s) have {common} "
                f"(cut tracks into equal segments with segment_audio)"
            )
        clips = np.stack(waves)
    n_samples = clips.shape[1]
    if n_samples < min_samples:
        raise ValueError(
            f"{owner}: clips of {n_samples} samples ({n_samples / sr:.4f} s at "
            f"sr={sr}) are shorter than one analysis window of {min_samples} samples"
        )
    return clips


def _load_item(item: Any, index: int, sr: int, owner: str) -> np.ndarray:
    if _is_path(item):
        try:
            return load_audio(item, sr)
        except ValueError as err:
            raise ValueError(f"{owner}: X[{index}]: {err}") from err
    return _check_waveform(item, f"{owner}: X[{index}]")


def _check_choice(value: Any, name: str, choices: Sequence, owner: str) -> Any:
    if not any(value is c or (isinstance(value, str) and value == c) for c in choices):
        raise ValueError(f"{owner}: {name} must be one of {choices}, got {value!r}")
    return value


def _check_bool(value: Any, name: str, owner: str) -> bool:
    if not isinstance(value, bool | np.bool_):
        raise ValueError(f"{owner}: {name} must be a bool, got {value!r}")
    return bool(value)


def _device(device: Any, owner: str) -> str:
    from ..utils.torch_utils import check_device  # torch only for that backend

    return check_device(device, owner)


# -- cached filter banks ------------------------------------------------------------


def _frozen(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False  # cached and shared between calls
    return array


@functools.lru_cache(maxsize=16)
def _mel_basis(
    sr: int, n_fft: int, n_mels: int, fmin: float, fmax: float | None
) -> np.ndarray:
    librosa = _require_librosa("mel filter bank")
    basis = librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax)
    return _frozen(basis.astype(np.float32))


@functools.lru_cache(maxsize=16)
def _cyclic_fold(
    frame_rate: float, win_length: int, n_bins: int, tempo_min: float, n_octaves: int
) -> np.ndarray:
    """Matrix (n_bins, win_length) taking tempogram lags to cyclic tempo classes.

    Bin ``j`` samples the tempogram at ``tempo_min * 2 ** (o + j / n_bins)`` bpm
    for each octave ``o`` (linear interpolation between lags) and averages the
    octaves (Grosche et al., 2010).
    """
    octave = np.arange(n_octaves)[:, None]
    cls = np.arange(n_bins)[None, :]
    bpm = tempo_min * 2.0 ** (octave + cls / n_bins)
    lag = 60.0 * frame_rate / bpm
    low = np.floor(lag).astype(np.intp)
    frac = lag - low
    rows = np.broadcast_to(cls, lag.shape)
    fold = np.zeros((n_bins, win_length))
    np.add.at(fold, (rows, low), (1 - frac) / n_octaves)
    np.add.at(fold, (rows, low + 1), frac / n_octaves)
    return _frozen(fold.astype(np.float32))


def _relative_bandwidth(freqs: np.ndarray) -> np.ndarray:
    """librosa's relative filter bandwidths (``filters._relative_bandwidth``)."""
    logf = np.log2(freqs)
    bpo = np.empty_like(freqs)
    bpo[0] = 1 / (logf[1] - logf[0])
    bpo[-1] = 1 / (logf[-1] - logf[-2])
    bpo[1:-1] = 2 / (logf[2:] - logf[:-2])
    return (2.0 ** (2 / bpo) - 1) / (2.0 ** (2 / bpo) + 1)


@functools.lru_cache(maxsize=8)
def _cqt_plan(sr: int, hop: int, fmin: float, n_bins: int, bins_per_octave: int):
    """librosa's CQT (:func:`librosa.vqt`, gamma=0), planned once per setting.

    librosa rebuilds the filters of every octave on each call, which takes about
    two thirds of a 3 s clip's CQT; here they are built once and cached. The
    steps, octave by octave from the top, are librosa's: optional early
    downsampling, an STFT with a box window and the octave's FFT length, a
    product with the sparse frequency-domain filters, then halving the rate.

    Returns a dict: ``early`` (number of halvings before the first octave),
    ``octaves`` (list of (basis, n_fft, hop, halve_after) top-down, basis a
    complex64 CSR matrix), ``scale`` (float32 per-bin factors) and ``n_bins``.
    """
    librosa = _require_librosa("CENSChroma")
    import scipy.sparse

    freqs = librosa.cqt_frequencies(n_bins, fmin=fmin, bins_per_octave=bins_per_octave)
    alpha = _relative_bandwidth(freqs)
    _, cutoff = librosa.filters.wavelet_lengths(
        freqs=freqs, sr=sr, window="hann", filter_scale=1, gamma=0, alpha=alpha
    )
    nyquist = sr / 2
    if cutoff > nyquist:
        raise ValueError(
            f"CENSChroma: the CQT's top filter reaches {cutoff:.0f} Hz, above the "
            f"Nyquist frequency {nyquist:.0f} Hz of sr={sr}; use fewer octaves"
        )
    n_octaves = math.ceil(n_bins / bins_per_octave)
    n_filters = min(bins_per_octave, n_bins)
    twos = (hop & -hop).bit_length() - 1
    early = min(
        max(0, math.ceil(math.log2(nyquist / cutoff)) - 2),
        max(0, twos - n_octaves + 1),
    )
    sr_start = sr / 2**early
    my_sr, my_hop = sr_start, hop // 2**early
    octaves = []
    for i in range(n_octaves):
        stop = None if i == 0 else -n_filters * i
        part = slice(-n_filters * (i + 1), stop)
        basis, lengths = librosa.filters.wavelet(
            freqs=freqs[part],
            sr=my_sr,
            filter_scale=1,
            norm=1,
            pad_fft=True,
            window="hann",
            gamma=0,
            alpha=alpha[part],
        )
        n_fft = basis.shape[1]
        basis *= lengths[:, None] / n_fft
        spectrum = np.fft.fft(basis, n=n_fft, axis=1)[:, : n_fft // 2 + 1]
        spectrum = librosa.util.sparsify_rows(
            spectrum, quantile=_CQT_SPARSITY, dtype=np.complex64
        )
        spectrum = scipy.sparse.csr_matrix(
            spectrum * np.float32(np.sqrt(sr_start / my_sr)), dtype=np.complex64
        )
        # librosa also halves after the last octave, for nothing
        halve = my_hop % 2 == 0 and i < n_octaves - 1
        octaves.append((spectrum, n_fft, my_hop, halve))
        if halve:
            my_hop //= 2
            my_sr /= 2
    lengths, _ = librosa.filters.wavelet_lengths(
        freqs=freqs, sr=sr_start, window="hann", filter_scale=1, gamma=0, alpha=alpha
    )
    scale = _frozen((1 / np.sqrt(lengths)).astype(np.float32))
    return {"early": early, "octaves": octaves, "scale": scale, "n_bins": n_bins}


def _stack_octaves(responses: list, n_bins: int, xp_empty) -> Any:
    """Octave responses (top octave first) stacked low to high, cut to one length."""
    n_frames = min(r.shape[-1] for r in responses)
    out = xp_empty(n_frames)
    end = n_bins
    for response in responses:
        n_oct = response.shape[-2]
        if end < n_oct:
            out[:, :end] = response[:, -end:, :n_frames]
        else:
            out[:, end - n_oct : end] = response[:, :, :n_frames]
        end -= n_oct
    return out


# -- librosa (NumPy) computations ----------------------------------------------------


def _db(power: np.ndarray, top_db: float | None = None) -> np.ndarray:
    """``10 log10`` of a power spectrogram per clip (librosa.power_to_db, ref 1).

    librosa's top_db clips against the maximum of the whole array, which would
    make one clip's features depend on the rest of its batch; here each clip
    (the leading axis) is clipped against its own maximum.
    """
    db = 10 * np.log10(np.maximum(power, 1e-10))
    if top_db is not None:
        peak = db.max(axis=(-2, -1), keepdims=True)
        db = np.maximum(db, peak - top_db)
    return db


def _compress(mel: np.ndarray, compression: str | None, power: float) -> np.ndarray:
    if compression == "log10":
        return np.log10(1 + 10 * mel)
    if compression == "db":
        return (20 / power) * np.log10(np.maximum(mel, 1e-10 ** (power / 2)))
    return mel


def _onset_envelope(clips: np.ndarray, sr: int, n_fft: int, hop: int) -> np.ndarray:
    """librosa's default onset strength (128-band mel flux), on ``n_fft``/``hop``."""
    librosa = _require_librosa("CyclicTempogram")
    power = librosa.feature.melspectrogram(
        y=clips, sr=sr, n_fft=n_fft, hop_length=hop, power=2.0, fmax=sr / 2
    )
    return librosa.onset.onset_strength(
        S=_db(power, _ONSET_TOP_DB), sr=sr, n_fft=n_fft, hop_length=hop
    )


def _cqt_magnitude(clips: np.ndarray, sr: int, hop: int, plan: dict) -> np.ndarray:
    librosa = _require_librosa("CENSChroma")
    y = clips
    if plan["early"]:
        y = librosa.resample(
            y, orig_sr=2 ** plan["early"], target_sr=1, res_type="soxr_hq", scale=True
        )
    responses = []
    for basis, n_fft, my_hop, halve in plan["octaves"]:
        spec = librosa.stft(
            y, n_fft=n_fft, hop_length=my_hop, window="ones", pad_mode="constant"
        )
        n, n_freq, n_frames = spec.shape
        flat = spec.transpose(1, 0, 2).reshape(n_freq, n * n_frames)
        response = np.asarray(basis @ flat).reshape(-1, n, n_frames)
        responses.append(response.transpose(1, 0, 2))
        if halve:
            y = librosa.resample(
                y, orig_sr=2, target_sr=1, res_type="soxr_hq", scale=True
            )
    stacked = _stack_octaves(
        responses,
        plan["n_bins"],
        lambda t: np.empty((len(clips), plan["n_bins"], t), dtype=np.complex64),
    )
    return np.abs(stacked) * plan["scale"][:, None]


# -- torch computations --------------------------------------------------------------


def _torch_stft(y, n_fft: int, hop: int, window: str = "hann"):
    """Complex STFT like librosa.stft (centred, zero padding), batched: (b, f, t)."""
    import torch

    if window == "hann":
        win = torch.hann_window(n_fft, periodic=True, device=y.device, dtype=y.dtype)
    else:
        win = torch.ones(n_fft, device=y.device, dtype=y.dtype)
    spec = torch.stft(
        y,
        n_fft,
        hop_length=hop,
        window=win,
        center=True,
        pad_mode="constant",
        return_complex=True,
    )
    return spec


def _torch_mel(y, sr, n_fft, hop, basis: np.ndarray, power: float):
    import torch

    spec = _torch_stft(y, n_fft, hop)
    mag2 = spec.real**2 + spec.imag**2
    spectrum = mag2 if power == 2 else mag2 ** (power / 2)
    return torch.tensor(basis).to(y.device) @ spectrum


def _torch_compress(mel, compression: str | None, power: float):
    import torch

    if compression == "log10":
        return torch.log10(1 + 10 * mel)
    if compression == "db":
        return (20 / power) * torch.log10(torch.clamp(mel, min=1e-10 ** (power / 2)))
    return mel


def _torch_onset_envelope(y, sr: int, n_fft: int, hop: int):
    import torch

    power = _torch_mel(y, sr, n_fft, hop, _mel_basis(sr, n_fft, 128, 0.0, sr / 2), 2.0)
    db = 10 * torch.log10(torch.clamp(power, min=1e-10))
    peak = db.amax(dim=(-2, -1), keepdim=True)
    db = torch.maximum(db, peak - _ONSET_TOP_DB)
    flux = torch.relu(db[..., 1:] - db[..., :-1]).mean(dim=-2)
    # librosa's centring: the flux of frames t-1 -> t lands on t + n_fft // (2 hop)
    lead = 1 + n_fft // (2 * hop)
    return torch.nn.functional.pad(flux, (lead, 0))[..., : db.shape[-1]]


def _torch_tempogram(env, win_length: int):
    """librosa.feature.tempogram (centred, Hann, max-normalised), batched."""
    import torch

    n_frames = env.shape[-1]
    half = win_length // 2
    ramp = torch.arange(half, device=env.device, dtype=env.dtype) / half
    left = ramp[None, :] * env[:, :1]
    right = ramp.flip(0)[None, :] * env[:, -1:]
    padded = torch.cat([left, env, right], dim=-1)
    frames = padded.unfold(-1, win_length, 1)[:, :n_frames]  # (b, t, lag)
    frames = frames * torch.hann_window(
        win_length, periodic=True, device=env.device, dtype=env.dtype
    )
    n_pad = _next_fast_len(2 * win_length - 1)
    spectrum = torch.fft.rfft(frames, n=n_pad, dim=-1)
    autocorr = torch.fft.irfft(spectrum.real**2 + spectrum.imag**2, n=n_pad, dim=-1)
    autocorr = autocorr[..., :win_length].transpose(-1, -2)
    return _torch_normalize(autocorr, math.inf)


def _next_fast_len(n: int) -> int:
    import scipy.fft

    return scipy.fft.next_fast_len(n, real=True)


def _torch_normalize(x, norm: float):
    """librosa.util.normalize over axis -2 (tiny norms left unnormalised)."""
    import torch

    if norm == math.inf:
        length = x.abs().amax(dim=-2, keepdim=True)
    else:
        length = (x.abs() ** norm).sum(dim=-2, keepdim=True) ** (1 / norm)
    tiny = torch.finfo(x.dtype).tiny
    return x / torch.where(length < tiny, torch.ones_like(length), length)


def _torch_halve(y):
    """Half the sampling rate by FFT truncation, energy kept (librosa scale=True).

    librosa resamples with soxr; an ideal low-pass differs from it only near the
    new Nyquist frequency and at the clip's edges.
    """
    import torch

    n = y.shape[-1]
    m = math.ceil(n / 2)
    spectrum = torch.fft.rfft(y, dim=-1)[..., : m // 2 + 1]
    return torch.fft.irfft(spectrum, n=m, dim=-1) * (m / n) * math.sqrt(2)


def _torch_cqt_magnitude(y, plan: dict):
    import torch

    for _ in range(plan["early"]):
        y = _torch_halve(y)
    # the dense bases of each device are kept in the (lru-cached) plan itself
    bases = plan.setdefault("torch_bases", {})
    responses = []
    for k, (basis, n_fft, my_hop, halve) in enumerate(plan["octaves"]):
        key = (k, str(y.device))
        if key not in bases:
            bases[key] = torch.tensor(basis.toarray()).to(y.device)
        spec = _torch_stft(y, n_fft, my_hop, window="ones")
        responses.append(bases[key] @ spec)
        if halve:
            y = _torch_halve(y)
    stacked = _stack_octaves(
        responses,
        plan["n_bins"],
        lambda t: torch.empty(
            (responses[0].shape[0], plan["n_bins"], t),
            dtype=responses[0].dtype,
            device=y.device,
        ),
    )
    scale = torch.tensor(plan["scale"]).to(y.device)
    return stacked.abs() * scale[:, None]


def _torch_cens(cqt, chroma_map: np.ndarray, win_len_smooth: int | None):
    """librosa.feature.chroma_cens from a CQT magnitude, batched."""
    import torch

    chroma = torch.tensor(chroma_map).to(cqt.device) @ cqt
    chroma = _torch_normalize(chroma, 1)
    quant = sum(
        0.25 * (chroma > step).to(chroma.dtype) for step in (0.4, 0.2, 0.1, 0.05)
    )
    if win_len_smooth:
        window = np.hanning(win_len_smooth + 2)  # scipy's symmetric hann
        kernel = torch.tensor(window / window.sum(), dtype=chroma.dtype)
        size = kernel.numel()
        b, c, t = quant.shape
        # full convolution cut as scipy.ndimage.convolve (mode="constant") cuts it
        full = torch.nn.functional.conv1d(
            quant.reshape(b * c, 1, t),
            kernel.flip(0).to(cqt.device)[None, None],
            padding=size - 1,
        )
        quant = full[..., size // 2 : size // 2 + t].reshape(b, c, t)
    return _torch_normalize(quant, 2)


# -- the transformers ----------------------------------------------------------------


class _ClipFeatures(TransformerMixin, BaseEstimator):
    """Shared by the feature transformers: clips in, (n, bins, frames) out.

    Subclasses implement ``_settings`` (validated parameters, a dict with at
    least ``n_fft``, ``hop`` and ``n_bins``) and ``_compute`` (one batch of
    clips to features). This class validates the clips, batches them, and
    learns and applies the per-band standardisation.
    """

    def _common_settings(self) -> dict:
        name = type(self).__name__
        n_fft, hop = _grid(self.sr, self.window_ms, self.hop_ratio, self.n_fft, name)
        backend = _check_choice(self.backend, "backend", BACKENDS, name)
        return {
            "sr": int(self.sr),
            "n_fft": n_fft,
            "hop": hop,
            "standardize": _check_bool(self.standardize, "standardize", name),
            "backend": backend,
            "device": _device(self.device, name) if backend == "torch" else None,
            "batch_size": check_positive_int(self.batch_size, "batch_size", name),
        }

    def _features(self, X: Any, settings: dict) -> np.ndarray:
        clips = _check_clips(X, settings["sr"], type(self).__name__, settings["n_fft"])
        step = settings["batch_size"]
        if settings["backend"] == "librosa":
            parts = [
                self._compute(clips[i : i + step], settings)
                for i in range(0, len(clips), step)
            ]
        else:
            import torch

            with torch.no_grad():
                parts = [
                    self._compute(
                        torch.from_numpy(clips[i : i + step]).to(settings["device"]),
                        settings,
                    )
                    .cpu()
                    .numpy()
                    for i in range(0, len(clips), step)
                ]
        return np.concatenate(parts).astype(np.float32, copy=False)

    def fit(self, X: Any, y: Any = None) -> _ClipFeatures:
        """Validate the parameters and ``X``; learn the standardisation if asked.

        Parameters
        ----------
        X : array of shape (n_clips, n_samples) or list of arrays or paths
            Equal-length mono clips at ``sr`` Hz, or audio files (read with
            :func:`~sklearn_musemb.audio.io.load_audio` at ``sr``).
        y : None
            Ignored.

        Returns
        -------
        self
        """
        settings = self._settings()
        if settings["standardize"]:
            self._learn(self._features(X, settings), settings)
        else:
            _check_clips(X, settings["sr"], type(self).__name__, settings["n_fft"])
            self._learn(None, settings)
        return self

    def fit_transform(self, X: Any, y: Any = None) -> np.ndarray:
        """Fit and transform ``X``, computing its features once.

        Parameters
        ----------
        X : array of shape (n_clips, n_samples) or list of arrays or paths
            As in :meth:`fit`.
        y : None
            Ignored.

        Returns
        -------
        ndarray of shape (n_clips, n_bins, n_frames), dtype float32
        """
        settings = self._settings()
        features = self._features(X, settings)
        self._learn(features if settings["standardize"] else None, settings)
        return self._standardized(features)

    def transform(self, X: Any) -> np.ndarray:
        """Features of every clip, standardised with the statistics of ``fit``.

        Parameters
        ----------
        X : array of shape (n_clips, n_samples) or list of arrays or paths
            As in :meth:`fit`.

        Returns
        -------
        ndarray of shape (n_clips, n_bins, n_frames), dtype float32
        """
        check_is_fitted(self)
        settings = self._settings()
        if settings["n_bins"] != self.n_bins_:
            raise ValueError(
                f"{type(self).__name__}: parameters now give {settings['n_bins']} "
                f"bins but fit saw {self.n_bins_}; fit again"
            )
        return self._standardized(self._features(X, settings))

    def _learn(self, features: np.ndarray | None, settings: dict) -> None:
        self.n_fft_ = settings["n_fft"]
        self.hop_length_ = settings["hop"]
        self.n_bins_ = settings["n_bins"]
        if features is None:
            self.mean_ = self.scale_ = None
            return
        self.mean_ = features.mean(axis=(0, 2), dtype=np.float64)
        scale = features.std(axis=(0, 2), dtype=np.float64)
        # a constant band (silence under fmin, say) is centred but not scaled
        scale[scale < 10 * np.finfo(np.float32).eps] = 1.0
        self.scale_ = scale

    def _standardized(self, features: np.ndarray) -> np.ndarray:
        if self.mean_ is None:
            return features
        mean = self.mean_.astype(np.float32)[:, None]
        scale = self.scale_.astype(np.float32)[:, None]
        return (features - mean) / scale

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # X holds waveforms (or paths), not feature columns: sklearn's array-based
        # checks would feed 3-sample "clips"; tests/test_audio_features.py runs
        # the API checks that need no data and tests the behaviour
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags


class LogMelSpectrogram(_ClipFeatures):
    """Compressed mel spectrogram of every clip, z-scored per band.

    The input of paper 002's networks: 128 mel bands of a 23 ms, 50 % overlap
    STFT (512-sample Hann window, hop 256 at 22050 Hz, see :func:`frame_grid`),
    compressed as ``log10(1 + 10 S)`` with ``S`` the mel spectrogram of the STFT
    magnitude (paper 002's "energy-magnitude spectrogram"; ``power=2`` takes the
    energy instead), then z-scored per band with the mean and standard deviation
    of all frames of the clips seen in ``fit``. A 3 s clip at 22050 Hz gives
    ``1 + 66150 // 256 = 259`` frames. :meth:`schindler_knees_2019` gives paper
    004's 80-band variant.

    Parameters
    ----------
    sr : int, default=22050
        Sampling rate in Hz of the clips (paths are resampled to it).
    n_mels : int, default=128
        Number of mel bands.
    n_fft : int, default=None
        Window (and FFT) length in samples; None derives it from ``window_ms``.
    window_ms : float, default=23.0
        Window length in ms, rounded to a power of two in samples.
    hop_ratio : float, default=0.5
        Hop as a fraction of the window (0.5: 50 % overlap).
    fmin, fmax : float, default=0.0, None
        Lowest and highest mel filter edge in Hz; None is ``sr / 2``.
    power : float, default=1.0
        Exponent of the STFT magnitude before the mel filters: 1 magnitude,
        2 energy.
    compression : {"log10", "db"} or None, default="log10"
        ``"log10"``: ``log10(1 + 10 S)``. ``"db"``: decibels of ``S ** (2 /
        power)`` (librosa's ``power_to_db``, ``ref=1``, floor at -100 dB, no
        ``top_db`` clipping so that no clip depends on the others). None: ``S``.
    standardize : bool, default=True
        Learn a per-band mean and standard deviation in ``fit`` and z-score with
        them; a constant band is centred only.
    backend : {"librosa", "torch"}, default="librosa"
        ``"torch"`` computes each batch with :func:`torch.stft` and the same
        filter bank as one matrix product, on ``device``.
    device : str, default="auto"
        Torch device for ``backend="torch"``: ``"auto"`` is CUDA when available,
        else CPU. Ignored by librosa.
    batch_size : int, default=32
        Clips computed at once (bounds memory).

    Attributes
    ----------
    n_fft_, hop_length_ : int
        Window and hop in samples.
    n_bins_ : int
        ``n_mels``.
    mean_, scale_ : ndarray of shape (n_mels,) or None
        Per-band mean and standard deviation learnt in ``fit`` (None without
        ``standardize``).

    See Also
    --------
    CyclicTempogram, CENSChroma : The other inputs of paper 002.
    MultiInputFeatures : All three on one frame grid.
    sklearn_musemb.audio.segments.segment_audio : Cut tracks into 3 s clips.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_musemb.audio.features import LogMelSpectrogram
    >>> t = np.arange(22050) / 22050
    >>> X = np.stack([np.sin(2 * np.pi * f * t) for f in (220, 440, 880)])
    >>> mel = LogMelSpectrogram(n_mels=64)
    >>> Z = mel.fit_transform(X)
    >>> Z.shape, Z.dtype
    ((3, 64, 87), dtype('float32'))
    >>> bool(abs(Z.mean(axis=(0, 2))).max() < 1e-4)
    True
    """

    def __init__(
        self,
        *,
        sr: int = 22050,
        n_mels: int = 128,
        n_fft: int | None = None,
        window_ms: float = 23.0,
        hop_ratio: float = 0.5,
        fmin: float = 0.0,
        fmax: float | None = None,
        power: float = 1.0,
        compression: str | None = "log10",
        standardize: bool = True,
        backend: str = "librosa",
        device: str | None = "auto",
        batch_size: int = 32,
    ) -> None:
        self.sr = sr
        self.n_mels = n_mels
        self.n_fft = n_fft
        self.window_ms = window_ms
        self.hop_ratio = hop_ratio
        self.fmin = fmin
        self.fmax = fmax
        self.power = power
        self.compression = compression
        self.standardize = standardize
        self.backend = backend
        self.device = device
        self.batch_size = batch_size

    @classmethod
    def schindler_knees_2019(cls, **params: Any) -> LogMelSpectrogram:
        """Paper 004's input: 80 log-mel bands, 16 Hz - 11 kHz, STFT 2048 / 1024.

        Schindler & Knees (2019) resample to 22050 Hz, take a Hann STFT of 2048
        samples with 50 % overlap and 80 mel filters from 16 Hz to 11 kHz,
        log-compressed (read here as decibels of the mel energy), and do not
        normalise the features (the network batch-normalises its input). They
        read 6 s from a 3 s offset, which gives 80 x 130; that excerpt is the
        loader's job: ``load_audio(path, offset=3.0, duration=6.0)``, or
        ``segment_audio(tracks, segment_s=6.0, offset_s=3.0, max_segments=1)``.

        Parameters
        ----------
        **params
            Overrides of any parameter (``backend="torch"``, say).

        Returns
        -------
        LogMelSpectrogram

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_musemb.audio.features import LogMelSpectrogram
        >>> X = np.random.default_rng(0).normal(0, 0.1, (1, 6 * 22050))
        >>> LogMelSpectrogram.schindler_knees_2019().fit_transform(X).shape
        (1, 80, 130)
        """
        settings = {
            "sr": 22050,
            "n_mels": 80,
            "n_fft": 2048,
            "hop_ratio": 0.5,
            "fmin": 16.0,
            "fmax": 11000.0,
            "power": 2.0,
            "compression": "db",
            "standardize": False,
        }
        settings.update(params)
        return cls(**settings)

    def _settings(self) -> dict:
        name = type(self).__name__
        settings = self._common_settings()
        nyquist = settings["sr"] / 2
        fmin = check_finite_number(self.fmin, "fmin", name)
        fmax = nyquist if self.fmax is None else self.fmax
        fmax = check_finite_number(fmax, "fmax", name, strict=True)
        if not fmin < fmax <= nyquist:
            raise ValueError(
                f"{name}: need 0 <= fmin < fmax <= sr / 2 = {nyquist}, got "
                f"fmin={fmin}, fmax={fmax}"
            )
        settings.update(
            n_bins=check_positive_int(self.n_mels, "n_mels", name),
            fmin=fmin,
            fmax=fmax,
            power=check_finite_number(self.power, "power", name, strict=True),
            compression=_check_choice(
                self.compression, "compression", COMPRESSIONS, name
            ),
        )
        return settings

    def _compute(self, clips: Any, s: dict) -> Any:
        librosa = _require_librosa(type(self).__name__)
        basis = _mel_basis(s["sr"], s["n_fft"], s["n_bins"], s["fmin"], s["fmax"])
        if s["backend"] == "torch":
            mel = _torch_mel(clips, s["sr"], s["n_fft"], s["hop"], basis, s["power"])
            return _torch_compress(mel, s["compression"], s["power"])
        spectrum = (
            np.abs(
                librosa.stft(
                    clips, n_fft=s["n_fft"], hop_length=s["hop"], pad_mode="constant"
                )
            )
            ** s["power"]
        )
        return _compress(basis @ spectrum, s["compression"], s["power"])


class CyclicTempogram(_ClipFeatures):
    """Cyclic tempogram: tempo salience folded into one tempo octave.

    librosa's autocorrelation tempogram (a Hann window of ``win_length`` = 384
    frames of the onset strength, which is librosa's 128-band mel spectral flux
    computed on this transformer's STFT grid) has one row per lag; tempi a factor
    of two apart are summed into tempo classes, as in the cyclic tempogram of
    Grosche, Müller & Kurth (2010). Bin ``j`` holds tempo class
    ``tempo_min * 2 ** (j / n_bins)`` bpm and its octaves, sampled at
    ``n_tempo_octaves`` octaves (linear interpolation between lags) and
    averaged: with the defaults, 30 bins of 1/30 octave from 30 to 480 bpm, so
    60, 120 and 240 bpm all land in bin 0 and 90 bpm in bin 17.5. The frame grid
    is :class:`LogMelSpectrogram`'s (259 frames for 3 s at 22050 Hz).

    Parameters
    ----------
    sr : int, default=22050
        Sampling rate in Hz.
    n_bins : int, default=30
        Tempo classes per octave. Paper 002's network pools every input to 16
        bins, so any number works; 30 (40 cents each) resolves tempo better
        than the 15 used by Grosche et al. for short clips.
    win_length : int, default=384
        Autocorrelation window in frames (librosa's default, as paper 002).
    tempo_min : float, default=30.0
        Tempo in bpm of class 0 in the lowest octave sampled.
    n_tempo_octaves : int, default=4
        Octaves summed into each class (``tempo_min`` to ``tempo_min * 2 **
        n_tempo_octaves`` bpm). Every tempo must fall on a lag of at least one
        frame and under ``win_length``.
    n_fft, window_ms, hop_ratio
        The STFT of the onset strength, as in :class:`LogMelSpectrogram`.
    standardize : bool, default=False
        Z-score every bin with statistics from ``fit`` (paper 002 standardises
        the mel spectrogram only).
    backend, device, batch_size
        As in :class:`LogMelSpectrogram`.

    Attributes
    ----------
    n_fft_, hop_length_ : int
        Window and hop in samples.
    n_bins_ : int
        ``n_bins``.
    mean_, scale_ : ndarray of shape (n_bins,) or None
        Standardisation statistics (None without ``standardize``).

    Examples
    --------
    Clicks at 120 bpm: the salience peaks in class 0 (30, 60, 120, 240 bpm).

    >>> import numpy as np
    >>> from sklearn_musemb.audio.features import CyclicTempogram
    >>> X = np.zeros((1, 4 * 22050))
    >>> X[0, ::11025] = 1.0
    >>> C = CyclicTempogram().fit_transform(X)
    >>> C.shape
    (1, 30, 345)
    >>> int(C[0].mean(axis=1).argmax())
    0
    """

    def __init__(
        self,
        *,
        sr: int = 22050,
        n_bins: int = 30,
        win_length: int = 384,
        tempo_min: float = 30.0,
        n_tempo_octaves: int = 4,
        n_fft: int | None = None,
        window_ms: float = 23.0,
        hop_ratio: float = 0.5,
        standardize: bool = False,
        backend: str = "librosa",
        device: str | None = "auto",
        batch_size: int = 32,
    ) -> None:
        self.sr = sr
        self.n_bins = n_bins
        self.win_length = win_length
        self.tempo_min = tempo_min
        self.n_tempo_octaves = n_tempo_octaves
        self.n_fft = n_fft
        self.window_ms = window_ms
        self.hop_ratio = hop_ratio
        self.standardize = standardize
        self.backend = backend
        self.device = device
        self.batch_size = batch_size

    def _settings(self) -> dict:
        name = type(self).__name__
        settings = self._common_settings()
        n_bins = check_positive_int(self.n_bins, "n_bins", name)
        win_length = check_positive_int(self.win_length, "win_length", name)
        if win_length < 4:
            raise ValueError(f"{name}: win_length must be at least 4, got {win_length}")
        tempo_min = check_finite_number(self.tempo_min, "tempo_min", name, strict=True)
        n_oct = check_positive_int(self.n_tempo_octaves, "n_tempo_octaves", name)
        frame_rate = settings["sr"] / settings["hop"]
        longest = 60 * frame_rate / tempo_min
        top = tempo_min * 2 ** (n_oct - 1 / n_bins)
        shortest = 60 * frame_rate / top
        if longest > win_length - 2:
            raise ValueError(
                f"{name}: tempo_min={tempo_min} bpm is a lag of {longest:.1f} frames "
                f"({frame_rate:.2f} frames/s), beyond win_length={win_length}: raise "
                "tempo_min or win_length"
            )
        if shortest < 1:
            raise ValueError(
                f"{name}: the top tempo {top:.0f} bpm (tempo_min * 2 ** "
                f"n_tempo_octaves) is a lag under one frame ({frame_rate:.2f} "
                "frames/s): lower n_tempo_octaves or tempo_min"
            )
        settings.update(
            n_bins=n_bins,
            win_length=win_length,
            fold=_cyclic_fold(frame_rate, win_length, n_bins, tempo_min, n_oct),
        )
        return settings

    def _compute(self, clips: Any, s: dict) -> Any:
        librosa = _require_librosa(type(self).__name__)
        if s["backend"] == "torch":
            import torch

            env = _torch_onset_envelope(clips, s["sr"], s["n_fft"], s["hop"])
            tempogram = _torch_tempogram(env, s["win_length"])
            return torch.tensor(s["fold"]).to(clips.device) @ tempogram
        env = _onset_envelope(clips, s["sr"], s["n_fft"], s["hop"])
        tempogram = librosa.feature.tempogram(
            onset_envelope=env,
            sr=s["sr"],
            hop_length=s["hop"],
            win_length=s["win_length"],
        )
        return s["fold"] @ tempogram.astype(np.float32)


class CENSChroma(_ClipFeatures):
    """CENS chroma (Chroma Energy Normalized Statistics) from a 36-bin CQT.

    librosa's :func:`~librosa.feature.chroma_cens` on the common frame grid: a
    constant-Q transform of ``n_octaves`` octaves from ``fmin`` (C1, 32.7 Hz)
    with ``bins_per_octave`` = 36 bins, folded into ``n_chroma`` = 12 pitch
    classes (C first), L1-normalised, quantised, smoothed over
    ``win_len_smooth`` frames and L2-normalised, as paper 002. The CQT filters
    are built once per setting and cached (librosa rebuilds them per call, two
    thirds of its cost), and the tuning is fixed (``tuning=0``: A4 = 440 Hz)
    rather than estimated per clip, so that every clip gets the same filters.
    The result equals ``librosa.feature.chroma_cens(y=clip, tuning=0, ...)``.
    The lowest octave's filters are about 1 s long at a 1/64 rate, so clips
    under about 3 s are shorter than its FFT and librosa warns.

    Parameters
    ----------
    sr : int, default=22050
        Sampling rate in Hz.
    bins_per_octave : int, default=36
        CQT resolution; a multiple of ``n_chroma``.
    n_chroma : int, default=12
        Pitch classes.
    n_octaves : int, default=7
        CQT octaves from ``fmin``.
    fmin : float, default=None
        Lowest CQT frequency in Hz; None is C1 (32.70 Hz).
    win_len_smooth : int or None, default=41
        Smoothing window in frames (librosa's default, about 0.48 s at the
        default hop); None does not smooth.
    n_fft, window_ms, hop_ratio
        The frame grid, as in :class:`LogMelSpectrogram` (only the hop matters
        here).
    standardize : bool, default=False
        Z-score every pitch class with statistics from ``fit``.
    backend, device, batch_size
        As in :class:`LogMelSpectrogram`. The torch backend halves the rate
        between octaves by FFT truncation where librosa uses soxr, so its
        values differ slightly from librosa's.

    Attributes
    ----------
    n_fft_, hop_length_ : int
        Window and hop in samples.
    n_bins_ : int
        ``n_chroma``.
    mean_, scale_ : ndarray of shape (n_chroma,) or None
        Standardisation statistics (None without ``standardize``).

    Examples
    --------
    A 440 Hz tone is an A (pitch class 9):

    >>> import numpy as np
    >>> from sklearn_musemb.audio.features import CENSChroma
    >>> t = np.arange(3 * 22050) / 22050
    >>> X = np.sin(2 * np.pi * 440 * t)[np.newaxis]
    >>> C = CENSChroma().fit_transform(X)
    >>> C.shape
    (1, 12, 259)
    >>> int(C[0].mean(axis=1).argmax())
    9
    """

    def __init__(
        self,
        *,
        sr: int = 22050,
        bins_per_octave: int = 36,
        n_chroma: int = 12,
        n_octaves: int = 7,
        fmin: float | None = None,
        win_len_smooth: int | None = 41,
        n_fft: int | None = None,
        window_ms: float = 23.0,
        hop_ratio: float = 0.5,
        standardize: bool = False,
        backend: str = "librosa",
        device: str | None = "auto",
        batch_size: int = 32,
    ) -> None:
        self.sr = sr
        self.bins_per_octave = bins_per_octave
        self.n_chroma = n_chroma
        self.n_octaves = n_octaves
        self.fmin = fmin
        self.win_len_smooth = win_len_smooth
        self.n_fft = n_fft
        self.window_ms = window_ms
        self.hop_ratio = hop_ratio
        self.standardize = standardize
        self.backend = backend
        self.device = device
        self.batch_size = batch_size

    def _settings(self) -> dict:
        name = type(self).__name__
        settings = self._common_settings()
        bpo = check_positive_int(self.bins_per_octave, "bins_per_octave", name)
        n_chroma = check_positive_int(self.n_chroma, "n_chroma", name)
        if bpo % n_chroma:
            raise ValueError(
                f"{name}: bins_per_octave={bpo} must be a multiple of "
                f"n_chroma={n_chroma}"
            )
        n_octaves = check_positive_int(self.n_octaves, "n_octaves", name)
        fmin = 440.0 * 2 ** (-45 / 12) if self.fmin is None else self.fmin  # C1
        fmin = check_finite_number(fmin, "fmin", name, strict=True)
        smooth = self.win_len_smooth
        if smooth is not None:
            smooth = check_positive_int(smooth, "win_len_smooth", name)
        if bpo * n_octaves < 2:
            raise ValueError(f"{name}: the CQT needs at least 2 bins")
        settings.update(
            n_bins=n_chroma,
            bins_per_octave=bpo,
            n_octaves=n_octaves,
            fmin=fmin,
            win_len_smooth=smooth,
            plan=_cqt_plan(settings["sr"], settings["hop"], fmin, bpo * n_octaves, bpo),
        )
        return settings

    def _compute(self, clips: Any, s: dict) -> Any:
        librosa = _require_librosa(type(self).__name__)
        if s["backend"] == "torch":
            chroma_map = _cq_to_chroma(
                s["plan"]["n_bins"], s["bins_per_octave"], s["n_bins"], s["fmin"]
            )
            cqt = _torch_cqt_magnitude(clips, s["plan"])
            return _torch_cens(cqt, chroma_map, s["win_len_smooth"])
        cqt = _cqt_magnitude(clips, s["sr"], s["hop"], s["plan"])
        return librosa.feature.chroma_cens(
            C=cqt,
            sr=s["sr"],
            hop_length=s["hop"],
            fmin=s["fmin"],
            bins_per_octave=s["bins_per_octave"],
            n_chroma=s["n_bins"],
            n_octaves=s["n_octaves"],
            win_len_smooth=s["win_len_smooth"],
        )


@functools.lru_cache(maxsize=8)
def _cq_to_chroma(n_input: int, bins_per_octave: int, n_chroma: int, fmin: float):
    librosa = _require_librosa("CENSChroma")
    chroma_map = librosa.filters.cq_to_chroma(
        n_input, bins_per_octave=bins_per_octave, n_chroma=n_chroma, fmin=fmin
    )
    return _frozen(chroma_map.astype(np.float32))


class MultiInputFeatures(TransformerMixin, BaseEstimator):
    """Log-mel, cyclic tempogram and CENS chroma stacked on one frame grid.

    The input of paper 002's multi-input network: the three features of every
    clip, cut to the same number of frames (the CQT may give one frame fewer
    than the STFT for some lengths) and concatenated along the bin axis, mel
    first. ``input_bands_`` gives the bin count of each so a network can split
    them again: ``np.split(Z, np.cumsum(input_bands_)[:-1], axis=1)``. Paths are
    read once and shared by the three.

    Parameters
    ----------
    mel : LogMelSpectrogram, default=None
        The mel part; None is ``LogMelSpectrogram()`` (128 bands, z-scored).
    tempogram : CyclicTempogram, default=None
        The tempo part; None is ``CyclicTempogram()`` (30 classes).
    chroma : CENSChroma, default=None
        The chroma part; None is ``CENSChroma()`` (12 pitch classes).

    The three must share ``sr`` and the hop (:func:`frame_grid`), which is
    what puts them on one frame grid; their other parameters (backend,
    standardisation...) are their own and reachable as ``mel__n_mels`` and so
    on once the parts are given.

    Attributes
    ----------
    mel_, tempogram_, chroma_ : transformer
        The fitted clones of the parts.
    input_bands_ : tuple of int
        Bins of each part in the output, ``(128, 30, 12)`` by default.
    hop_length_ : int
        The common hop in samples.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_musemb.audio.features import (
    ...     CENSChroma, CyclicTempogram, LogMelSpectrogram, MultiInputFeatures)
    >>> X = np.random.default_rng(0).normal(0, 0.1, (2, 3 * 22050))
    >>> multi = MultiInputFeatures(mel=LogMelSpectrogram(n_mels=40),
    ...                            tempogram=CyclicTempogram(n_bins=16))
    >>> Z = multi.fit_transform(X)
    >>> Z.shape, multi.input_bands_
    ((2, 68, 259), (40, 16, 12))
    >>> mel, tempo, chroma = np.split(Z, np.cumsum(multi.input_bands_)[:-1], axis=1)
    >>> chroma.shape
    (2, 12, 259)
    """

    def __init__(
        self,
        *,
        mel: LogMelSpectrogram | None = None,
        tempogram: CyclicTempogram | None = None,
        chroma: CENSChroma | None = None,
    ) -> None:
        self.mel = mel
        self.tempogram = tempogram
        self.chroma = chroma

    def _parts(self) -> tuple[tuple[str, _ClipFeatures], ...]:
        name = type(self).__name__
        parts = []
        for attr, cls in (
            ("mel", LogMelSpectrogram),
            ("tempogram", CyclicTempogram),
            ("chroma", CENSChroma),
        ):
            part = getattr(self, attr)
            if part is None:
                part = cls()
            elif not isinstance(part, cls):
                raise ValueError(
                    f"{name}: {attr} must be a {cls.__name__} or None, got "
                    f"{type(part).__name__}"
                )
            parts.append((attr, part))
        grids = {attr: (part.sr, part._settings()["hop"]) for attr, part in parts}
        if len(set(grids.values())) > 1:
            described = ", ".join(
                f"{attr}: sr={sr}, hop={hop}" for attr, (sr, hop) in grids.items()
            )
            raise ValueError(
                f"{name}: mel, tempogram and chroma must share sr and hop to share "
                f"a frame grid, got {described}"
            )
        return tuple(parts)

    def _clips(self, X: Any, parts) -> np.ndarray:
        sr = parts[0][1].sr
        min_samples = max(part._settings()["n_fft"] for _, part in parts)
        return _check_clips(X, sr, type(self).__name__, min_samples)

    @staticmethod
    def _stack(features: list[np.ndarray]) -> np.ndarray:
        n_frames = min(f.shape[-1] for f in features)
        return np.concatenate([f[..., :n_frames] for f in features], axis=1)

    def fit(self, X: Any, y: Any = None) -> MultiInputFeatures:
        """Fit the three parts on ``X``.

        Parameters
        ----------
        X : array of shape (n_clips, n_samples) or list of arrays or paths
            Equal-length mono clips at the parts' ``sr``.
        y : None
            Ignored.

        Returns
        -------
        self
        """
        self.fit_transform(X)
        return self

    def fit_transform(self, X: Any, y: Any = None) -> np.ndarray:
        """Fit the three parts on ``X`` and return the stacked features.

        Parameters
        ----------
        X : array of shape (n_clips, n_samples) or list of arrays or paths
            Equal-length mono clips at the parts' ``sr``.
        y : None
            Ignored.

        Returns
        -------
        ndarray of shape (n_clips, ``sum(input_bands_)``, n_frames), dtype float32
        """
        parts = self._parts()
        clips = self._clips(X, parts)
        fitted, features = [], []
        for attr, part in parts:
            part = clone(part)
            features.append(part.fit_transform(clips))
            fitted.append((attr, part))
        for attr, part in fitted:
            setattr(self, f"{attr}_", part)
        self.input_bands_ = tuple(part.n_bins_ for _, part in fitted)
        self.hop_length_ = fitted[0][1].hop_length_
        return self._stack(features)

    def transform(self, X: Any) -> np.ndarray:
        """Stacked features of every clip, each part standardised as fitted.

        Parameters
        ----------
        X : array of shape (n_clips, n_samples) or list of arrays or paths
            Equal-length mono clips at the parts' ``sr``.

        Returns
        -------
        ndarray of shape (n_clips, ``sum(input_bands_)``, n_frames), dtype float32
        """
        check_is_fitted(self)
        parts = ((a, getattr(self, f"{a}_")) for a in ("mel", "tempogram", "chroma"))
        parts = tuple(parts)
        clips = self._clips(X, parts)
        return self._stack([part.transform(clips) for _, part in parts])

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags
