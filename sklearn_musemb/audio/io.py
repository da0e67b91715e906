"""Reading audio: one mono waveform from a file or an array."""

from __future__ import annotations

import os
import warnings
from numbers import Real
from types import ModuleType
from typing import Any

import numpy as np

from ..utils.validation import check_finite_number, check_positive_int

_INSTALL_HINT = 'pip install "sklearn-musemb[audio]"'


def _require_librosa(owner: str) -> ModuleType:
    """Import librosa on first use, or say how to install it.

    librosa (and numba under it) takes seconds to import and is an optional
    dependency, so the audio modules import it only when they compute something.
    """
    try:
        import librosa
    except ImportError as err:
        raise ImportError(
            f"{owner} needs librosa, an optional dependency: {_INSTALL_HINT}"
        ) from err
    return librosa


def _is_path(source: Any) -> bool:
    return isinstance(source, str | os.PathLike)


def _check_waveform(y: Any, where: str) -> np.ndarray:
    """``y`` as a finite 1-d float32 array, or a ValueError that names ``where``."""
    y = np.asarray(y)
    if y.dtype.kind not in "fiu" or y.dtype == np.bool_:
        raise ValueError(
            f"{where} must be a waveform of real numbers, got dtype {y.dtype}"
        )
    if y.dtype.kind in "iu":
        raise ValueError(
            f"{where} holds integers ({y.dtype}); audio must be float samples in "
            "[-1, 1]: divide 16-bit PCM by 32768"
        )
    if y.ndim != 1:
        hint = " (mix channels to mono, e.g. y.mean(axis=0))" if y.ndim == 2 else ""
        raise ValueError(
            f"{where} must be a 1-d mono waveform, got shape {y.shape}{hint}"
        )
    if y.size == 0:
        raise ValueError(f"{where} is empty (0 samples)")
    finite = np.isfinite(y)
    if not finite.all():
        first = int(np.flatnonzero(~finite)[0])
        raise ValueError(
            f"{where} holds NaN or infinite samples (the first at sample {first})"
        )
    return y.astype(np.float32, copy=False)


def load_audio(
    source: str | os.PathLike | np.ndarray,
    sr: int = 22050,
    *,
    offset: float = 0.0,
    duration: float | None = None,
) -> np.ndarray:
    """Read a mono float32 waveform at ``sr`` Hz from a file or an array.

    Files are decoded and resampled by :func:`librosa.load` (mono, soxr high
    quality resampling); arrays are taken as already sampled at ``sr``. Either
    way the waveform is cut to ``duration`` seconds starting ``offset`` seconds
    in, so ``load_audio(path, offset=3.0, duration=6.0)`` reads the 6 s excerpt
    that Schindler & Knees (2019) use.

    Parameters
    ----------
    source : str, path-like or array of shape (n_samples,)
        An audio file any of librosa's backends reads (WAV, FLAC, OGG, MP3...)
        or a mono waveform.
    sr : int, default=22050
        Sampling rate in Hz of the returned waveform (and of ``source`` when it
        is an array).
    offset : float, default=0.0
        Start, in seconds from the beginning of ``source``.
    duration : float, default=None
        Length to read in seconds; None reads to the end. A shorter file gives
        a shorter waveform (no padding).

    Returns
    -------
    ndarray of shape (n_samples,), dtype float32

    Raises
    ------
    ValueError
        If the file does not exist or cannot be decoded, if the array is not a
        finite 1-d float waveform, or if nothing is left after ``offset``.
    ImportError
        If ``source`` is a path and librosa is not installed.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_musemb.audio.io import load_audio
    >>> y = np.sin(2 * np.pi * 440 * np.arange(22050) / 22050)
    >>> load_audio(y, offset=0.25, duration=0.5).shape
    (11025,)
    >>> load_audio("missing.wav")
    Traceback (most recent call last):
    ...
    ValueError: load_audio: no such file: 'missing.wav'
    """
    sr = check_positive_int(sr, "sr", "load_audio")
    offset = check_finite_number(offset, "offset", "load_audio")
    if duration is not None:
        duration = check_finite_number(duration, "duration", "load_audio", strict=True)
    if _is_path(source):
        y = _load_file(source, sr, offset, duration)
        where = f"load_audio: audio read from {os.fspath(source)!r}"
    else:
        if isinstance(source, Real):
            raise ValueError(
                f"load_audio: source must be a path or a 1-d waveform, got {source!r}"
            )
        y = _check_waveform(source, "load_audio: source")
        start = round(offset * sr)
        stop = None if duration is None else start + round(duration * sr)
        if start >= y.size:
            raise ValueError(
                f"load_audio: offset={offset} s is past the end of the waveform "
                f"({y.size / sr:.3f} s at sr={sr})"
            )
        return y[start:stop].copy()
    if y.size == 0:
        raise ValueError(
            f"{where} is empty: offset={offset} s may lie past the end of the file"
        )
    return _check_waveform(y, where)


def _load_file(
    path: str | os.PathLike, sr: int, offset: float, duration: float | None
) -> np.ndarray:
    name = os.fspath(path)
    if not os.path.exists(name):
        raise ValueError(f"load_audio: no such file: {name!r}")
    if os.path.isdir(name):
        raise ValueError(f"load_audio: {name!r} is a directory, not an audio file")
    librosa = _require_librosa("load_audio")
    try:
        with warnings.catch_warnings():
            # librosa warns before falling back from soundfile to audioread; the
            # fallback's own failure is what the user needs to see
            warnings.simplefilter("ignore", UserWarning)
            warnings.simplefilter("ignore", FutureWarning)
            y, _ = librosa.load(
                name, sr=sr, mono=True, offset=offset, duration=duration
            )
    except Exception as err:  # soundfile, audioread and soxr raise their own types
        raise ValueError(
            f"load_audio: could not decode {name!r} as audio "
            f"({type(err).__name__}: {err})"
        ) from err
    return y
