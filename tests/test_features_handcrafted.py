"""HandcraftedFeatures: exact values on hand-made units, padding, the sklearn API,
refusals, and sane output on real music (music21 always, piano-midi when present)."""

from __future__ import annotations

import math
import statistics
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.utils import get_tags
from sklearn.utils.estimator_checks import (
    check_do_not_raise_errors_in_init_or_set_params,
    check_get_params_invariance,
    check_no_attributes_set_in_init,
    check_parameters_default_constructible,
    check_set_params,
)

from sklearn_musemb import load_midi_corpus, load_music21_corpus, segment_notes
from sklearn_musemb.features import HandcraftedFeatures
from sklearn_musemb.features import handcrafted as handcrafted_module
from sklearn_musemb.units import PAD, Units

#: Edges of timing="relative", in octaves: every octave from -2.5 to 2.5.
RELATIVE_EDGES = [-2.5, -1.5, -0.5, 0.5, 1.5, 2.5]
PITCH_CLASSES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
DEFAULT_IOI_NAMES = [
    "ioi_hist_0ms",
    "ioi_hist_0-44ms",
    "ioi_hist_44-88ms",
    "ioi_hist_88-177ms",
    "ioi_hist_177-354ms",
    "ioi_hist_354-707ms",
    "ioi_hist_707-1414ms",
    "ioi_hist_1414ms+",
]


def make_units(rows, width=6, pad=PAD, dtype=np.int16, **kwargs) -> Units:
    """Note units from ``[(pitches, iois), ...]``, padded with ``pad`` to ``width``."""
    events = np.full((len(rows), width, 2), pad, dtype=dtype)
    for i, (pitches, iois) in enumerate(rows):
        events[i, : len(pitches), 0] = pitches
        events[i, : len(iois), 1] = iois
    return Units(events, n_events=[len(p) for p, _ in rows], **kwargs)


# A: a C major chord (60 64 67 struck together), then 72, 71, 60; all 6 real.
ROW_A = ([60, 64, 67, 72, 71, 60], [0, 0, 500, 250, 30, 1000])
# B: 3 real events, padded; the last two notes form a chord that may go on.
ROW_B = ([48, 48, 55], [100, 0, 0])
# C: two notes at one onset, nothing after: duration 0.
ROW_C = ([60, 60], [0, 0])
# D: a single note: no interval at all.
ROW_D = ([61], [200])
ROWS = [ROW_A, ROW_B, ROW_C, ROW_D]


def as_dict(hf: HandcraftedFeatures, Z: np.ndarray) -> list[dict[str, float]]:
    names = hf.get_feature_names_out()
    return [dict(zip(names, row)) for row in Z]


def expected_rows(intervals: str) -> list[dict[str, float]]:
    """Every column of ROWS with the default parameters, computed by hand."""
    zero = dict.fromkeys(
        [f"pitch_class_{pc}" for pc in PITCH_CLASSES]
        + [f"interval_hist_{k}" for k in range(12)]
        + ["interval_hist_12+", "interval_up", "interval_down"]
        + DEFAULT_IOI_NAMES,
        0.0,
    )
    a_mean = (60 + 64 + 67 + 72 + 71 + 60) / 6
    a_logs = [math.log1p(v) for v in ROW_A[1]]
    a_log_mean = sum(a_logs) / 6
    a = {
        **zero,
        "pitch_class_C": 3 / 6,
        "pitch_class_E": 1 / 6,
        "pitch_class_G": 1 / 6,
        "pitch_class_B": 1 / 6,
        "pitch_mean": a_mean,
        "pitch_std": math.sqrt(sum((p - a_mean) ** 2 for p in ROW_A[0]) / 6),
        "pitch_min": 60,
        "pitch_max": 72,
        "pitch_range": 12,
        "ioi_hist_0ms": 2 / 6,  # the two lower chord notes
        "ioi_hist_0-44ms": 1 / 6,  # 30
        "ioi_hist_177-354ms": 1 / 6,  # 250
        "ioi_hist_354-707ms": 1 / 6,  # 500
        "ioi_hist_707-1414ms": 1 / 6,  # 1000
        "ioi_log_mean": a_log_mean,
        "ioi_log_std": math.sqrt(sum((v - a_log_mean) ** 2 for v in a_logs) / 6),
        "ioi_log_median": (math.log1p(30) + math.log1p(250)) / 2,
        "simultaneous_fraction": 3 / 6,
        "note_density": 6 / 1.78,
    }
    b_mean = (48 + 48 + 55) / 3
    b = {
        **zero,
        "pitch_class_C": 2 / 3,
        "pitch_class_G": 1 / 3,
        "pitch_mean": b_mean,
        "pitch_std": math.sqrt(sum((p - b_mean) ** 2 for p in ROW_B[0]) / 3),
        "pitch_min": 48,
        "pitch_max": 55,
        "pitch_range": 7,
        "ioi_hist_0ms": 2 / 3,
        "ioi_hist_88-177ms": 1 / 3,
        "ioi_log_mean": math.log1p(100) / 3,
        "ioi_log_std": math.sqrt(
            ((2 / 3) * math.log1p(100)) ** 2 + 2 * (math.log1p(100) / 3) ** 2
        )
        / math.sqrt(3),
        "ioi_log_median": 0.0,
        # the last two notes share an onset; the last one's ioi 0 points outside
        "simultaneous_fraction": 2 / 3,
        "note_density": 3 / 0.1,
    }
    c = {
        **zero,
        "pitch_class_C": 1.0,
        "pitch_mean": 60,
        "pitch_std": 0.0,
        "pitch_min": 60,
        "pitch_max": 60,
        "pitch_range": 0,
        "ioi_hist_0ms": 1.0,
        "ioi_log_mean": 0.0,
        "ioi_log_std": 0.0,
        "ioi_log_median": 0.0,
        "simultaneous_fraction": 1.0,
        "note_density": 2 / 0.001,  # duration 0 counts as 1 ms
    }
    d = {
        **zero,
        "pitch_class_C#": 1.0,
        "pitch_mean": 61,
        "pitch_std": 0.0,
        "pitch_min": 61,
        "pitch_max": 61,
        "pitch_range": 0,
        "ioi_hist_177-354ms": 1.0,
        "ioi_log_mean": math.log1p(200),
        "ioi_log_std": 0.0,
        "ioi_log_median": math.log1p(200),
        "simultaneous_fraction": 0.0,
        "note_density": 1 / 0.2,
    }
    if intervals == "consecutive":
        # A: 64-60, 67-64, 72-67, 71-72, 60-71 = +4 +3 +5 -1 -11
        a.update({f"interval_hist_{k}": 1 / 5 for k in (1, 3, 4, 5, 11)})
        a.update(interval_up=3 / 5, interval_down=2 / 5)
        # B: 0, +7
        b.update(interval_hist_0=1 / 2, interval_hist_7=1 / 2, interval_up=1 / 2)
        # C: a repeated pitch
        c.update(interval_hist_0=1.0)
    else:
        # A: top notes 67 (chord top), 72, 71, 60: +5 -1 -11
        a.update({f"interval_hist_{k}": 1 / 3 for k in (1, 5, 11)})
        a.update(interval_up=1 / 3, interval_down=2 / 3)
        # B: 48 (ioi 100), then 55 (the unit's last note): +7
        b.update(interval_hist_7=1.0, interval_up=1.0)
        # C: one onset, so no interval: zeros
    return [a, b, c, d]


