"""The performance model: every effect does what it says, on generated notes.

Quantised pieces are generated from NumPy (chords of 1-3 notes on a 250/500 ms
grid), played through :class:`~sklearn_musemb.units.PerformanceModel` one effect
at a time, and the performed notes are compared with the score notes they come
from (``return_sources=True``), never with another run of the model.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.utils import get_tags
from sklearn.utils.estimator_checks import (
    check_get_params_invariance,
    check_no_attributes_set_in_init,
    check_parameters_default_constructible,
    check_set_params,
)

from sklearn_musemb.io import NOTE_DTYPE, NoteTable
from sklearn_musemb.units import (
    PerformanceModel,
    Units,
    perform_onsets,
    perform_unit_events,
    segment_notes,
)
from sklearn_musemb.units.performance import (
    JOIN_GAP_MS,
    STRENGTH_RANGES,
    extended_windows,
    successor_rows,
)
from sklearn_musemb.units.segment import IOI_MAX_MS

N_NOTES = 8


# -- generated music -------------------------------------------------------------------
def table(onset, pitch, *, velocity=80, duration=0.3) -> NoteTable:
    """A NoteTable of the given onsets (s) and pitches, in segment order."""
    notes = np.zeros(len(onset), dtype=NOTE_DTYPE)
    notes["onset"] = onset
    notes["offset"] = np.asarray(onset, dtype=float) + duration
    notes["onset_tick"] = np.rint(np.asarray(onset) * 960)
    notes["offset_tick"] = np.rint(notes["offset"] * 960)
    notes["pitch"] = pitch
    notes["velocity"] = velocity
    order = np.lexsort((notes["pitch"], notes["onset"]))
    return NoteTable(notes=notes[order], ticks_per_beat=480)


def chord_piece(n_chords=60, *, seed=0, max_chord=3, steps=(0.25, 0.5), start=0.0):
    """Chords of 1..max_chord distinct pitches (48..83) on a quantised grid."""
    rng = np.random.default_rng(seed)
    onsets, pitches = [], []
    t = start
    for _ in range(n_chords):
        k = int(rng.integers(1, max_chord + 1))
        onsets += [t] * k
        pitches += rng.choice(np.arange(48, 84), size=k, replace=False).tolist()
        t += float(rng.choice(steps))
    return table(onsets, pitches)


def melody(n=400, *, step=0.1, seed=0):
    """A monophonic line, one note every ``step`` seconds."""
    rng = np.random.default_rng(seed)
    return table(np.arange(n) * step, rng.integers(48, 84, n))


def units_of(pieces, n_notes=N_NOTES, **kwargs) -> Units:
    return segment_notes(pieces, n_notes=n_notes, **kwargs)


def performed(model, piece):
    """Performed notes of one piece and the score note each comes from."""
    (out,), (source,) = model.perform(piece, return_sources=True)
    return out.notes, source


# -- identity and determinism ----------------------------------------------------------
def test_default_model_is_identity_on_tables_and_units():
    model = PerformanceModel()
    assert model.is_identity()
    piece = chord_piece(start=1.5)
    notes, source = performed(model, piece)
    np.testing.assert_array_equal(source, np.arange(len(piece.notes)))
    np.testing.assert_allclose(notes["onset"], piece.notes["onset"], atol=1e-9)
    np.testing.assert_allclose(notes["offset"], piece.notes["offset"], atol=1e-9)
    for field in ("pitch", "velocity", "onset_tick", "offset_tick", "track"):
        np.testing.assert_array_equal(notes[field], piece.notes[field])

    units = units_of([piece, chord_piece(seed=1)])
    for pieces in (None, [piece, chord_piece(seed=1)]):
        out = model.perform_units(units, pieces=pieces)
        np.testing.assert_array_equal(out.events, units.events)
        assert out.events.dtype == units.events.dtype
        np.testing.assert_array_equal(out.meta["source_rows"], np.arange(len(units)))
        assert out.meta["skipped_units"] == 0


def test_identity_lists_chords_by_pitch_on_units_built_from_arrays():
    # a chord (intervals 0) whose notes are not in pitch order comes back in the
    # order segment_notes lists chords (documented), the rest unchanged
    units = Units(np.array([[[67, 0], [60, 0], [64, 500], [65, 500]]]))
    out = PerformanceModel().perform_units(units)
    assert out.events.tolist() == [[[60, 0], [64, 0], [67, 500], [65, 500]]]


def test_identity_on_random_units_with_pitch_sorted_chords():
    rng = np.random.default_rng(0)
    events = np.stack(
        [rng.integers(40, 90, (12, 6)), rng.choice([0, 125, 250, 500], (12, 6))], -1
    )
    events[:, -1, 1] = 250  # no chord across units
    events[3, -1, 1] = 0  # ends its piece
    # segment_notes order: notes of a chord (interval 0 to the next) by pitch
    for unit in events:
        start = 0
        for i in range(len(unit)):
            if unit[i, 1] != 0 or i == len(unit) - 1:
                unit[start : i + 1, 0] = np.sort(unit[start : i + 1, 0])
                start = i + 1
    units = Units(events, piece=np.repeat([0, 1, 2], 4), position=np.tile(range(4), 3))
    out = PerformanceModel().perform_units(units)
    np.testing.assert_array_equal(out.events, units.events)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"velocity": 5.0},
        {"tempo": (1.0, 1.0)},
        {"rubato": 0.1},
    ],
)
def test_is_identity_only_when_every_effect_is_off(kwargs):
    assert PerformanceModel(**kwargs).is_identity() == (kwargs == {"tempo": (1.0, 1.0)})


def test_same_seed_same_performance_other_seed_another():
    piece = chord_piece(n_chords=120)
    units = units_of([piece])
    a = PerformanceModel.typical(random_state=3)
    b = PerformanceModel.typical(random_state=3)
    c = PerformanceModel.typical(random_state=4)
    na, sa = performed(a, piece)
    nb, sb = performed(b, piece)
    nc, _ = performed(c, piece)
    np.testing.assert_array_equal(sa, sb)
    for field in NOTE_DTYPE.names:
        np.testing.assert_array_equal(na[field], nb[field])
    assert len(na) != len(nc) or not np.allclose(na["onset"], nc["onset"])

    ua, ub, uc = (m.perform_units(units) for m in (a, b, c))
    np.testing.assert_array_equal(ua.events, ub.events)
    np.testing.assert_array_equal(ua.meta["source_rows"], ub.meta["source_rows"])
    assert ua.events.shape != uc.events.shape or (ua.events != uc.events).any()
    # calling again gives the same performance: the model keeps no state
    np.testing.assert_array_equal(a.perform_units(units).events, ua.events)


# -- timing effects --------------------------------------------------------------------
@pytest.mark.parametrize("factor", [0.6, 0.8, 1.25, 1.6])
def test_fixed_tempo_scales_every_interval(factor):
    piece = chord_piece(start=2.0)
    notes, source = performed(PerformanceModel(tempo=factor), piece)
    np.testing.assert_array_equal(source, np.arange(len(piece.notes)))
    np.testing.assert_array_equal(notes["pitch"], piece.notes["pitch"])
    assert notes["onset"][0] == pytest.approx(piece.notes["onset"][0])
    np.testing.assert_allclose(
        np.diff(notes["onset"]), factor * np.diff(piece.notes["onset"]), atol=1e-9
    )
    # durations follow the tempo (no articulation)
    np.testing.assert_allclose(
        notes["offset"] - notes["onset"],
        factor * (piece.notes["offset"] - piece.notes["onset"]),
        atol=1e-9,
    )

    units = units_of([piece])
    ioi = units.events[..., 1].astype(float)
    for pieces in (None, [piece]):
        out = PerformanceModel(tempo=factor).perform_units(units, pieces=pieces)
        assert len(out) == len(units)
        np.testing.assert_array_equal(out.events[..., 0], units.events[..., 0])
        assert np.abs(out.events[..., 1] - factor * ioi).max() <= 0.5 + 1e-6


def test_tempo_range_draws_one_factor_per_unit():
    rng = np.random.default_rng(0)
    # intervals of 400-800 ms: the rounding error of a ratio stays below 0.2 %
    events = np.stack(
        [rng.integers(40, 90, (30, 8)), rng.integers(400, 800, (30, 8))], -1
    )
    units = Units(events, piece=np.arange(30))  # every unit alone in its piece
    out = PerformanceModel(tempo=(0.7, 1.5), random_state=0).perform_units(units)
    ratio = out.events[..., 1] / units.events[..., 1]
    per_unit = ratio.mean(1)
    np.testing.assert_allclose(ratio, per_unit[:, None] * np.ones((1, 8)), rtol=3e-3)
    assert per_unit.min() >= 0.7 - 2e-3 and per_unit.max() <= 1.5 + 2e-3
    assert per_unit.std() > 0.1  # not one factor for all


def test_asynchrony_spreads_chords_only_and_the_melody_leads():
    spread = 40.0
    piece = chord_piece(n_chords=200)
    notes, source = performed(
        PerformanceModel(asynchrony_ms=spread, random_state=0), piece
    )
    assert np.sort(source).tolist() == list(range(len(piece.notes)))
    np.testing.assert_array_equal(notes["pitch"], piece.notes["pitch"][source])
    score_onset = piece.notes["onset"][source]
    assert (np.diff(notes["onset"]) >= 0).all()
    n_spread = 0
    for t in np.unique(score_onset):
        chord = score_onset == t
        played = notes["onset"][chord] * 1000
        pitch = notes["pitch"][chord]
        if chord.sum() == 1:  # lone notes keep their time exactly
            assert played[0] == pytest.approx(t * 1000, abs=1e-6)
            continue
        # the highest note is first and on time, the others within the spread
        assert played[np.argmax(pitch)] == pytest.approx(t * 1000, abs=1e-6)
        assert played.min() == pytest.approx(t * 1000, abs=1e-6)
        assert np.ptp(played) <= spread + 1e-6
        n_spread += np.ptp(played) > 1.0
    assert n_spread > 20


def test_asynchrony_on_units_turns_chord_zeros_into_small_intervals():
    piece = chord_piece(n_chords=100)
    units = units_of([piece])
    out = PerformanceModel(asynchrony_ms=30, random_state=0).perform_units(units)
    ioi = units.events[..., 1]
    played = out.events[..., 1]
    assert len(out) == len(units)
    # a chord's zeros become intervals within the spread; the melody note leads
    assert (played[ioi == 0] <= 30 + 1).all()
    assert (played[ioi == 0] > 0).mean() > 0.5


@pytest.mark.parametrize("with_pieces", [False, True])
def test_units_cut_with_chord_ms_perform_spread_chords_as_the_score(with_pieces):
    pieces = [chord_piece(n_chords=100, seed=s) for s in range(3)]
    units = segment_notes(pieces, n_notes=N_NOTES, chord_ms=35)
    model = PerformanceModel(asynchrony_ms=30, random_state=0)
    out = model.perform_units(units, pieces=pieces if with_pieces else None)
    rows = out.meta["source_rows"]
    assert len(rows) == len(units)
    np.testing.assert_array_equal(out.events[..., 0], units.events[rows, :, 0])
    assert np.abs(out.events[..., 1] - units.events[rows, :, 1].astype(int)).max() <= 1
    # cut exactly (chord_ms=0), the same performance moves chord notes around
    plain = segment_notes(pieces, n_notes=N_NOTES)
    spread = model.perform_units(plain, pieces=pieces if with_pieces else None)
    assert (spread.events[..., 0] != plain.events[..., 0]).mean() > 0.2


@pytest.mark.parametrize("pieces", [False, True])
def test_deletions_keep_order_and_remove_about_the_rate(pieces):
    rate = 0.2
    piece = melody(4000)
    notes, source = performed(
        PerformanceModel(deletion_rate=rate, random_state=0), piece
    )
    assert (np.diff(source) > 0).all()
    np.testing.assert_array_equal(notes["pitch"], piece.notes["pitch"][source])
    # timing unchanged: the remaining notes keep their score onsets
    np.testing.assert_allclose(notes["onset"], piece.notes["onset"][source], atol=1e-9)
    dropped = 1 - len(notes) / len(piece.notes)
    assert abs(dropped - rate) < 4 * math.sqrt(rate * (1 - rate) / len(piece.notes))

    units = units_of([piece])[:-1]  # the last unit is tested on its own below
    out = PerformanceModel(deletion_rate=rate, random_state=0).perform_units(
        units, pieces=[piece] if pieces else None
    )
    # a deletion shortens nothing but removes notes: intervals are sums of score ones
    assert set(np.unique(out.events[..., 1])) <= {0, 100, 200, 300, 400, 500, 600, 700}
    assert (out.events[..., 1] > 100).mean() > 0.1


def test_insertions_add_grace_notes_just_before_their_note():
    rate = 0.25
    piece = chord_piece(n_chords=800)
    notes, source = performed(
        PerformanceModel(insertion_rate=rate, random_state=0), piece
    )
    score = piece.notes[source]
    grace = notes["pitch"] != score["pitch"]
    original = ~grace
    # every score note is played once; graces come on top
    np.testing.assert_array_equal(
        np.sort(source[original]), np.arange(len(piece.notes))
    )
    n = len(piece.notes)
    assert abs(grace.sum() / n - rate) < 4 * math.sqrt(rate * (1 - rate) / n)
    step = notes["pitch"][grace].astype(int) - score["pitch"][grace].astype(int)
    assert set(np.unique(step)) == {-2, -1, 1, 2}
    # performed onset of each source's original note
    shift = notes["onset"][original] - score["onset"][original]
    np.testing.assert_allclose(shift, shift[0], atol=1e-9)  # timing unchanged
    onset_of = dict(zip(source[original], notes["onset"][original], strict=True))
    lead = np.array([onset_of[s] for s in source[grace]]) - notes["onset"][grace]
    assert lead.min() >= 0.030 - 1e-9 and lead.max() <= 0.090 + 1e-9
    assert np.ptp(lead) > 0.03  # uniform over the range, not one value


def test_octave_doubling_adds_octaves_at_the_same_onset():
    rate = 0.25
    piece = chord_piece(n_chords=800)
    notes, source = performed(
        PerformanceModel(octave_doubling=rate, random_state=0), piece
    )
    score = piece.notes[source]
    extra = notes["pitch"] != score["pitch"]
    np.testing.assert_array_equal(np.sort(source[~extra]), np.arange(len(piece.notes)))
    n = len(piece.notes)
    assert abs(extra.sum() / n - rate) < 4 * math.sqrt(rate * (1 - rate) / n)
    diff = notes["pitch"][extra].astype(int) - score["pitch"][extra].astype(int)
    expected = np.where(score["pitch"][extra] >= 60, -12, 12)
    np.testing.assert_array_equal(diff, expected)
    # same onset as the score note (tempo 1, no other effect)
    np.testing.assert_allclose(notes["onset"], score["onset"], atol=1e-9)


def test_jitter_changes_intervals_between_chords_only():
    piece = chord_piece(n_chords=100)
    units = units_of([piece])
    out = PerformanceModel(jitter=0.3, random_state=0).perform_units(units)
    ioi, played = units.events[..., 1], out.events[..., 1]
    np.testing.assert_array_equal(out.events[..., 0], units.events[..., 0])
    np.testing.assert_array_equal(played == 0, ioi == 0)
    changed = played[ioi > 0] != ioi[ioi > 0]
    assert changed.mean() > 0.9
    ratio = played[ioi > 0] / ioi[ioi > 0]
    assert 0.1 < np.log(ratio).std() < 0.6


def test_rubato_is_a_smooth_tempo_curve_unlike_jitter():
    piece = melody(400, step=0.1)
    for seed in range(3):
        (out,) = PerformanceModel(rubato=0.3, random_state=seed).perform(piece)
        log_tempo = np.log(np.diff(out.notes["onset"]) / 0.1)
        assert log_tempo.std() > 0.15  # the tempo does wander
        step = np.diff(log_tempo)  # ratio of consecutive intervals
        assert np.abs(step).max() < 0.2 and step.std() < 0.1
        (jittered,) = PerformanceModel(jitter=0.3, random_state=seed).perform(piece)
        assert np.diff(np.log(np.diff(jittered.notes["onset"]))).std() > 0.25
    # chord notes stay together under rubato
    units = units_of([chord_piece(n_chords=100)])
    played = PerformanceModel(rubato=0.5, random_state=0).perform_units(units)
    np.testing.assert_array_equal(played.events[..., 1] == 0, units.events[..., 1] == 0)


def test_velocity_and_articulation_change_only_tables():
    piece = chord_piece(n_chords=100)
    notes, _ = performed(PerformanceModel(velocity=20, random_state=0), piece)
    for field in ("onset", "offset", "pitch"):
        np.testing.assert_allclose(notes[field], piece.notes[field], atol=1e-9)
    assert (notes["velocity"] != piece.notes["velocity"]).mean() > 0.5
    assert notes["velocity"].min() >= 1 and notes["velocity"].max() <= 127

    notes, _ = performed(PerformanceModel(articulation=0.5, random_state=0), piece)
    for field in ("onset", "pitch", "velocity"):
        np.testing.assert_allclose(notes[field], piece.notes[field], atol=1e-9)
    ratio = (notes["offset"] - notes["onset"]) / 0.3
    assert np.log(ratio).std() > 0.3 and (ratio > 0).all()

    units = units_of([piece])
    model = PerformanceModel(velocity=20, articulation=0.5, random_state=0)
    assert not model.is_identity()
    for pieces in (None, [piece]):
        out = model.perform_units(units, pieces=pieces)
        np.testing.assert_array_equal(out.events, units.events)


def test_velocity_is_clipped_to_midi_range():
    piece = table(np.arange(200) * 0.25, np.full(200, 60), velocity=120)
    notes, _ = performed(PerformanceModel(velocity=64, random_state=0), piece)
    assert notes["velocity"].max() == 127 and notes["velocity"].min() >= 1


# -- alignment and skipped units -------------------------------------------------------
def test_performed_units_align_with_their_source_rows():
    pieces = [chord_piece(n_chords=80, seed=s) for s in range(3)]
    units = segment_notes(pieces, n_notes=N_NOTES, labels=["a", "b", "c"])
    for p in (None, pieces):
        out = PerformanceModel.typical(random_state=0).perform_units(units, pieces=p)
        rows = out.meta["source_rows"]
        assert len(rows) == len(out) == len(units) - out.meta["skipped_units"]
        assert (np.diff(rows) > 0).all()
        for name in ("piece", "position", "variant", "labels", "n_events"):
            np.testing.assert_array_equal(
                getattr(out, name), getattr(units, name)[rows]
            )
        assert out.kind == "notes" and out.events.shape[1:] == units.events.shape[1:]
        assert "source_rows" not in units.meta  # the input is not touched


def test_performed_units_from_pieces_use_piece_ids():
    pieces = [chord_piece(n_chords=40, seed=s) for s in range(3)]
    units = segment_notes(pieces, n_notes=N_NOTES)
    tempo = PerformanceModel(tempo=1.5)
    only_second = units[units.piece == 1]
    out = tempo.perform_units(only_second, pieces=pieces)
    assert np.abs(out.events[..., 1] - 1.5 * only_second.events[..., 1]).max() <= 1
    with pytest.raises(ValueError, match="piece of id 2"):
        tempo.perform_units(units, pieces=pieces[:2])


def test_performing_transposed_units_from_pieces_is_refused():
    piece = chord_piece()
    units = units_of([piece])
    transposed = Units(
        units.events, piece=units.piece, variant=np.ones(len(units), dtype=int)
    )
    with pytest.raises(ValueError, match="variant"):
        PerformanceModel(tempo=1.2).perform_units(transposed, pieces=[piece])
    # without pieces, transposed units are fine
    assert len(PerformanceModel(tempo=1.2).perform_units(transposed)) == len(units)


def _assert_valid_events(out: Units, units: Units) -> None:
    assert np.issubdtype(out.events.dtype, np.integer)
    assert (out.events[..., 1] >= 0).all() and (out.events[..., 1] <= IOI_MAX_MS).all()
    assert (out.events[..., 0] >= 0).all() and (out.events[..., 0] <= 127).all()


def test_units_that_cannot_be_formed_after_deletions_are_skipped_and_counted():
    # 16 notes per piece, two 8-note units each: after deletions, the second unit
    # of most pieces runs out of notes
    pieces = [melody(2 * N_NOTES, seed=s) for s in range(20)]
    units = segment_notes(pieces, n_notes=N_NOTES)
    model = PerformanceModel(deletion_rate=0.25, random_state=0)
    out = model.perform_units(units, pieces=pieces)
    assert out.meta["skipped_units"] > 0
    assert len(out) + out.meta["skipped_units"] == len(units)
    _assert_valid_events(out, units)
    for row, events in zip(out.meta["source_rows"], out.events, strict=True):
        score = pieces[units.piece[row]].notes
        assert set(events[:, 0]) <= set(score["pitch"])
        # the performed window starts at or after the unit's first note
        first = units.position[row] * N_NOTES
        assert events[0, 0] in score["pitch"][first:]


def test_single_unit_pieces_with_heavy_deletions_are_skipped_not_garbage():
    rng = np.random.default_rng(0)
    n = 200
    events = np.stack(
        [rng.integers(40, 90, (n, 2)), rng.choice([125, 250, 500], (n, 2))], -1
    )
    events[:, -1, 1] = 0  # each unit ends its piece
    units = Units(events, piece=np.arange(n))
    out = PerformanceModel(deletion_rate=0.25, random_state=0).perform_units(units)
    assert 0 < out.meta["skipped_units"] < n
    assert len(out) + out.meta["skipped_units"] == n
    _assert_valid_events(out, units)
    rows = out.meta["source_rows"]
    for row, played in zip(rows, out.events, strict=True):
        assert set(played[:, 0]) <= set(units.events[row, :, 0])
    # the end of the piece stays the end of the piece
    assert (out.events[:, -1, 1] == 0).all()


def test_last_unit_of_a_piece_never_wraps_around_after_deletions():
    units = Units(np.array([[[60, 100], [62, 100], [64, 100], [65, 0]]]))
    for seed in range(40):
        out = PerformanceModel(deletion_rate=0.25, random_state=seed).perform_units(
            units
        )
        # only notes of the unit, each at most once, and no 10 s pause
        for played in out.events:
            assert len(set(played[:, 0])) == len(played)
            assert played[:, 1].max() < JOIN_GAP_MS


# -- the batched implementation --------------------------------------------------------
def test_perform_onsets_pads_and_sorts_rows():
    onset = torch.tensor([[0.0, 100.0, 300.0, 300.0], [0.0, 50.0, 0.0, 0.0]])
    pitch = torch.tensor([[60, 62, 64, 67], [70, 71, 0, 0]])
    valid = torch.tensor([[True, True, True, True], [True, True, False, False]])
    s = PerformanceModel(
        insertion_rate=0.25, octave_doubling=0.25, asynchrony_ms=20, tempo=1.2
    ).strengths()
    gen = torch.Generator().manual_seed(0)
    out_onset, out_pitch, source, out_valid = perform_onsets(
        onset, pitch, valid, s, generator=gen
    )
    assert out_onset.shape == out_pitch.shape == source.shape == out_valid.shape
    assert out_onset.shape == (2, 12)  # original + graces + doublings
    for row in range(2):
        v = out_valid[row]
        k = int(v.sum())
        assert v[:k].all() and not v[k:].any()  # valid notes first
        assert torch.isinf(out_onset[row, k:]).all()
        assert (torch.diff(out_onset[row, :k]) >= 0).all()
    assert int(out_valid[1].sum()) >= 2
    assert set(source[1][out_valid[1]].tolist()) <= {0, 1}


def test_perform_unit_events_docstring_case_and_ok_flag():
    windows = torch.tensor([[[60, 100], [62, 100], [64, 100]]])
    s = PerformanceModel(tempo=1.5).strengths()
    events, ok = perform_unit_events(windows, 2, s)
    assert events.dtype == torch.int32
    assert events.tolist() == [[[60, 150], [62, 150]]]
    assert ok.tolist() == [True]
    # too few notes left after deletions: the row is flagged, not made up
    s = PerformanceModel(deletion_rate=0.25).strengths()
    flags = []
    for seed in range(30):
        gen = torch.Generator().manual_seed(seed)
        events, ok = perform_unit_events(windows.repeat(4, 1, 1), 2, s, generator=gen)
        assert events.shape == (4, 2, 2)
        flags += ok.tolist()
    assert 0 < sum(flags) < len(flags)


def test_successor_rows_and_extended_windows():
    events = np.zeros((4, 3, 2), dtype=np.int16)
    events[..., 0] = np.arange(12).reshape(4, 3) + 60
    events[..., 1] = 100
    events[1, -1, 1] = 0  # unit 1 ends piece 0
    units = Units(events, piece=[0, 0, 1, 2], position=[0, 1, 0, 0])
    shuffled = units[[1, 3, 0, 2]]
    succ = successor_rows(shuffled)
    assert succ.tolist() == [-1, -1, 0, -1]
    windows, final_zero, n_real = extended_windows(
        torch.as_tensor(shuffled.events),
        torch.arange(4),
        torch.as_tensor(succ),
        hop=3,
    )
    assert windows.shape == (4, 6, 2)
    assert final_zero.tolist() == [True, False, False, False]
    # unit 0 of piece 0 (row 2) is followed by unit 1 (row 0)
    np.testing.assert_array_equal(windows[2, 3:].numpy(), shuffled.events[0])
    # a unit that ends its piece: a copy of itself, JOIN_GAP_MS after its last note
    assert windows[0, 2, 1] == JOIN_GAP_MS
    np.testing.assert_array_equal(windows[0, 3:].numpy(), shuffled.events[0])
    # overlapping units: only the successor's last `hop` notes are new
    windows, _, _ = extended_windows(
        torch.as_tensor(shuffled.events),
        torch.tensor([2]),
        torch.as_tensor(succ),
        hop=1,
    )
    assert windows.shape == (1, 4, 2)
    np.testing.assert_array_equal(windows[0, 3].numpy(), shuffled.events[0, -1])


# -- bad input -------------------------------------------------------------------------
BAD_STRENGTHS = [
    ("tempo", 0.5),
    ("tempo", 1.7),
    ("tempo", (1.2, 0.9)),
    ("tempo", (0.9,)),
    ("tempo", "fast"),
    ("tempo", float("nan")),
    ("tempo", (0.8, float("inf"))),
    ("rubato", -0.1),
    ("rubato", 0.6),
    ("jitter", float("nan")),
    ("asynchrony_ms", 200),
    ("asynchrony_ms", -1),
    ("deletion_rate", 0.5),
    ("deletion_rate", True),
    ("insertion_rate", -0.01),
    ("octave_doubling", 0.3),
    ("velocity", 65),
    ("articulation", float("inf")),
    ("articulation", "0.1"),
]


@pytest.mark.parametrize(("name", "value"), BAD_STRENGTHS)
def test_bad_strength_raises_value_error_naming_it(name, value):
    model = PerformanceModel(**{name: value})  # sklearn convention: no check in init
    units = units_of([chord_piece()])
    with pytest.raises(ValueError, match=name):
        model.strengths()
    with pytest.raises(ValueError, match=name):
        model.perform_units(units)
    with pytest.raises(ValueError, match=name):
        model.perform(chord_piece())
    with pytest.raises(ValueError, match=name):
        model.is_identity()


@pytest.mark.parametrize("name", sorted(STRENGTH_RANGES))
def test_range_limits_themselves_are_accepted(name):
    low, high = STRENGTH_RANGES[name]
    for value in (low, high):
        strengths = PerformanceModel(**{name: value}).strengths()
        key = "tempo_low" if name == "tempo" else name
        assert strengths[key] == value
    # numpy scalars are numbers too
    assert PerformanceModel(**{name: np.float32(high)}).strengths()


def test_non_note_units_and_non_units_are_refused():
    beats = Units(np.zeros((3, 4, 2), dtype=np.int16), kind="beats")
    with pytest.raises(ValueError, match="note units"):
        PerformanceModel(tempo=1.1).perform_units(beats)
    with pytest.raises(TypeError, match="Units"):
        PerformanceModel().perform_units(np.zeros((3, 4, 2), dtype=np.int16))
    with pytest.raises(TypeError):
        PerformanceModel().perform(np.zeros(3, dtype=NOTE_DTYPE))


# -- sklearn API -----------------------------------------------------------------------
def test_clone_and_params_round_trip():
    model = PerformanceModel.typical(random_state=7)
    params = model.get_params()
    assert params["tempo"] == (0.75, 1.35) and params["random_state"] == 7
    copy = clone(model)
    assert copy is not model and copy.get_params() == params
    again = PerformanceModel(**params)
    units = units_of([chord_piece(n_chords=100)])
    np.testing.assert_array_equal(
        again.perform_units(units).events, model.perform_units(units).events
    )
    assert copy.set_params(rubato=0.2).rubato == 0.2
    assert model.rubato == 0.1
    assert "asynchrony_ms=30.0" in repr(model)


def test_tags_keep_sklearn_array_checks_away():
    tags = get_tags(PerformanceModel())
    assert tags.input_tags.two_d_array is False
    assert tags.requires_fit is False


@pytest.mark.parametrize(
    "check",
    [
        check_parameters_default_constructible,
        check_get_params_invariance,
        check_set_params,
        check_no_attributes_set_in_init,
    ],
    ids=lambda c: c.__name__,
)
def test_sklearn_parameter_api_checks(check):
    check("PerformanceModel", PerformanceModel())
