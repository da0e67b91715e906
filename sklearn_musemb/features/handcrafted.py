"""Handcrafted descriptors of note units: the baseline for learned embeddings."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils import assert_all_finite

from ..units.container import Units, _check_units
from ..utils.validation import check_finite_number, check_positive_int

_NEEDS = "it reads their events and n_events"

#: Names of the pitch classes, C = 0 (MIDI pitch % 12).
PITCH_CLASS_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")

#: Highest MIDI pitch.
MIDI_PITCH_MAX = 127

#: Default IOI bin edges in ms: the geometric midpoints between note values at
#: 120 bpm (32nd 62.5 ms, 16th 125, 8th 250, quarter 500, half 1000, whole 2000),
#: ``62.5 * 2 ** (k - 0.5)`` rounded, so each bin is centred (on a log scale) on one
#: note value, which stays in its bin for any tempo from about 85 to 170 bpm.
DEFAULT_IOI_BINS = (44, 88, 177, 354, 707, 1414)

INTERVAL_MODES = ("consecutive", "top")

TIMING_MODES = ("absolute", "relative")

#: IOI bin edges of ``timing="relative"``, in octaves (``log2`` of a chord-level
#: IOI over the unit's median one): as :data:`DEFAULT_IOI_BINS` on a tempo-free
#: scale, one-octave bins centred on ratios 1/4, 1/2, 1, 2, 4 (the median is an
#: IOI of the unit, so its own note value sits at 0, mid-bin), plus two open bins.
#: Dotted and triplet ratios (3/4, 3/2, 2/3, 3) lie 0.085 octave (6 %) inside one.
RELATIVE_IOI_BINS = (-2.5, -1.5, -0.5, 0.5, 1.5, 2.5)
_REL_EDGES = np.asarray(RELATIVE_IOI_BINS)

#: Pitch class of every MIDI pitch.
_PITCH_CLASS = np.arange(MIDI_PITCH_MAX + 1) % 12

#: Largest IOI (ms) up to which transform looks log1p and bins up in tables.
_TABLE_MAX_MS = 2**16

#: Rows computed at once: bounds the temporaries (some 100 bytes per event) for
#: millions of units; 2048-8192 were fastest on 40-note units (fewer page faults
#: than whole-array temporaries, few enough blocks that the loop costs nothing).
_BLOCK_ROWS = 4096


def _format_ms(value: float) -> str:
    return np.format_float_positional(value, trim="-")


def _row_histogram(values: np.ndarray, mask: np.ndarray, n_bins: int) -> np.ndarray:
    """Per-row counts of ``values`` (ints in ``0..n_bins-1``) where ``mask`` holds.

    One ``np.bincount`` over all rows: row ``i`` is offset by ``i * n_bins``.
    """
    m = values.shape[0]
    offsets = np.arange(m, dtype=np.int64)[:, None] * n_bins
    counts = np.bincount((values + offsets)[mask], minlength=m * n_bins)
    return counts.reshape(m, n_bins).astype(np.float64)


def _fractions(counts: np.ndarray, total: np.ndarray) -> np.ndarray:
    """``counts / total`` per row, 0 where ``total`` is 0."""
    total = np.broadcast_to(total[:, None], counts.shape)
    return np.divide(counts, total, out=np.zeros_like(counts), where=total > 0)


def _ioi_bin(ioi: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """IOI bin of every IOI: 0 for ``ioi == 0``, ``k + 1`` below ``edges[k]``."""
    return np.where(ioi == 0, 0, 1 + np.searchsorted(edges, ioi, side="right"))


def _ioi_tables(
    edges: np.ndarray, ioi_max: int
) -> tuple[np.ndarray, np.ndarray] | None:
    """``log1p`` and IOI bin of every whole ms up to ``ioi_max``, or None if large.

    A table lookup is several times faster than ``np.log1p`` and
    ``np.searchsorted`` per event; IOIs from segment_notes are at most 32767 ms.
    """
    if ioi_max > _TABLE_MAX_MS:
        return None
    ms = np.arange(ioi_max + 1)
    return np.log1p(ms), _ioi_bin(ms, edges)


def _chord_level(
    ioi: np.ndarray, real: np.ndarray, chord_ms: float
) -> tuple[np.ndarray, np.ndarray]:
    """Chord grouping of a block of units: ``(linked, chord_ioi)``.

    ``linked[i, j]``: note ``j`` is followed by a note of its own chord, its IOI
    being 0 or below ``chord_ms``. ``chord_ioi[i, j]``: 0 for a linked note; for
    the last note of a chord, the time from the chord's first onset to the next
    onset (the sum of the IOIs of the chord's notes). Padding is 0, not linked.
    """
    linked = real & ((ioi == 0) | (ioi < chord_ms))
    if chord_ms <= 0:  # exact chords: a note's chord-level IOI is its own IOI
        return linked, ioi
    ends = real & ~linked
    total = np.cumsum(ioi, axis=1)
    # total IOI up to the last chord end before each note (0 before the first):
    # IOIs are >= 0, so a running maximum of the totals at chord ends finds it
    before = np.maximum.accumulate(np.where(ends, total, 0), axis=1)
    before = np.concatenate([np.zeros_like(before[:, :1]), before[:, :-1]], axis=1)
    return linked, np.where(ends, total - before, 0)


def _sort_within_chords(
    pitch: np.ndarray, real: np.ndarray, linked: np.ndarray
) -> np.ndarray:
    """``pitch`` with the notes of each chord sorted low to high, in place of theirs.

    A chord occupies consecutive columns; its number (chord ends before a note)
    times 128 plus the pitch is a key whose stable sort moves notes within their
    chord only. Padding keeps its columns.
    """
    ends = ~linked
    chord = np.cumsum(ends, axis=1, dtype=np.int64) - ends
    key = np.where(real, chord * (MIDI_PITCH_MAX + 1) + pitch, np.iinfo(np.int64).max)
    return np.take_along_axis(pitch, np.argsort(key, axis=1, kind="stable"), axis=1)


def _row_median(
    values: np.ndarray, mask: np.ndarray, count: np.ndarray, *, low: bool = False
) -> np.ndarray:
    """Median of ``values`` where ``mask`` holds, per row (``count`` of them).

    For an even count, the mean of the two middle values (NumPy's convention),
    or the lower one if ``low``. Rows with ``count == 0`` get ``inf`` (their
    values are to be masked).
    """
    ordered = np.sort(np.where(mask, values, np.inf), axis=1)
    lower = np.take_along_axis(ordered, np.maximum(count - 1, 0)[:, None] // 2, axis=1)
    if low:
        return lower[:, 0]
    upper = np.take_along_axis(ordered, (count // 2)[:, None], axis=1)
    return (lower[:, 0] + upper[:, 0]) / 2


def _describe(
    events: np.ndarray,
    n_events: np.ndarray,
    ioi_edges: np.ndarray,
    interval_range: int,
    intervals: str,
    normalize: bool,
    chord_ms: float = 0.0,
    timing: str = "absolute",
    ioi_tables: tuple[np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """The descriptor of a block of note units (see :class:`HandcraftedFeatures`)."""
    m, width = events.shape[:2]
    cols = np.arange(width)
    real = cols < n_events[:, None]
    # padding may hold anything (PAD = -1 in practice): zero it once
    pitch = np.where(real, events[..., 0], 0).astype(np.int16)  # 0..127, checked
    ioi = np.where(real, events[..., 1], 0).astype(np.intp)
    count = n_events.astype(np.float64)
    # chords: with chord_ms = 0 exactly the zero IOIs, and ioi is left as it is
    linked, ioi = _chord_level(ioi, real, chord_ms)
    if chord_ms > 0:
        pitch = _sort_within_chords(pitch, real, linked)

    # pitch
    pitch_classes = _row_histogram(_PITCH_CLASS[pitch], real, 12)
    pitch_mean = pitch.sum(axis=1) / count
    deviation = np.where(real, pitch - pitch_mean[:, None], 0.0)
    pitch_std = np.sqrt((deviation**2).sum(axis=1) / count)
    pitch_min = np.where(real, pitch, MIDI_PITCH_MAX + 1).min(axis=1)
    pitch_max = pitch.max(axis=1)

    # intervals: step[:, j - 1] is the interval that ends on event j
    if intervals == "consecutive":
        step = pitch[:, 1:] - pitch[:, :-1]
        pair = real[:, 1:]
    else:
        # Notes of a chord are sorted low to high and all but the last are
        # linked to the next, so an unlinked event (or the unit's last) is the
        # top of its chord; each such event is paired with the previous one.
        top = real & (~linked | (cols == n_events[:, None] - 1))
        previous = np.maximum.accumulate(np.where(top, cols, -1), axis=1)[:, :-1]
        pair = top[:, 1:] & (previous >= 0)
        step = pitch[:, 1:] - np.take_along_axis(pitch, np.maximum(previous, 0), axis=1)
    n_intervals = pair.sum(axis=1)
    interval_hist = _row_histogram(
        np.minimum(np.abs(step), interval_range), pair, interval_range + 1
    )
    direction = np.stack(
        [(pair & (step > 0)).sum(axis=1), (pair & (step < 0)).sum(axis=1)], axis=1
    ).astype(np.float64)

    # a note is simultaneous when another note of the unit shares its chord
    same_onset = real[:, 1:] & linked[:, :-1]
    shared = np.zeros_like(real)
    shared[:, :-1] |= same_onset
    shared[:, 1:] |= same_onset
    simultaneous = shared.sum(axis=1) / count

    # inter-onset intervals (chord-level: 0 inside a chord)
    if timing == "absolute":
        if ioi_tables is None or ioi.max() >= len(ioi_tables[0]):
            log_ioi = np.log1p(ioi.astype(np.float64))
            ioi_bin = _ioi_bin(ioi, ioi_edges)
        else:
            log_ioi, ioi_bin = ioi_tables[0][ioi], ioi_tables[1][ioi]
        ioi_hist = _row_histogram(ioi_bin, real, len(ioi_edges) + 2)
        log_mean = log_ioi.sum(axis=1) / count
        log_std = np.sqrt(
            (np.where(real, log_ioi - log_mean[:, None], 0.0) ** 2).sum(axis=1) / count
        )
        log_median = _row_median(log_ioi, real, n_events)
        duration_s = ioi.sum(axis=1) / 1000.0
        # IOIs are whole ms, so a unit of duration 0 lasted less than 1 ms
        density = count / np.maximum(duration_s, 0.001)
        timing_stats = [log_mean, log_std, log_median, simultaneous, density]
    else:
        # log2 of each chord-level IOI over the unit's (lower) median one
        timed = real & (ioi > 0)
        n_timed = timed.sum(axis=1)
        log2_ioi = np.log2(np.where(timed, ioi, 1).astype(np.float64))
        median = _row_median(log2_ioi, timed, n_timed, low=True)
        rel = np.where(timed, log2_ioi - median[:, None], 0.0)
        rel_bin = np.where(timed, 1 + np.searchsorted(_REL_EDGES, rel, side="right"), 0)
        ioi_hist = _row_histogram(rel_bin, real, len(_REL_EDGES) + 2)
        per_timed = np.maximum(n_timed, 1)
        rel_mean = rel.sum(axis=1) / per_timed
        rel_std = np.sqrt(
            (np.where(timed, rel - rel_mean[:, None], 0.0) ** 2).sum(axis=1) / per_timed
        )
        # duration in median IOIs: at least one (a median IOI is in it, if any)
        beats = np.where(timed, np.exp2(rel), 0.0).sum(axis=1)
        density = count / np.maximum(beats, 1.0)
        timing_stats = [rel_mean, rel_std, simultaneous, density]

    if normalize:
        pitch_classes = pitch_classes / count[:, None]
        interval_hist = _fractions(interval_hist, n_intervals)
        direction = _fractions(direction, n_intervals)
        ioi_hist = ioi_hist / count[:, None]

    return np.concatenate(
        [
            pitch_classes,
            np.stack(
                [pitch_mean, pitch_std, pitch_min, pitch_max, pitch_max - pitch_min],
                axis=1,
            ),
            interval_hist,
            direction,
            ioi_hist,
            np.stack(timing_stats, axis=1),
        ],
        axis=1,
    )


class HandcraftedFeatures(TransformerMixin, BaseEstimator):
    """Fixed-length handcrafted descriptor of every note unit (the baseline).

    The descriptor a user tries first, and the one every learned embedding is
    compared against: histograms and statistics of a unit's pitches, intervals and
    inter-onset intervals (IOIs), computed without learning. With
    ``timing="absolute"`` (the default) every unit gives
    ``27 + interval_range + len(ioi_bins)`` columns (45 with the defaults), in this
    order (:meth:`get_feature_names_out` gives the names):

    ==============================  =====  ==========================================
    columns                         count  definition
    ==============================  =====  ==========================================
    ``pitch_class_C`` ..            12     pitch-class histogram (``pitch % 12``,
    ``pitch_class_B``                      C = 0, sharps), fractions of the notes
    ``pitch_mean``, ``pitch_std``   2      mean and standard deviation (ddof=0) of
                                           the MIDI pitches
    ``pitch_min``, ``pitch_max``,   3      lowest and highest MIDI pitch and their
    ``pitch_range``                        difference (semitones)
    ``interval_hist_0`` ..          R + 1  histogram of the absolute intervals
    ``interval_hist_R+``                   ``|pitch[j] - pitch[j - 1]|``
                                           (semitones), those of ``R`` or more in
                                           the last bin, fractions of the intervals
    ``interval_up``,                2      fraction of those intervals that rise /
    ``interval_down``                      fall (the rest are repetitions)
    ``ioi_hist_0ms``,               B + 2  IOI histogram: ``ioi == 0`` (notes of a
    ``ioi_hist_0-44ms`` ..                 chord), then ``0 < ioi < e1``,
    ``ioi_hist_1414ms+``                   ``e1 <= ioi < e2`` .. ``ioi >= eB``
                                           for ``ioi_bins = (e1, .., eB)`` (ms),
                                           fractions of the notes
    ``ioi_log_mean``,               3      mean, standard deviation (ddof=0) and
    ``ioi_log_std``,                       median of ``log1p(ioi in ms)``
    ``ioi_log_median``
    ``simultaneous_fraction``       1      fraction of the notes that share their
                                           onset with another note of the unit
    ``note_density``                1      notes per second: ``n_events`` over the
                                           unit's duration ``sum(ioi) / 1000``
                                           (seconds), taken as at least 1 ms
    ==============================  =====  ==========================================

    With ``chord_ms > 0`` the IOI columns describe chords rather than notes (see
    *Chords and tempo* below) and the first IOI column is named
    ``ioi_hist_chord<{chord_ms}ms``. With ``timing="relative"`` the last
    ``B + 7`` columns are replaced by 12 tempo-free ones (``32 +
    interval_range`` columns in all, 44 with the defaults):

    ==============================  =====  ==========================================
    columns                         count  definition
    ==============================  =====  ==========================================
    ``ioi_rel_hist_chord``,         8      histogram of ``log2(ioi / median)``, the
    ``ioi_rel_hist_<-2.5oct``,             chord-level IOIs over the (lower) median
    ``ioi_rel_hist_-2.5to-1.5oct``         of the unit's non-zero ones, in octaves:
    .. ``ioi_rel_hist_>=2.5oct``           chord notes, ``< -2.5``, one-octave bins
                                           ``[-2.5, -1.5)`` .. ``[1.5, 2.5)``
                                           (centred on ``-2 .. 2``), ``>= 2.5``;
                                           fractions of the notes
    ``ioi_rel_log2_mean``,          2      mean and standard deviation (ddof=0) of
    ``ioi_rel_log2_std``                   ``log2(ioi / median)`` over the non-zero
                                           chord-level IOIs (0 if none)
    ``simultaneous_fraction``       1      as above
    ``notes_per_median_ioi``        1      ``n_events`` over the unit's duration in
                                           median IOIs (at least 1): a tempo-free
                                           note density
    ==============================  =====  ==========================================

    **Chords and tempo.** In a quantised score the notes of a chord have IOI 0;
    in a performance they arrive a few ms apart, and a whole piece may be played
    faster or slower. ``chord_ms`` groups notes into chords: a note whose IOI to
    the next note is below ``chord_ms`` (or 0) belongs to the chord of that next
    note. The chord bin counts those notes; the last note of a chord carries the
    *chord-level* IOI, from the chord's first onset to the next chord's (the sum
    of the IOIs of its notes), which is what the IOI histogram, the log-IOI
    statistics and the density see; the other notes of the chord count as 0.
    With ``chord_ms > 0`` the pitches of each chord are also sorted low to high
    before the intervals are taken, so the order in which a spread chord's notes
    arrive changes nothing. A chord still open at the end of a unit (its last
    note linked to the next unit) contributes chord notes only. ``chord_ms=0``
    (the default) keeps the exact-zero chords and the stored note order
    (:func:`~sklearn_musemb.units.segment_notes` already sorts the notes of one
    onset low to high), i.e. exactly the features without these options.
    ``timing="relative"`` divides every chord-level IOI by the median of the
    unit's non-zero ones (the lower median for an even count, so the median is
    one of the unit's IOIs and its note value falls mid-bin), so a
    global change of tempo leaves every column unchanged up to the rounding of
    IOIs to whole ms; ``ioi_log_median`` is dropped (0 by construction) and
    ``note_density`` becomes ``notes_per_median_ioi``.

    Only real events count: a row's events beyond ``units.n_events`` are padding
    and ignored. Each note's IOI runs to the next note of the piece, so the IOIs
    of a unit span from its first onset to the onset of the note after it: the
    last IOI of a unit is a real one (0 only when the piece ends there, or when a
    chord continues into the next unit). With ``intervals="consecutive"``, the
    interval between two notes of one chord is counted too: chord notes are
    sorted low to high, so they add small rising intervals, and the step from the
    top of a chord to the bass of the next one a falling leap.

    Stateless, like :class:`~sklearn.preprocessing.Normalizer`: ``fit`` only
    validates the parameters and ``X`` and records the input width, and
    ``transform`` works without ``fit``. After ``fit``, ``transform`` refuses
    units of another width, as sklearn refuses another number of features. All
    computation is vectorised over the whole ``(n_units, n_events)`` array (per
    block of 4096 units to bound memory); nothing loops over units or notes.

    Only ``kind="notes"`` units (:func:`~sklearn_musemb.units.segment_notes`)
    are accepted. Beat units (:func:`~sklearn_musemb.units.segment_beats`) hold
    onset ticks within a 4-beat window rather than IOIs in ms, their pitches are
    folded into ``[36, 96)`` and a window may hold no onset at all, so none of the
    pitch range, IOI or density columns would mean what they say here.

    Parameters
    ----------
    ioi_bins : sequence of float, default=(44, 88, 177, 354, 707, 1414)
        Strictly increasing positive IOI bin edges in ms, ``B`` of them, giving
        ``B + 2`` IOI bins (with the ``ioi == 0`` bin and the open last bin). The
        default is log-spaced: each bin holds one note value at 120 bpm, from
        32nd notes (``[44, 88)``) to whole notes and longer (``1414ms+``);
        ``(0, 44)`` holds grace notes and spread chords.
    interval_range : int, default=12
        ``R``, 1 to 127: absolute intervals of ``R`` semitones or more share the
        last interval bin (an octave by default), giving ``R + 1`` bins.
    intervals : {"consecutive", "top"}, default="consecutive"
        Which notes the interval columns pair. ``"consecutive"``: every note with
        the one before it in the unit. ``"top"``: the highest note of each onset
        with the highest note of the onset before it (a skyline melody, so chords
        add no intervals); the unit's last note ends an onset.
    normalize : bool, default=True
        Divide the histogram columns (pitch classes and IOIs by the number of
        notes, interval bins and ``interval_up`` / ``interval_down`` by the number
        of intervals) so each is a fraction; ``False`` keeps counts. A unit with
        no interval gets zeros. The other columns do not change.
    chord_ms : float, default=0.0
        Finite, ``>= 0``: IOIs strictly below ``chord_ms`` (ms) count as
        simultaneous, so a chord spread over a few ms by a performer is one
        chord. Its notes go to the chord bin, its last note carries the
        chord-level IOI (chord onset to next chord onset) and, when
        ``chord_ms > 0``, its pitches are sorted before the intervals are taken.
        0 keeps exact chords (``ioi == 0``) only. About 35 ms covers the spread
        of a pianist's chords while leaving 32nd notes at 120 bpm (62.5 ms) apart.
    timing : {"absolute", "relative"}, default="absolute"
        ``"absolute"``: IOIs in ms, binned by ``ioi_bins``. ``"relative"``:
        ``log2`` of the chord-level IOIs over the unit's median non-zero one,
        binned in octaves (``RELATIVE_IOI_BINS``; ``ioi_bins`` is then
        unused), with tempo-free statistics and density: the features no longer
        depend on the tempo.

    Attributes
    ----------
    n_events_in_ : int
        Width ``units.events.shape[1]`` of the units seen in ``fit``.
    n_features_in_ : int
        ``2 * n_events_in_``: the width of the flattened ``(pitch, ioi)`` view,
        recorded as the embedders record it.

    See Also
    --------
    sklearn_musemb.units.segment_notes : Cut pieces into note units.

    Examples
    --------
    A C major chord (three notes with one onset, so the first two have IOI 0),
    then 72 and 71, each half a second after the onset before:

    >>> import numpy as np
    >>> from sklearn_musemb.features import HandcraftedFeatures
    >>> from sklearn_musemb.units import Units
    >>> X = Units(np.array([[[60, 0], [64, 0], [67, 500], [72, 500], [71, 500]]]))
    >>> hf = HandcraftedFeatures()
    >>> Z = hf.fit_transform(X)
    >>> Z.shape
    (1, 45)
    >>> row = dict(zip(hf.get_feature_names_out(), Z[0].round(3).tolist()))
    >>> row["pitch_class_C"], row["pitch_range"], row["interval_hist_4"]
    (0.4, 12.0, 0.25)
    >>> row["ioi_hist_0ms"], row["ioi_hist_354-707ms"], row["simultaneous_fraction"]
    (0.4, 0.6, 0.6)
    >>> row["note_density"]
    3.333

    The same notes played: the chord spread over 23 ms (arriving 64, 60, 67) and
    everything 10 % slower. ``chord_ms`` and ``timing="relative"`` give the
    features of the score again:

    >>> played = Units(np.array([[[64, 8], [60, 15], [67, 527], [72, 550],
    ...                           [71, 550]]]))
    >>> robust = HandcraftedFeatures(chord_ms=35, timing="relative")
    >>> np.allclose(robust.fit_transform(played), robust.fit_transform(X))
    True
    >>> Z = robust.transform(played)
    >>> row = dict(zip(robust.get_feature_names_out(), Z[0].round(3).tolist()))
    >>> row["ioi_rel_hist_chord"], row["ioi_rel_hist_-0.5to0.5oct"], Z.shape
    (0.4, 0.6, (1, 44))

    The columns have very different scales: scale them before a distance- or
    gradient-based model.

    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> make_pipeline(HandcraftedFeatures(), StandardScaler()).fit_transform(X).shape
    (1, 45)
    """

    def __init__(
        self,
        *,
        ioi_bins: Iterable[float] = DEFAULT_IOI_BINS,
        interval_range: int = 12,
        intervals: str = "consecutive",
        normalize: bool = True,
        chord_ms: float = 0.0,
        timing: str = "absolute",
    ) -> None:
        self.ioi_bins = ioi_bins
        self.interval_range = interval_range
        self.intervals = intervals
        self.normalize = normalize
        self.chord_ms = chord_ms
        self.timing = timing

    # -- validation --------------------------------------------------------------------
    def _validated_params(self) -> tuple[np.ndarray, int, str, bool, float, str]:
        name = type(self).__name__
        try:
            edges = list(self.ioi_bins)
        except TypeError:
            edges = None
        if not edges or isinstance(self.ioi_bins, str):
            raise ValueError(
                f"{name}: ioi_bins must be a non-empty sequence of increasing "
                f"positive bin edges in ms, got {self.ioi_bins!r}"
            )
        edges = [
            check_finite_number(e, f"ioi_bins[{i}]", name, strict=True)
            for i, e in enumerate(edges)
        ]
        if any(b <= a for a, b in zip(edges, edges[1:])):
            raise ValueError(
                f"{name}: ioi_bins must be strictly increasing, got {edges}"
            )
        interval_range = check_positive_int(self.interval_range, "interval_range", name)
        if interval_range > MIDI_PITCH_MAX:
            raise ValueError(
                f"{name}: interval_range must be at most {MIDI_PITCH_MAX} (no "
                f"interval between MIDI pitches is larger), got {interval_range}"
            )
        if not isinstance(self.intervals, str) or self.intervals not in INTERVAL_MODES:
            raise ValueError(
                f"{name}: intervals must be one of {INTERVAL_MODES}, "
                f"got {self.intervals!r}"
            )
        if not isinstance(self.normalize, bool | np.bool_):
            raise ValueError(
                f"{name}: normalize must be a bool, got {self.normalize!r}"
            )
        chord_ms = check_finite_number(self.chord_ms, "chord_ms", name)
        if not isinstance(self.timing, str) or self.timing not in TIMING_MODES:
            raise ValueError(
                f"{name}: timing must be one of {TIMING_MODES}, got {self.timing!r}"
            )
        return (
            np.asarray(edges, dtype=np.float64),
            interval_range,
            self.intervals,
            bool(self.normalize),
            chord_ms,
            self.timing,
        )

    def _validate_units(self, X: Any, *, reset: bool) -> tuple[Units, int]:
        """``X`` checked as note units, and its largest IOI; record the width."""
        name = type(self).__name__
        X = _check_units(X, name, _NEEDS)
        events = X.events
        if isinstance(events, np.ndarray) and events.dtype.kind in "fc":
            assert_all_finite(events, input_name="X.events", estimator_name=name)
        # Units check shapes and dtypes on construction, but events and n_events
        # are plain attributes that may have been replaced since: check them again
        # the same way.
        try:
            Units(events, n_events=X.n_events, kind=X.kind)
        except (TypeError, ValueError) as err:
            raise type(err)(f"{name}: invalid Units: {err}") from err
        if X.kind != "notes":
            raise ValueError(
                f"{name} needs units of kind 'notes' (segment_notes), got "
                f"{X.kind!r}: beat units hold onset ticks within a window, not "
                "inter-onset intervals in ms, and folded pitches"
            )
        n_units, width = X.events.shape[:2]
        if n_units == 0:
            raise ValueError(f"{name}: found 0 units (n_samples=0)")
        n_events = np.asarray(X.n_events)
        if n_events.min() < 1 or n_events.max() > width:
            bad = np.flatnonzero((n_events < 1) | (n_events > width))
            raise ValueError(
                f"{name}: every unit needs 1..{width} events (n_events), found "
                f"{len(bad)} unit(s) outside, e.g. row {bad[0]} with "
                f"n_events={n_events[bad[0]]}; empty units have no descriptor"
            )
        if not reset and hasattr(self, "n_events_in_") and width != self.n_events_in_:
            raise ValueError(
                f"X has {width} events per unit ({2 * width} features), but {name} "
                f"is expecting {self.n_events_in_} events per unit "
                f"({self.n_features_in_} features) as input."
            )
        ioi_max = self._check_event_values(X, name)
        if reset:
            self.n_events_in_ = width
            self.n_features_in_ = 2 * width
        return X, ioi_max

    @staticmethod
    def _check_event_values(X: Units, name: str) -> int:
        """Refuse pitches outside 0..127 and negative IOIs among the real events.

        Returns the largest real IOI.
        """
        width = X.events.shape[1]
        ioi_max = 0
        for start in range(0, len(X), _BLOCK_ROWS):
            block = X.events[start : start + _BLOCK_ROWS]
            real = np.arange(width) < X.n_events[start : start + _BLOCK_ROWS, None]
            pitch = block[..., 0][real]
            if pitch.min() < 0 or pitch.max() > MIDI_PITCH_MAX:
                raise ValueError(
                    f"{name}: pitches must lie in 0..{MIDI_PITCH_MAX}, found "
                    f"{pitch.min()}..{pitch.max()}"
                )
            ioi = block[..., 1][real]
            if ioi.min() < 0:
                raise ValueError(
                    f"{name}: inter-onset intervals must be non-negative, found "
                    f"{ioi.min()}"
                )
            ioi_max = max(ioi_max, int(ioi.max()))
        return ioi_max

    # -- sklearn protocol --------------------------------------------------------------
    def fit(self, X: Units, y: Any = None) -> HandcraftedFeatures:
        """Validate the parameters and ``X`` and record its width; nothing is learned.

        Parameters
        ----------
        X : Units
            Note units (``kind="notes"``).
        y : ignored

        Returns
        -------
        self : HandcraftedFeatures

        Raises
        ------
        TypeError
            If ``X`` is not a :class:`~sklearn_musemb.units.Units`, or its events
            or ``n_events`` are not integers.
        ValueError
            On an invalid parameter (the message names it), beat units, no units,
            units without events, NaN, wrong shapes, pitches outside 0..127 or
            negative IOIs.
        """
        self._validated_params()
        self._validate_units(X, reset=True)
        return self

    def transform(self, X: Units) -> np.ndarray:
        """Describe every unit of ``X``.

        Parameters
        ----------
        X : Units
            Note units; after ``fit``, as wide as the units seen there.

        Returns
        -------
        ndarray of float64, shape (n_units, n_features_out)
            One row per unit, columns as :meth:`get_feature_names_out`.

        Raises
        ------
        TypeError, ValueError
            As :meth:`fit`, and if ``X`` differs in width from the fitted units.
        """
        params = self._validated_params()
        X, ioi_max = self._validate_units(X, reset=False)
        tables = _ioi_tables(params[0], ioi_max)
        return np.concatenate(
            [
                _describe(
                    X.events[start : start + _BLOCK_ROWS],
                    X.n_events[start : start + _BLOCK_ROWS],
                    *params,
                    tables,
                )
                for start in range(0, len(X), _BLOCK_ROWS)
            ]
        )

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Names of the output columns; they depend on the parameters only.

        Parameters
        ----------
        input_features : ignored
            Units have no named input columns.

        Returns
        -------
        ndarray of str (object dtype), shape (n_features_out,)

        Examples
        --------
        >>> from sklearn_musemb.features import HandcraftedFeatures
        >>> names = HandcraftedFeatures(ioi_bins=[10, 100]).get_feature_names_out()
        >>> len(names), names[0], names[12], names[-1]
        (41, 'pitch_class_C', 'pitch_mean', 'note_density')
        >>> names[32:36].tolist()
        ['ioi_hist_0ms', 'ioi_hist_0-10ms', 'ioi_hist_10-100ms', 'ioi_hist_100ms+']
        """
        edges, interval_range, _, _, chord_ms, timing = self._validated_params()
        names = [f"pitch_class_{pc}" for pc in PITCH_CLASS_NAMES]
        names += ["pitch_mean", "pitch_std", "pitch_min", "pitch_max", "pitch_range"]
        names += [f"interval_hist_{k}" for k in range(interval_range)]
        names += [f"interval_hist_{interval_range}+", "interval_up", "interval_down"]
        if timing == "absolute":
            bounds = ["0"] + [_format_ms(e) for e in edges]
            chord = f"chord<{_format_ms(chord_ms)}ms" if chord_ms > 0 else "0ms"
            names += [f"ioi_hist_{chord}"]
            names += [f"ioi_hist_{a}-{b}ms" for a, b in zip(bounds, bounds[1:])]
            names += [f"ioi_hist_{bounds[-1]}ms+"]
            names += ["ioi_log_mean", "ioi_log_std", "ioi_log_median"]
            names += ["simultaneous_fraction", "note_density"]
        else:
            bounds = [_format_ms(e) for e in RELATIVE_IOI_BINS]
            names += ["ioi_rel_hist_chord", f"ioi_rel_hist_<{bounds[0]}oct"]
            names += [f"ioi_rel_hist_{a}to{b}oct" for a, b in zip(bounds, bounds[1:])]
            names += [f"ioi_rel_hist_>={bounds[-1]}oct"]
            names += ["ioi_rel_log2_mean", "ioi_rel_log2_std"]
            names += ["simultaneous_fraction", "notes_per_median_ioi"]
        return np.asarray(names, dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        # X must be Units, never a 2-D array: sklearn's array-based checks skip it
        tags.input_tags.two_d_array = False
        return tags