# -- exact values ----------------------------------------------------------------------
@pytest.mark.parametrize("intervals", ["consecutive", "top"])
def test_every_column_matches_hand_computation(intervals):
    X = make_units(ROWS)
    hf = HandcraftedFeatures(intervals=intervals)
    got = as_dict(hf, hf.fit_transform(X))
    for row, (actual, expected) in enumerate(zip(got, expected_rows(intervals))):
        assert set(actual) == set(expected), row  # every column is checked
        for name, value in expected.items():
            assert actual[name] == pytest.approx(value, rel=1e-12, abs=1e-12), (
                row,
                name,
            )


def test_histograms_sum_to_one_when_normalised():
    hf = HandcraftedFeatures()
    rows = as_dict(hf, hf.fit_transform(make_units(ROWS)))
    for row, n_intervals in zip(rows, [5, 2, 1, 0]):
        assert sum(row[f"pitch_class_{pc}"] for pc in PITCH_CLASSES) == pytest.approx(1)
        assert sum(row[name] for name in DEFAULT_IOI_NAMES) == pytest.approx(1.0)
        interval_total = sum(v for k, v in row.items() if k.startswith("interval_h"))
        assert interval_total == pytest.approx(1.0 if n_intervals else 0.0)


def test_normalize_false_gives_counts_and_leaves_other_columns():
    X = make_units(ROWS)
    fractions = HandcraftedFeatures().fit_transform(X)
    counts = HandcraftedFeatures(normalize=False).fit_transform(X)
    names = HandcraftedFeatures().get_feature_names_out()
    per_note = np.array([6, 3, 2, 1])[:, None]
    per_interval = np.array([5, 2, 1, 0])[:, None]
    pc = np.char.startswith(names.astype(str), "pitch_class_")
    ioi = np.char.startswith(names.astype(str), "ioi_hist_")
    interval = np.isin(
        names, [*names[np.char.startswith(names.astype(str), "interval_")]]
    )
    np.testing.assert_allclose(counts[:, pc], fractions[:, pc] * per_note)
    np.testing.assert_allclose(counts[:, ioi], fractions[:, ioi] * per_note)
    np.testing.assert_allclose(
        counts[:, interval], fractions[:, interval] * per_interval
    )
    assert counts[0, names == "interval_up"] == 3  # three rising intervals in A
    rest = ~(pc | ioi | interval)
    np.testing.assert_array_equal(counts[:, rest], fractions[:, rest])


def test_interval_range_clips_into_last_bin():
    hf = HandcraftedFeatures(interval_range=4, normalize=False)
    row = as_dict(hf, hf.fit_transform(make_units([ROW_A])))[0]
    # |intervals| 4 3 5 1 11: three are >= 4
    assert row["interval_hist_4+"] == 3
    assert row["interval_hist_3"] == 1 and row["interval_hist_1"] == 1
    assert "interval_hist_5" not in row


