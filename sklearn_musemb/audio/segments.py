"""Tracks to fixed-length segments, and segment embeddings back to tracks."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import scipy.sparse
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.utils import _safe_indexing
from sklearn.utils.validation import check_is_fitted

from ..utils.validation import check_finite_number, check_positive_int
from .features import _check_choice
from .io import _check_waveform, _is_path, load_audio

AGGREGATIONS = ("mean", "max")
ERRORS = ("raise", "skip")


def _track_list(tracks: Any, owner: str) -> list:
    """``tracks`` as a list of 1-d waveforms or paths (not loaded yet)."""
    if _is_path(tracks):
        raise ValueError(
            f"{owner}: tracks must be a list of waveforms or paths, got the single "
            f"path {tracks!r}: pass [path]"
        )
    if isinstance(tracks, np.ndarray) and tracks.dtype != object:
        if tracks.ndim != 2:
            raise ValueError(
                f"{owner}: tracks must be a list of 1-d waveforms or a 2-d array "
                f"(n_tracks, n_samples), got an array of shape {tracks.shape}"
                + (" (for one track pass [y])" if tracks.ndim == 1 else "")
            )
        return list(tracks)
    try:
        items = list(tracks)
    except TypeError:
        raise ValueError(
            f"{owner}: tracks must be a list of 1-d waveforms or paths, got "
            f"{type(tracks).__name__}"
        ) from None
    if not items:
        raise ValueError(f"{owner}: no tracks given (empty list)")
    return items


def segment_audio(
    tracks: Any,
    sr: int = 22050,
    segment_s: float = 3.0,
    offset_s: float = 0.0,
    max_segments: int | None = None,
    *,
    errors: str = "raise",
) -> tuple[np.ndarray, np.ndarray]:
    """Cut tracks into non-overlapping segments of ``segment_s`` seconds.

    Track ``k`` of ``n`` samples gives ``(n - offset) // segment`` segments (in
    samples, ``segment = round(segment_s * sr)``, ``offset = round(offset_s *
    sr)``), at most ``max_segments``: the segment ``j`` is the samples
    ``offset + j * segment`` to ``offset + (j + 1) * segment``, and an
    incomplete tail is dropped. Paper 002 uses every 3 s segment; paper 004
    reads one 6 s excerpt from a 3 s offset (``segment_s=6.0, offset_s=3.0,
    max_segments=1``).

    Parameters
    ----------
    tracks : list of (arrays of shape (n_samples,) or paths), or 2-d array
        Mono waveforms at ``sr`` Hz (lengths may differ), or audio files,
        read with :func:`~sklearn_musemb.audio.io.load_audio` at ``sr`` (only
        as far as the last segment when ``max_segments`` is set).
    sr : int, default=22050
        Sampling rate in Hz.
    segment_s : float, default=3.0
        Segment length in seconds.
    offset_s : float, default=0.0
        Where the first segment starts, in seconds (to skip fade-ins).
    max_segments : int, default=None
        Most segments per track (the first ones); None takes all.
    errors : {"raise", "skip"}, default="raise"
        What to do with a track shorter than ``offset_s + segment_s``:
        ``"raise"`` a ValueError naming it, or ``"skip"`` it with a warning
        (it then has no row in ``track_index``). Unreadable files and invalid
        waveforms raise either way.

    Returns
    -------
    segments : ndarray of shape (n_segments, segment), dtype float32
        The segments of all tracks, track by track, in time order.
    track_index : ndarray of shape (n_segments,), dtype int64
        The track (position in ``tracks``) of every segment.

    Raises
    ------
    ValueError
        If a track is too short (with ``errors="raise"``) or none is long
        enough, or a track is not a finite 1-d float waveform or a readable
        audio file.

    See Also
    --------
    aggregate_segments : Pool segment embeddings per track.
    TrackEmbedder : Both around any segment transformer.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_musemb.audio.segments import segment_audio
    >>> tracks = [np.zeros(7 * 100), np.ones(3 * 100)]
    >>> segments, track_index = segment_audio(tracks, sr=100, segment_s=2.0)
    >>> segments.shape, track_index.tolist()
    ((4, 200), [0, 0, 0, 1])
    >>> segments, track_index = segment_audio(
    ...     tracks, sr=100, segment_s=2.0, offset_s=0.5, max_segments=2)
    >>> segments.shape, track_index.tolist()
    ((3, 200), [0, 0, 1])
    """
    owner = "segment_audio"
    sr, seg, off, max_segments = _check_segment_params(
        sr, segment_s, offset_s, max_segments, owner
    )
    _check_choice(errors, "errors", ERRORS, owner)
    items = _track_list(tracks, owner)
    pieces, counts, skipped = [], [], []
    for k, item in enumerate(items):
        y = _read_track(item, k, sr, off, seg, max_segments, owner)
        n = (y.size - off) // seg if y.size >= off else 0
        if max_segments is not None:
            n = min(n, max_segments)
        if n < 1:
            message = (
                f"{owner}: track {k}{_named(item)} lasts {y.size / sr:.3f} s, "
                f"shorter than offset_s + segment_s = {(off + seg) / sr:.3f} s"
            )
            if errors == "raise":
                raise ValueError(message)
            skipped.append(k)
            counts.append(0)
            continue
        pieces.append(y[off : off + n * seg].reshape(n, seg))
        counts.append(n)
    if skipped:
        warnings.warn(
            f"{owner}: skipped {len(skipped)} track(s) shorter than offset_s + "
            f"segment_s = {(off + seg) / sr:.3f} s: {skipped}",
            stacklevel=2,
        )
    if not pieces:
        raise ValueError(
            f"{owner}: no track lasts offset_s + segment_s = {(off + seg) / sr:.3f} s"
        )
    track_index = np.repeat(np.arange(len(items), dtype=np.int64), counts)
    return np.concatenate(pieces).astype(np.float32, copy=False), track_index


def _named(item: Any) -> str:
    return f" ({str(item)!r})" if _is_path(item) else ""


def _check_segment_params(
    sr: Any, segment_s: Any, offset_s: Any, max_segments: Any, owner: str
) -> tuple[int, int, int, int | None]:
    sr = check_positive_int(sr, "sr", owner)
    segment_s = check_finite_number(segment_s, "segment_s", owner, strict=True)
    offset_s = check_finite_number(offset_s, "offset_s", owner)
    if max_segments is not None:
        max_segments = check_positive_int(max_segments, "max_segments", owner)
    seg = round(segment_s * sr)
    if seg < 1:
        raise ValueError(f"{owner}: segment_s={segment_s} is under one sample")
    return sr, seg, round(offset_s * sr), max_segments


def _read_track(
    item: Any,
    k: int,
    sr: int,
    off: int,
    seg: int,
    max_segments: int | None,
    owner: str,
) -> np.ndarray:
    if _is_path(item):
        duration = None if max_segments is None else (off + max_segments * seg) / sr
        try:
            return load_audio(item, sr, duration=duration)
        except ValueError as err:
            raise ValueError(f"{owner}: track {k}: {err}") from err
    return _check_waveform(item, f"{owner}: track {k}")


def aggregate_segments(
    embeddings: Any,
    track_index: Any,
    how: str = "mean",
    n_tracks: int | None = None,
) -> np.ndarray:
    """Pool the embeddings of each track's segments into one track embedding.

    Paper 002 represents a track by the mean of its 3 s segment embeddings.
    One sparse product (mean) or one ``np.maximum.at`` (max) over all segments;
    nothing loops over tracks.

    Parameters
    ----------
    embeddings : array of shape (n_segments, ...)
        One embedding per segment (any trailing shape).
    track_index : array of shape (n_segments,)
        Track of every segment, integers in ``0 .. n_tracks - 1``, in any order.
    how : {"mean", "max"}, default="mean"
        Pooling per track (element-wise).
    n_tracks : int, default=None
        Number of tracks; None is ``track_index.max() + 1``. Every track must
        have at least one segment.

    Returns
    -------
    ndarray of shape (n_tracks, ...)
        Floating point, float32 for float32 embeddings, float64 otherwise.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_musemb.audio.segments import aggregate_segments
    >>> E = np.array([[0.0, 2.0], [2.0, 4.0], [5.0, 5.0]])
    >>> aggregate_segments(E, [0, 0, 1])
    array([[1., 3.],
           [5., 5.]])
    >>> aggregate_segments(E, [0, 0, 1], how="max")[0]
    array([2., 4.])
    """
    owner = "aggregate_segments"
    _check_choice(how, "how", AGGREGATIONS, owner)
    embeddings = np.asarray(embeddings)
    if embeddings.dtype.kind not in "fiu" or embeddings.ndim < 1:
        raise ValueError(
            f"{owner}: embeddings must be a numeric array (n_segments, ...), got "
            f"dtype {embeddings.dtype} and shape {embeddings.shape}"
        )
    index = np.asarray(track_index)
    if index.ndim != 1 or index.dtype.kind not in "iu":
        raise ValueError(
            f"{owner}: track_index must be a 1-d integer array, got dtype "
            f"{index.dtype} and shape {index.shape}"
        )
    n_segments = embeddings.shape[0]
    if index.size != n_segments or n_segments == 0:
        raise ValueError(
            f"{owner}: need one track index per segment, got {index.size} for "
            f"{n_segments} segments"
        )
    if index.min() < 0:
        raise ValueError(f"{owner}: track_index holds negative values")
    n_tracks = int(index.max()) + 1 if n_tracks is None else n_tracks
    n_tracks = check_positive_int(n_tracks, "n_tracks", owner)
    if index.max() >= n_tracks:
        raise ValueError(
            f"{owner}: track_index holds {index.max()} but n_tracks={n_tracks}"
        )
    flat = embeddings.reshape(n_segments, -1)
    finite = np.isfinite(flat).all(axis=1)
    if not finite.all():
        raise ValueError(
            f"{owner}: the embedding of segment {np.flatnonzero(~finite)[0]} "
            "holds NaN or infinity"
        )
    counts = np.bincount(index, minlength=n_tracks)
    if (counts == 0).any():
        empty = np.flatnonzero(counts == 0)
        raise ValueError(
            f"{owner}: track(s) {empty[:10].tolist()} have no segment to pool"
        )
    dtype = np.float32 if embeddings.dtype == np.float32 else np.float64
    if how == "mean":
        member = scipy.sparse.csr_matrix(
            (np.ones(n_segments), (index, np.arange(n_segments))),
            shape=(n_tracks, n_segments),
        )
        pooled = (member @ flat.astype(np.float64)) / counts[:, None]
    else:
        pooled = np.full((n_tracks, flat.shape[1]), -np.inf)
        np.maximum.at(pooled, index, flat)
    return pooled.astype(dtype).reshape(n_tracks, *embeddings.shape[1:])


class TrackEmbedder(TransformerMixin, BaseEstimator):
    """Embed whole tracks with a segment transformer: segment, embed, pool.

    ``fit`` cuts the tracks into segments (:func:`segment_audio`), gives every
    segment its track's target, and fits a clone of ``estimator`` on the
    segments; ``transform`` embeds the segments of each track and pools them
    (:func:`aggregate_segments`, the mean by default, as paper 002). The
    estimator is any transformer of equal-length waveforms, usually a pipeline
    from audio features to an embedder, so a track classifier is
    ``make_pipeline(TrackEmbedder(segment_pipeline), LogisticRegression())``
    and cross-validation splits tracks, never segments of one track.

    Parameters
    ----------
    estimator : transformer
        Fitted (a clone) on segment waveforms of shape (n_segments, segment
        samples) and the targets repeated per segment. Its ``sr`` parameters,
        if any, must equal ``sr``.
    segment_s : float, default=3.0
        Segment length in seconds.
    sr : int, default=22050
        Sampling rate in Hz of the tracks (paths are resampled to it).
    offset_s : float, default=0.0
        Start of the first segment in seconds.
    max_segments : int, default=None
        Most segments per track; None takes all.
    how : {"mean", "max"}, default="mean"
        Pooling of the segment embeddings.

    Attributes
    ----------
    estimator_ : transformer
        The fitted clone of ``estimator``.
    n_segments_fit_ : int
        Segments ``estimator_`` was fitted on.

    Notes
    -----
    ``fit_params`` go to ``estimator.fit`` unchanged: per-track arrays (sample
    weights, say) are not repeated per segment. A track too short for one
    segment raises a ValueError naming it, in ``fit`` and ``transform``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.decomposition import PCA
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import FunctionTransformer
    >>> from sklearn_musemb.audio import features, segments
    >>> rng = np.random.default_rng(0)
    >>> tracks = [rng.normal(0, 0.1, n) for n in (8000, 12000, 9000)]
    >>> per_segment = make_pipeline(
    ...     features.LogMelSpectrogram(sr=8000, n_mels=16),
    ...     FunctionTransformer(np.reshape, kw_args={"shape": (-1, 16 * 63)}),
    ...     PCA(n_components=2))
    >>> te = segments.TrackEmbedder(per_segment, segment_s=1.0, sr=8000)
    >>> te.fit_transform(tracks).shape
    (3, 2)
    >>> te.n_segments_fit_
    3
    """

    def __init__(
        self,
        estimator: Any = None,
        *,
        segment_s: float = 3.0,
        sr: int = 22050,
        offset_s: float = 0.0,
        max_segments: int | None = None,
        how: str = "mean",
    ) -> None:
        self.estimator = estimator
        self.segment_s = segment_s
        self.sr = sr
        self.offset_s = offset_s
        self.max_segments = max_segments
        self.how = how

    def _check_params(self) -> None:
        name = type(self).__name__
        if self.estimator is None or not hasattr(self.estimator, "fit"):
            raise ValueError(
                f"{name}: estimator must be a transformer of segment waveforms "
                f"(with fit and transform), got {self.estimator!r}"
            )
        _check_segment_params(
            self.sr, self.segment_s, self.offset_s, self.max_segments, name
        )
        _check_choice(self.how, "how", AGGREGATIONS, name)
        if hasattr(self.estimator, "get_params"):
            for key, value in self.estimator.get_params(deep=True).items():
                if (key == "sr" or key.endswith("__sr")) and value != self.sr:
                    raise ValueError(
                        f"{name}: sr={self.sr} but the estimator's {key}={value}; "
                        "the segments would be read at the wrong rate"
                    )

    def _segments(self, X: Any) -> tuple[np.ndarray, np.ndarray, int]:
        tracks = _track_list(X, type(self).__name__)
        segments, index = segment_audio(
            tracks, self.sr, self.segment_s, self.offset_s, self.max_segments
        )
        return segments, index, len(tracks)

    def _targets(self, y: Any, index: np.ndarray, n_tracks: int) -> Any:
        if y is None:
            return None
        if len(y) != n_tracks:
            raise ValueError(
                f"{type(self).__name__}: y has {len(y)} rows for {n_tracks} tracks"
            )
        return _safe_indexing(y, index)

    def fit(self, X: Any, y: Any = None, **fit_params: Any) -> TrackEmbedder:
        """Fit a clone of ``estimator`` on the segments of the tracks.

        Parameters
        ----------
        X : list of (1-d arrays or paths)
            Tracks at ``sr`` Hz, of any lengths of at least one segment.
        y : array-like of shape (n_tracks,) or (n_tracks, n_targets), default=None
            Targets per track, repeated for every segment of the track.
        **fit_params
            Passed to ``estimator.fit``.

        Returns
        -------
        self
        """
        self._check_params()
        segments, index, n_tracks = self._segments(X)
        estimator = clone(self.estimator)
        estimator.fit(segments, self._targets(y, index, n_tracks), **fit_params)
        self.estimator_ = estimator
        self.n_segments_fit_ = len(segments)
        return self

    def fit_transform(self, X: Any, y: Any = None, **fit_params: Any) -> np.ndarray:
        """Fit on the segments of the tracks and return the track embeddings.

        Parameters
        ----------
        X : list of (1-d arrays or paths)
            Tracks at ``sr`` Hz.
        y : array-like of shape (n_tracks,) or (n_tracks, n_targets), default=None
            Targets per track, repeated for every segment of the track.
        **fit_params
            Passed to ``estimator.fit_transform``.

        Returns
        -------
        ndarray of shape (n_tracks, ...)
            The pooled embedding of every track.
        """
        self._check_params()
        segments, index, n_tracks = self._segments(X)
        estimator = clone(self.estimator)
        embeddings = estimator.fit_transform(
            segments, self._targets(y, index, n_tracks), **fit_params
        )
        self.estimator_ = estimator
        self.n_segments_fit_ = len(segments)
        return aggregate_segments(embeddings, index, self.how, n_tracks)

    def transform(self, X: Any) -> np.ndarray:
        """Pooled embedding of every track.

        Parameters
        ----------
        X : list of (1-d arrays or paths)
            Tracks at ``sr`` Hz.

        Returns
        -------
        ndarray of shape (n_tracks, ...)
        """
        check_is_fitted(self)
        segments, index, n_tracks = self._segments(X)
        embeddings = self.estimator_.transform(segments)
        return aggregate_segments(embeddings, index, self.how, n_tracks)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # X is a list of tracks of different lengths (or paths), not a matrix
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        return tags