def test_ioi_bin_edges_are_lower_inclusive():
    iois = [0, 1, 9, 10, 99, 100, 5000]
    hf = HandcraftedFeatures(ioi_bins=[10, 100], normalize=False)
    row = as_dict(hf, hf.fit_transform(make_units([([60] * 7, iois)], width=7)))[0]
    assert [row[n] for n in row if n.startswith("ioi_hist")] == [1, 2, 2, 2]
    assert [n for n in row if n.startswith("ioi_hist")] == [
        "ioi_hist_0ms",
        "ioi_hist_0-10ms",
        "ioi_hist_10-100ms",
        "ioi_hist_100ms+",
    ]
    # fractional edges are named as given; integer IOIs compare exactly
    names = HandcraftedFeatures(ioi_bins=(62.5, 125)).get_feature_names_out()
    assert "ioi_hist_62.5-125ms" in names


def test_huge_iois_take_the_direct_path():
    # above the lookup-table limit log1p and the bins are computed per event
    big = handcrafted_module._TABLE_MAX_MS + 10
    rows = [([60, 62, 64], [0, 500, big]), ([60, 62, 64], [0, 500, 300])]
    Z = HandcraftedFeatures().fit_transform(make_units(rows, width=3, dtype=np.int64))
    small = HandcraftedFeatures().fit_transform(make_units(rows[1:], width=3))
    names = list(HandcraftedFeatures().get_feature_names_out())
    assert Z[0, names.index("ioi_hist_1414ms+")] == pytest.approx(1 / 3)
    expected_median = math.log1p(500)
    assert Z[0, names.index("ioi_log_median")] == pytest.approx(expected_median)
    np.testing.assert_allclose(Z[1:], small, rtol=1e-12)


# -- padding, blocks, order ------------------------------------------------------------
def test_padding_content_is_ignored_without_warnings():
    reference = HandcraftedFeatures().fit_transform(make_units(ROWS))
    for pad in (0, 127, -77, 30000):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            Z = HandcraftedFeatures().fit_transform(make_units(ROWS, pad=pad))
        np.testing.assert_array_equal(Z, reference)
    # wider padding changes nothing either
    wide = HandcraftedFeatures().fit_transform(make_units(ROWS, width=40))
    np.testing.assert_array_equal(wide, reference)


def test_rows_are_independent_of_order_subset_and_blocks(monkeypatch):
    X = random_units(50, seed=1)
    hf = HandcraftedFeatures()
    Z = hf.fit_transform(X)
    perm = np.random.default_rng(0).permutation(len(X))
    np.testing.assert_array_equal(hf.transform(X[perm]), Z[perm])
    np.testing.assert_array_equal(hf.transform(X[:7]), Z[:7])
    monkeypatch.setattr(handcrafted_module, "_BLOCK_ROWS", 3)
    np.testing.assert_array_equal(hf.transform(X), Z)


def test_deterministic_and_unfitted_transform_matches():
    X = random_units(20, seed=2)
    hf = HandcraftedFeatures(intervals="top")
    Z = hf.fit_transform(X)
    np.testing.assert_array_equal(hf.transform(X), Z)
    np.testing.assert_array_equal(clone(hf).transform(X), Z)  # no fit needed
    assert Z.dtype == np.float64


def random_units(n, seed, width=12) -> Units:
    """Random note units, some padded, with chords (zero IOIs) and varied dtypes."""
    rng = np.random.default_rng(seed)
    events = np.full((n, width, 2), PAD, dtype=np.int32)
    n_events = rng.integers(1, width + 1, n)
    n_events[: n // 2] = width
    for i in range(n):
        k = n_events[i]
        events[i, :k, 0] = np.sort(rng.integers(20, 110, k))[rng.permutation(k)]
        events[i, :k, 1] = rng.choice([0, 0, 0, 17, 44, 120, 480, 2000, 40000], k)
    return Units(events, n_events=n_events)


def reference_features(
    pitches,
    iois,
    edges,
    interval_range,
    intervals,
    normalize,
    chord_ms=0.0,
    timing="absolute",
):
    """One unit's descriptor with plain Python loops: the specification."""
    n = len(pitches)
    # a note is linked to the next one (same chord) when its IOI is 0 or below
    # chord_ms; the last note of a chord carries the chord-level IOI (the sum of
    # the chord's IOIs), the others 0; with chord_ms > 0 chords are sorted
    linked = [v == 0 or v < chord_ms for v in iois]
    if chord_ms > 0:
        pitches, start, acc, chord_iois = list(pitches), 0, 0, []
        for j in range(n):
            acc += iois[j]
            chord_iois.append(0 if linked[j] else acc)
            if not linked[j]:
                acc = 0
            if not linked[j] or j == n - 1:
                pitches[start : j + 1] = sorted(pitches[start : j + 1])
                start = j + 1
        iois = chord_iois
    out = []
    pc = [0.0] * 12
    for p in pitches:
        pc[p % 12] += 1
    out += [c / n if normalize else c for c in pc]
    mean = sum(pitches) / n
    out += [mean, math.sqrt(sum((p - mean) ** 2 for p in pitches) / n)]
    out += [min(pitches), max(pitches), max(pitches) - min(pitches)]
    if intervals == "consecutive":
        line = list(pitches)
    else:
        line = [p for j, p in enumerate(pitches) if not linked[j] or j == n - 1]
    steps = [b - a for a, b in zip(line, line[1:])]
    hist = [0.0] * (interval_range + 1)
    for s in steps:
        hist[min(abs(s), interval_range)] += 1
    direction = [sum(s > 0 for s in steps), sum(s < 0 for s in steps)]
    total = len(steps) if normalize else 1
    out += [h / total if total else 0.0 for h in hist + direction]
    if timing == "relative":
        edges = RELATIVE_EDGES
        logs = [math.log2(v) for v in iois if v > 0]
        median = statistics.median_low(logs) if logs else 0.0
        values = [math.log2(v) - median if v > 0 else None for v in iois]
    else:
        values = [v if v > 0 else None for v in iois]
    bins = [0.0] * (len(edges) + 2)
    for v in values:
        bins[0 if v is None else 1 + sum(v >= e for e in edges)] += 1
    out += [b / n if normalize else b for b in bins]
    shared = [False] * n
    for j in range(1, n):
        if linked[j - 1]:
            shared[j - 1] = shared[j] = True
    if timing == "relative":
        rel = [v for v in values if v is not None]
        rel_mean = sum(rel) / len(rel) if rel else 0.0
        rel_std = math.sqrt(sum((v - rel_mean) ** 2 for v in rel) / max(len(rel), 1))
        out += [rel_mean, rel_std, sum(shared) / n]
        out += [n / max(sum(2**v for v in rel), 1.0)]
        return out
    logs = sorted(math.log1p(v) for v in iois)
    log_mean = sum(logs) / n
    out += [log_mean, math.sqrt(sum((v - log_mean) ** 2 for v in logs) / n)]
    out += [(logs[(n - 1) // 2] + logs[n // 2]) / 2]
    out += [sum(shared) / n, n / max(sum(iois) / 1000, 0.001)]
    return out


@pytest.mark.parametrize("intervals", ["consecutive", "top"])
@pytest.mark.parametrize("normalize", [True, False])
def test_matches_loop_reference_on_random_padded_units(intervals, normalize):
    X = random_units(60, seed=3)
    params = dict(ioi_bins=(10, 50, 400), interval_range=7)
    hf = HandcraftedFeatures(**params, intervals=intervals, normalize=normalize)
    Z = hf.fit_transform(X)
    for i in range(len(X)):
        k = X.n_events[i]
        pitches, iois = X.events[i, :k, 0].tolist(), X.events[i, :k, 1].tolist()
        expected = reference_features(
            pitches, iois, params["ioi_bins"], 7, intervals, normalize
        )
        np.testing.assert_allclose(Z[i], expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("intervals", ["consecutive", "top"])
@pytest.mark.parametrize(
    "chord_ms, timing",
    # 50000 makes chord-level IOIs (sums) exceed the lookup tables' range
    [(0.0, "relative"), (45.0, "absolute"), (45.0, "relative"), (50000, "absolute")],
)
def test_chords_and_timing_match_loop_reference(intervals, chord_ms, timing):
    X = random_units(60, seed=3)
    params = dict(ioi_bins=(10, 50, 400), interval_range=7)
    hf = HandcraftedFeatures(
        **params, intervals=intervals, chord_ms=chord_ms, timing=timing
    )
    Z = hf.fit_transform(X)
    for normalize in (True, False):
        Z = hf.set_params(normalize=normalize).transform(X)
        for i in range(len(X)):
            k = X.n_events[i]
            pitches, iois = X.events[i, :k, 0].tolist(), X.events[i, :k, 1].tolist()
            expected = reference_features(
                pitches, iois, params["ioi_bins"], 7, intervals, normalize,
                chord_ms, timing,
            )  # fmt: skip
            np.testing.assert_allclose(Z[i], expected, rtol=1e-12, atol=1e-12)


# -- chords and tempo ------------------------------------------------------------------
def test_default_is_exact_chords_and_absolute_timing():
    X = random_units(200, seed=8, width=40)
    for intervals in ("consecutive", "top"):
        default = HandcraftedFeatures(intervals=intervals).fit_transform(X)
        explicit = HandcraftedFeatures(
            intervals=intervals, chord_ms=0.0, timing="absolute"
        ).fit_transform(X)
        np.testing.assert_array_equal(default, explicit)
    assert HandcraftedFeatures().get_params()["chord_ms"] == 0.0
    assert HandcraftedFeatures().get_params()["timing"] == "absolute"


def test_sub_ms_chord_threshold_on_sorted_chords_is_the_default():
    # IOIs are whole ms: chord_ms=1 groups exactly the zero IOIs, and sorting
    # chords that are already sorted changes nothing
    X, _ = score_and_performance(range(10))
    default = HandcraftedFeatures().fit_transform(X)
    for chord_ms in (0.5, 1):
        np.testing.assert_array_equal(
            HandcraftedFeatures(chord_ms=chord_ms).fit_transform(X), default
        )
    names = HandcraftedFeatures(chord_ms=0.5).get_feature_names_out()
    assert names[32] == "ioi_hist_chord<0.5ms"


def score_and_performance(seeds, n_notes=40) -> tuple[Units, Units]:
    """Quantised units and the same units played with spread chords.

    Each unit is a run of chords of 1-4 notes, IOI 0 inside a chord and a note
    value (250-1000 ms) after it, pitches sorted low to high. In the performance
    the first note of each chord still sounds at the chord's onset, but the
    others follow 5-30 ms apart, in shuffled order.
    """
    score, played = [], []
    for seed in seeds:
        rng = np.random.default_rng(seed)
        s, p = [], []
        while len(s) < n_notes:
            k = min(int(rng.integers(1, 5)), n_notes - len(s))
            chord = np.sort(rng.choice(np.arange(36, 96), k, replace=False))
            ioi = int(rng.choice([250, 375, 500, 750, 1000]))
            s += [(q, 0) for q in chord[:-1]] + [(chord[-1], ioi)]
            gaps = rng.integers(5, 31, k - 1)
            arrival = rng.permutation(chord)
            p += list(zip(arrival[:-1], gaps)) + [(arrival[-1], ioi - gaps.sum())]
        score.append(s)
        played.append(p)
    return Units(np.array(score)), Units(np.array(played))


@pytest.mark.parametrize("timing", ["absolute", "relative"])
@pytest.mark.parametrize("intervals", ["consecutive", "top"])
def test_spread_chords_give_the_score_features(timing, intervals):
    score, played = score_and_performance(range(20))
    assert (played.events[..., 1] == 0).sum() == 0  # no exact chord is left
    hf = HandcraftedFeatures(chord_ms=35, timing=timing, intervals=intervals)
    np.testing.assert_allclose(
        hf.fit_transform(played), hf.fit_transform(score), rtol=1e-12, atol=1e-12
    )
    # the default sees the spread: the chord bin empties, intervals change
    plain = HandcraftedFeatures(intervals=intervals, timing=timing)
    assert not np.allclose(plain.fit_transform(played), plain.fit_transform(score))


def scaled(X: Units, factor: float) -> Units:
    """``X`` with every IOI times ``factor``, rounded to whole ms."""
    events = X.events.copy()
    events[..., 1] = np.round(events[..., 1] * factor)
    return X._with_events(events)


@pytest.mark.parametrize("chord_ms", [0.0, 35.0])
def test_relative_timing_ignores_a_tempo_change(chord_ms):
    # (not the performance: rounding a 5-30 ms chord spread to whole ms changes
    # its ratios by up to 10 %, and 30 ms x 1.25 is no longer below chord_ms)
    score, _ = score_and_performance(range(20))
    hf = HandcraftedFeatures(chord_ms=chord_ms, timing="relative")
    Z = hf.fit_transform(score)
    # a histogram bin that changed would move a fraction 1/40 = 0.025
    for factor in (0.8, 1.1, 1.25):
        np.testing.assert_allclose(
            hf.transform(scaled(score, factor)), Z, rtol=0.01, atol=0.01
        )
    np.testing.assert_allclose(hf.transform(scaled(score, 2)), Z, atol=1e-12)
    # absolute timing does change: IOIs move to other bins, density changes
    absolute = HandcraftedFeatures(chord_ms=chord_ms)
    assert not np.allclose(
        absolute.fit_transform(scaled(score, 1.25)),
        absolute.fit_transform(score),
        rtol=0.01,
        atol=0.01,
    )


def test_relative_columns_by_hand():
    # a C major chord spread over 20 ms, then 72 and 71, one median IOI apart,
    # then 60 two median IOIs later (whole unit at a tempo of 300 ms per beat)
    X = make_units([([64, 60, 67, 72, 71, 60], [5, 15, 280, 300, 600, 300])])
    hf = HandcraftedFeatures(chord_ms=35, timing="relative", normalize=False)
    row = as_dict(hf, hf.fit_transform(X))[0]
    # chord-level IOIs: 0 0 300 300 600 300 -> median 300, log2 ratios 0 0 1 0
    assert row["ioi_rel_hist_chord"] == 2
    assert row["ioi_rel_hist_-0.5to0.5oct"] == 3
    assert row["ioi_rel_hist_0.5to1.5oct"] == 1
    assert row["ioi_rel_log2_mean"] == pytest.approx(0.25)
    assert row["ioi_rel_log2_std"] == pytest.approx(math.sqrt(3) / 4)
    assert row["simultaneous_fraction"] == pytest.approx(3 / 6)
    assert row["notes_per_median_ioi"] == pytest.approx(6 / 5)  # 5 median IOIs
    # the chord is sorted: 60 64 67 72 71 60
    assert row["interval_hist_4"] == 1 and row["interval_hist_3"] == 1
    assert row["interval_up"] == 3 and row["interval_down"] == 2
    assert "ioi_log_median" not in row and "note_density" not in row


def test_relative_timing_of_units_without_time():
    # every note in one chord: nothing to divide by, zeros and a finite density
    X = make_units([ROW_C, ([60, 64, 67], [3, 9, 20])])
    hf = HandcraftedFeatures(chord_ms=35, timing="relative")
    rows = as_dict(hf, hf.fit_transform(X))
    for row, n in zip(rows, [2, 3]):
        assert row["ioi_rel_hist_chord"] == 1.0
        assert row["ioi_rel_log2_mean"] == row["ioi_rel_log2_std"] == 0.0
        assert row["notes_per_median_ioi"] == n
        assert row["simultaneous_fraction"] == 1.0


# -- sklearn API -----------------------------------------------------------------------
@pytest.mark.parametrize(
    "params",
    [
        {},
        {"ioi_bins": [100]},
        {"interval_range": 24, "ioi_bins": np.geomspace(10, 1e4, 10)},
    ],
)
@pytest.mark.parametrize("chord_ms", [0.0, 35])
@pytest.mark.parametrize("timing", ["absolute", "relative"])
@pytest.mark.parametrize("intervals", ["consecutive", "top"])
def test_feature_names_match_columns(params, chord_ms, timing, intervals):
    hf = HandcraftedFeatures(
        **params, chord_ms=chord_ms, timing=timing, intervals=intervals
    )
    names = hf.get_feature_names_out()
    Z = hf.fit_transform(random_units(5, seed=4))
    assert names.dtype == object
    if timing == "absolute":
        width = 27 + hf.interval_range + len(hf.ioi_bins)
    else:  # 8 relative IOI bins, 2 statistics, simultaneity, density
        width = 32 + hf.interval_range
    assert len(names) == Z.shape[1] == width
    assert len(set(names)) == len(names)


def test_chord_and_relative_column_names():
    names = HandcraftedFeatures(chord_ms=35).get_feature_names_out().tolist()
    assert names[32:34] == ["ioi_hist_chord<35ms", "ioi_hist_0-44ms"]
    assert names[33:] == HandcraftedFeatures().get_feature_names_out()[33:].tolist()
    relative = HandcraftedFeatures(timing="relative").get_feature_names_out()
    assert relative.tolist()[:32] == names[:32]
    assert relative.tolist()[32:] == [
        "ioi_rel_hist_chord",
        "ioi_rel_hist_<-2.5oct",
        *[f"ioi_rel_hist_{a:g}to{a + 1:g}oct" for a in RELATIVE_EDGES[:-1]],
        "ioi_rel_hist_>=2.5oct",
        "ioi_rel_log2_mean",
        "ioi_rel_log2_std",
        "simultaneous_fraction",
        "notes_per_median_ioi",
    ]
    assert "ioi_rel_hist_-0.5to0.5oct" in relative
    assert handcrafted_module.RELATIVE_IOI_BINS == tuple(RELATIVE_EDGES)


def test_default_columns_and_names():
    names = HandcraftedFeatures().get_feature_names_out().tolist()
    assert len(names) == 45
    assert names[:12] == [f"pitch_class_{pc}" for pc in PITCH_CLASSES]
    assert names[12:17] == [
        "pitch_mean",
        "pitch_std",
        "pitch_min",
        "pitch_max",
        "pitch_range",
    ]
    assert names[17:30] == [f"interval_hist_{k}" for k in range(12)] + [
        "interval_hist_12+"
    ]
    assert names[30:32] == ["interval_up", "interval_down"]
    assert names[32:40] == DEFAULT_IOI_NAMES
    assert names[40:] == [
        "ioi_log_mean",
        "ioi_log_std",
        "ioi_log_median",
        "simultaneous_fraction",
        "note_density",
    ]


def test_pandas_output():
    pd = pytest.importorskip("pandas")
    X = make_units(ROWS)
    hf = HandcraftedFeatures().set_output(transform="pandas")
    df = hf.fit_transform(X)
    assert isinstance(df, pd.DataFrame)
    assert list(df.columns) == hf.get_feature_names_out().tolist()
    np.testing.assert_array_equal(df.to_numpy(), HandcraftedFeatures().fit_transform(X))
    assert df.loc[0, "pitch_class_C"] == 0.5
    assert isinstance(hf.transform(X), pd.DataFrame)


def test_pipeline_with_scaler_and_feature_names():
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    pipe = make_pipeline(HandcraftedFeatures(), StandardScaler())
    Z = pipe.fit_transform(random_units(30, seed=5))
    assert Z.shape == (30, 45)
    np.testing.assert_array_equal(
        pipe.get_feature_names_out(), HandcraftedFeatures().get_feature_names_out()
    )


def test_clone_get_params_and_sklearn_api_checks():
    hf = HandcraftedFeatures(ioi_bins=(10, 100), interval_range=5, normalize=False)
    assert hf.get_params() == {
        "intervals": "consecutive",
        "interval_range": 5,
        "ioi_bins": (10, 100),
        "normalize": False,
        "chord_ms": 0.0,
        "timing": "absolute",
    }
    copy = clone(hf)
    assert copy is not hf and copy.get_params() == hf.get_params()
    assert copy.set_params(intervals="top").intervals == "top"
    assert copy.set_params(chord_ms=35, timing="relative").timing == "relative"
    name = "HandcraftedFeatures"
    for check in (
        check_no_attributes_set_in_init,
        check_parameters_default_constructible,
        check_get_params_invariance,
        check_set_params,
        check_do_not_raise_errors_in_init_or_set_params,
    ):
        check(name, HandcraftedFeatures())
        check(name, HandcraftedFeatures(chord_ms=35, timing="relative"))
    tags = get_tags(hf)
    assert tags.requires_fit is False
    assert tags.input_tags.two_d_array is False


def test_fit_records_width_and_does_not_touch_parameters():
    bins = [10, 100]
    hf = HandcraftedFeatures(ioi_bins=bins)
    X = make_units(ROWS)
    assert hf.fit(X) is hf
    assert hf.n_events_in_ == 6 and hf.n_features_in_ == 12
    assert hf.ioi_bins is bins and bins == [10, 100]
    with pytest.raises(ValueError, match="X has 40 events per unit .* expecting 6"):
        hf.transform(make_units(ROWS, width=40))
    # refitting resets the width
    assert hf.fit(make_units(ROWS, width=40)).n_events_in_ == 40


# -- refusals --------------------------------------------------------------------------
def test_refuses_plain_arrays():
    for X in (np.zeros((4, 40, 2), dtype=int), np.zeros((4, 80)), [[60, 0]]):
        with pytest.raises(TypeError, match="HandcraftedFeatures needs Units"):
            HandcraftedFeatures().fit(X)
        with pytest.raises(TypeError, match="HandcraftedFeatures needs Units"):
            HandcraftedFeatures().transform(X)


def test_refuses_nan_and_non_integer_events():
    X = make_units(ROWS)
    X.events = X.events.astype(np.float64)
    with pytest.raises(TypeError, match="must hold integers, got dtype float64"):
        HandcraftedFeatures().fit(X)
    X.events[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="Input X.events contains NaN"):
        HandcraftedFeatures().fit(X)


def test_refuses_wrong_shapes():
    X = make_units(ROWS)
    X.events = X.events[..., 0]
    with pytest.raises(ValueError, match=r"shape \(n_units, n_events, 2\)"):
        HandcraftedFeatures().transform(X)
    X = make_units(ROWS)
    X.n_events = X.n_events[:2]
    with pytest.raises(ValueError, match=r"Units.n_events must have shape \(4,\)"):
        HandcraftedFeatures().fit(X)


def test_refuses_empty_input_and_empty_units():
    X = make_units(ROWS)
    with pytest.raises(ValueError, match="found 0 units"):
        HandcraftedFeatures().fit(X[np.array([], dtype=int)])
    empty_row = Units(X.events, n_events=[6, 3, 0, 1])
    with pytest.raises(ValueError, match="1..6 events .* row 2 with n_events=0"):
        HandcraftedFeatures().transform(empty_row)
    with pytest.raises(ValueError, match="row 0 with n_events=7"):
        HandcraftedFeatures().fit(Units(X.events, n_events=[7, 3, 2, 1]))


def test_refuses_beat_units():
    X = make_units(ROWS, kind="beats")
    with pytest.raises(ValueError, match="needs units of kind 'notes' .* 'beats'"):
        HandcraftedFeatures().fit(X)


@pytest.mark.parametrize(
    "row, match",
    [
        (([60, 128], [0, 10]), r"pitches must lie in 0..127, found 60..128"),
        (([-3, 60], [0, 10]), r"pitches must lie in 0..127, found -3..72"),
        (([60, 62], [10, -5]), "inter-onset intervals must be non-negative"),
    ],
)
def test_refuses_out_of_range_events(row, match):
    with pytest.raises(ValueError, match=match):
        HandcraftedFeatures().fit(make_units([ROW_A, row]))


@pytest.mark.parametrize(
    "params, match",
    [
        ({"ioi_bins": []}, "ioi_bins must be a non-empty sequence"),
        ({"ioi_bins": 100}, "ioi_bins must be a non-empty sequence"),
        ({"ioi_bins": "100"}, "ioi_bins must be a non-empty sequence"),
        ({"ioi_bins": [100, 50]}, "ioi_bins must be strictly increasing"),
        ({"ioi_bins": [50, 50]}, "ioi_bins must be strictly increasing"),
        ({"ioi_bins": [0, 50]}, r"ioi_bins\[0\] must be a finite number > 0.0"),
        ({"ioi_bins": [10, np.nan]}, r"ioi_bins\[1\] must be a finite number"),
        ({"ioi_bins": [10, "a"]}, r"ioi_bins\[1\] must be a finite number"),
        ({"interval_range": 0}, "interval_range must be a positive integer"),
        ({"interval_range": 2.5}, "interval_range must be a positive integer"),
        ({"interval_range": True}, "interval_range must be a positive integer"),
        ({"interval_range": 128}, "interval_range must be at most 127"),
        ({"intervals": "melody"}, "intervals must be one of"),
        ({"intervals": None}, "intervals must be one of"),
        ({"normalize": "yes"}, "normalize must be a bool"),
        ({"normalize": 1}, "normalize must be a bool"),
        ({"chord_ms": -1}, "chord_ms must be a finite number >= 0.0, got -1"),
        ({"chord_ms": np.nan}, "chord_ms must be a finite number"),
        ({"chord_ms": np.inf}, "chord_ms must be a finite number"),
        ({"chord_ms": "35"}, "chord_ms must be a finite number"),
        ({"chord_ms": None}, "chord_ms must be a finite number"),
        ({"chord_ms": True}, "chord_ms must be a finite number"),
        (
            {"timing": "tempo"},
            r"timing must be one of \('absolute', 'relative'\), got 'tempo'",
        ),
        ({"timing": None}, r"timing must be one of \('absolute', 'relative'\)"),
        ({"timing": ["relative"]}, "timing must be one of"),
    ],
)
def test_invalid_parameters_name_themselves(params, match):
    hf = HandcraftedFeatures(**params)  # no error before fit
    for call in (
        lambda: hf.fit(make_units(ROWS)),
        lambda: hf.transform(make_units(ROWS)),
        hf.get_feature_names_out,
    ):
        with pytest.raises(ValueError, match=f"HandcraftedFeatures: {match}"):
            call()


def test_numpy_parameter_values_are_accepted():
    hf = HandcraftedFeatures(
        ioi_bins=np.array([10, 100]), interval_range=np.int64(6), normalize=np.True_
    )
    assert hf.fit_transform(make_units(ROWS)).shape == (4, 27 + 6 + 2)
    hf.set_params(chord_ms=np.float32(35), timing=np.str_("relative"))
    assert hf.fit_transform(make_units(ROWS)).shape == (4, 32 + 6)
    assert hf.get_feature_names_out()[26] == "ioi_rel_hist_chord"  # 17 + 7 + 2


# -- real music ------------------------------------------------------------------------
def check_sane(Z: np.ndarray, names: np.ndarray) -> None:
    """Ranges every descriptor of real note units must respect."""
    assert np.isfinite(Z).all()
    col = {name: Z[:, i] for i, name in enumerate(names)}
    names = names.astype(str)
    for prefix in ("pitch_class_", "ioi_hist_"):
        block = Z[:, np.char.startswith(names, prefix)]
        np.testing.assert_allclose(block.sum(axis=1), 1.0)
        assert (block >= 0).all()
    intervals = Z[:, np.char.startswith(names, "interval_hist_")]
    np.testing.assert_allclose(intervals.sum(axis=1)[intervals.sum(axis=1) > 0], 1.0)
    for name in ("interval_up", "interval_down", "simultaneous_fraction"):
        assert ((col[name] >= 0) & (col[name] <= 1)).all(), name
    assert (col["interval_up"] + col["interval_down"] <= 1 + 1e-12).all()
    assert ((col["pitch_min"] >= 0) & (col["pitch_max"] <= 127)).all()
    assert (col["pitch_min"] <= col["pitch_mean"]).all()
    assert (col["pitch_mean"] <= col["pitch_max"]).all()
    np.testing.assert_array_equal(
        col["pitch_range"], col["pitch_max"] - col["pitch_min"]
    )
    assert ((col["pitch_std"] >= 0) & (col["pitch_std"] <= 64)).all()
    # log1p of at most 32767 ms
    for name in ("ioi_log_mean", "ioi_log_median"):
        assert ((col[name] >= 0) & (col[name] <= math.log1p(32767))).all()
    assert (col["note_density"] > 0).all()
    assert 1 < np.median(col["note_density"]) < 40  # notes per second


def test_on_music21_corpus(tmp_path):
    # three Bach chorales (22 units): music21 converts them in about 2 s
    corpus = load_music21_corpus(
        composers=("bach",), max_pieces_per_composer=3, cache_dir=tmp_path
    )
    units = segment_notes(
        corpus.pieces, labels=corpus.labels, piece_ids=corpus.piece_ids
    )
    hf = HandcraftedFeatures()
    Z = hf.fit_transform(units)
    assert Z.shape == (len(units), 45)
    check_sane(Z, hf.get_feature_names_out())


def test_on_piano_midi(piano_midi_root):
    corpus = load_midi_corpus(piano_midi_root)
    units = segment_notes(corpus.pieces, labels=corpus.labels)
    for intervals in ("consecutive", "top"):
        hf = HandcraftedFeatures(intervals=intervals)
        Z = hf.fit_transform(units)
        assert Z.shape == (len(units), 45)
        check_sane(Z, hf.get_feature_names_out())
    # piano music is chordal: about half the IOIs are 0 (47.5 % here)
    names = hf.get_feature_names_out().tolist()
    assert 0.3 < Z[:, names.index("ioi_hist_0ms")].mean() < 0.7
    # and most notes share their onset with another (71 %)
    assert 0.5 < Z[:, names.index("simultaneous_fraction")].mean() < 0.9
    # the performance-robust configuration: tempo-free, chords within 35 ms
    robust = HandcraftedFeatures(chord_ms=35, timing="relative")
    R = robust.fit_transform(units)
    rnames = robust.get_feature_names_out()
    assert R.shape == (len(units), 44) and np.isfinite(R).all()
    hist = R[:, np.char.startswith(rnames.astype(str), "ioi_rel_hist_")]
    np.testing.assert_allclose(hist.sum(axis=1), 1.0)
    rcol = dict(zip(rnames, R.T))
    # more notes join chords than exact zero IOIs alone (48.7 % vs 47.5 %)
    chord = rcol["ioi_rel_hist_chord"]
    assert (chord >= Z[:, names.index("ioi_hist_0ms")]).all()
    assert 0.3 < chord.mean() < 0.7
    # ratios to the median IOI centre near 0 octaves (median of the means 0.011)
    assert abs(np.median(rcol["ioi_rel_log2_mean"])) < 0.5
    assert 1 < np.median(rcol["notes_per_median_ioi"]) < 5
