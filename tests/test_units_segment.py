"""Segmentation into 40-note and 4-beat units, on tiny hand-computed NoteTables."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sklearn_musemb.encodings import piano_roll
from sklearn_musemb.io import NOTE_DTYPE, TIME_SIGNATURE_DTYPE, NoteTable, read_midi
from sklearn_musemb.units import (
    PAD,
    Transposer,
    Units,
    deduplicate_units,
    segment_beats,
    segment_notes,
)

TPB = 480  # MIDI ticks per beat of the synthetic tables; 120 qpm, so a beat is 0.5 s


def make_table(
    pitch,
    *,
    onset=None,
    tick=None,
    dur=TPB,
    is_drum=None,
    time_signatures=(),
) -> NoteTable:
    """A NoteTable from pitches and onsets in seconds (``onset``) or ticks (``tick``).

    ``dur`` is the duration in ticks (scalar or per note); ``time_signatures`` is a
    list of ``(tick, numerator, denominator)``.
    """
    pitch = np.asarray(pitch)
    notes = np.zeros(len(pitch), dtype=NOTE_DTYPE)
    notes["pitch"] = pitch
    if tick is None:
        onset = np.asarray(onset, dtype=float)
        tick = np.rint(onset * 2 * TPB)
    else:
        tick = np.asarray(tick)
        onset = tick / (2 * TPB)
    notes["onset"] = onset
    notes["onset_tick"] = tick
    notes["offset_tick"] = tick + np.asarray(dur)
    notes["offset"] = notes["offset_tick"] / (2 * TPB)
    if is_drum is not None:
        notes["is_drum"] = is_drum
    ts = np.zeros(len(time_signatures), dtype=TIME_SIGNATURE_DTYPE)
    for i, (at, num, den) in enumerate(time_signatures):
        ts[i] = (at, at / (2 * TPB), num, den)
    return NoteTable(notes=notes, time_signatures=ts, ticks_per_beat=TPB)


def beats(*b):
    """Onset ticks of the given beats."""
    return np.asarray(b) * TPB


# -- 40-note units -------------------------------------------------------------
ONSETS = [0.0, 0.0, 0.1, 0.35, 1.0, 1.2504, 3.0]
PITCHES = [64, 60, 62, 67, 65, 60, 72]
# sorted by onset then pitch, with the IOI to the next note in integer ms
SORTED = [[60, 0], [64, 100], [62, 250], [67, 650], [65, 250], [60, 1750], [72, 0]]


def test_note_events_exact_ioi_and_windows():
    units = segment_notes(make_table(PITCHES, onset=ONSETS), n_notes=3)
    assert isinstance(units, Units) and units.kind == "notes"
    assert units.events.dtype == np.int16
    assert units.events.tolist() == [SORTED[0:3], SORTED[3:6]]  # last note dropped
    assert units.position.tolist() == [0, 1]
    assert units.piece.tolist() == [0, 0]
    assert units.n_events.tolist() == [3, 3]
    assert units.labels is None
    assert units.meta["n_notes"] == 3 and units.meta["hop"] == 3
    assert units.meta["skipped"] == []


@pytest.mark.parametrize(
    "hop, starts",
    [(1, [0, 1, 2, 3, 4]), (2, [0, 2, 4]), (3, [0, 3]), (4, [0, 4]), (5, [0])],
)
def test_note_hop(hop, starts):
    units = segment_notes(make_table(PITCHES, onset=ONSETS), n_notes=3, hop=hop)
    assert units.events.tolist() == [SORTED[s : s + 3] for s in starts]
    assert units.position.tolist() == list(range(len(starts)))
    assert units.meta["hop"] == hop


def test_note_ioi_rounding_and_clipping():
    table = make_table([60, 61, 62, 63], onset=[0.0, 0.0104, 0.021, 41.021])
    units = segment_notes(table, n_notes=4)
    assert units.events[0, :, 1].tolist() == [10, 11, 32767, 0]
    assert units.meta["ioi_max_ms"] == 32767


def test_note_sort_by_onset_then_pitch():
    table = make_table([72, 48, 60, 55], onset=[0.5, 0.0, 0.5, 0.0])
    units = segment_notes(table, n_notes=4)
    assert units.events[0].tolist() == [[48, 0], [55, 500], [60, 0], [72, 0]]


def test_note_drums_excluded_from_units_and_ioi():
    table = make_table(
        [36, 60, 42, 62, 64],
        onset=[0.0, 0.0, 0.2, 0.5, 1.0],
        is_drum=[True, False, True, False, False],
    )
    units = segment_notes(table, n_notes=3)
    assert units.events[0].tolist() == [[60, 500], [62, 500], [64, 0]]
    with_drums = segment_notes(table, n_notes=5, drop_drums=False)
    assert with_drums.events[0].tolist() == [
        [36, 0],
        [60, 200],
        [42, 300],
        [62, 500],
        [64, 0],
    ]


def test_note_short_and_drum_only_pieces_are_skipped_with_reason():
    long_piece = make_table(PITCHES, onset=ONSETS)
    short_piece = make_table([60, 62], onset=[0.0, 1.0])
    drums = make_table([36, 38, 42, 46], onset=[0, 1, 2, 3], is_drum=[True] * 4)
    units = segment_notes(
        [short_piece, long_piece, drums], n_notes=3, piece_ids=[10, 11, 12]
    )
    assert np.unique(units.piece).tolist() == [11]
    skipped = dict(units.meta["skipped"])
    assert sorted(skipped) == [10, 12]
    assert "2 non-drum notes" in skipped[10] and "n_notes=3" in skipped[10]
    assert skipped[12] == "no non-drum notes"


def test_note_all_pieces_too_short_raises():
    pieces = [make_table([60, 62], onset=[0.0, 1.0]), make_table([60], onset=[0])]
    with pytest.raises(ValueError, match="fewer than n_notes=40"):
        segment_notes(pieces)


def test_note_labels_and_piece_ids_copied_to_units():
    a = make_table(PITCHES, onset=ONSETS)
    b = make_table(PITCHES[:6], onset=ONSETS[:6])
    units = segment_notes([a, b], n_notes=2, labels=["bach", "liszt"])
    assert units.piece.tolist() == [0, 0, 0, 1, 1, 1]
    assert units.labels.tolist() == ["bach"] * 3 + ["liszt"] * 3
    assert units.position.tolist() == [0, 1, 2, 0, 1, 2]
    units = segment_notes([a, b], n_notes=2, piece_ids=[7, 3])
    assert units.piece.tolist() == [7, 7, 7, 3, 3, 3]


def test_note_single_table_accepted():
    units = segment_notes(make_table(PITCHES, onset=ONSETS), n_notes=7)
    assert units.shape == (1, 7, 2)


@pytest.mark.parametrize("bad", [0, -1, 2.5, True, "40", None])
def test_note_invalid_n_notes(bad):
    with pytest.raises(ValueError, match="n_notes"):
        segment_notes(make_table(PITCHES, onset=ONSETS), n_notes=bad)


@pytest.mark.parametrize("bad", [0, -3, 1.0])
def test_note_invalid_hop(bad):
    with pytest.raises(ValueError, match="hop"):
        segment_notes(make_table(PITCHES, onset=ONSETS), n_notes=3, hop=bad)


def test_note_bad_per_piece_columns():
    pieces = [make_table(PITCHES, onset=ONSETS)] * 2
    with pytest.raises(ValueError, match="labels"):
        segment_notes(pieces, n_notes=3, labels=["a"])
    with pytest.raises(ValueError, match="piece_ids"):
        segment_notes(pieces, n_notes=3, piece_ids=[1, 2, 3])
    with pytest.raises(ValueError, match="unique"):
        segment_notes(pieces, n_notes=3, piece_ids=[1, 1])


def test_bad_pieces():
    with pytest.raises(TypeError, match="NoteTable"):
        segment_notes([np.zeros((4, 2))])
    with pytest.raises(TypeError, match="NoteTable"):
        segment_beats("song.mid")
    with pytest.raises(ValueError, match="empty"):
        segment_notes([])


# -- 4-beat units --------------------------------------------------------------
def test_beat_quantisation_padding_and_n_events():
    # 480 -> 24 ticks per beat: onset ticks 10 and 1910 sit exactly half-way
    # (0.5 and 95.5) and round to even (0 and 96)
    table = make_table(
        [60, 61, 62, 63, 64, 65],
        tick=[0, 10, 30, 479, 1910, 1930],
        dur=8 * TPB,  # last offset 5770 -> 288 ticks: three whole windows
    )
    units = segment_beats(table)
    assert units.kind == "beats" and units.events.dtype == np.int16
    assert units.shape == (3, 4, 2)
    assert units.events[0].tolist() == [[60, 0], [61, 0], [62, 2], [63, 24]]
    assert units.events[1].tolist() == [[64, 0], [65, 0], [PAD, PAD], [PAD, PAD]]
    assert (units.events[2] == PAD).all()
    assert units.n_events.tolist() == [4, 2, 0]
    assert units.position.tolist() == [0, 1, 2]
    assert units.meta["beats"] == 4 and units.meta["ticks_per_beat"] == 24
    assert units.meta["pitch_range"] == (36, 96)


def test_beat_other_resolution_and_length():
    table = make_table([60, 62, 64], tick=beats(0, 1, 2), dur=TPB)
    units = segment_beats(table, beats=1, ticks_per_beat=4)
    assert units.events[:, 0].tolist() == [[60, 0], [62, 0], [64, 0]]
    assert units.position.tolist() == [0, 1, 2]


def test_beat_pitch_folding_at_both_ends():
    pitch = [21, 35, 36, 95, 96, 108, 127]
    table = make_table(pitch, tick=[0] * 7, dur=4 * TPB)
    units = segment_beats(table)
    # 96 and 108 both fold onto 84 at tick 0: one onset
    assert units.events[0, :, 0].tolist() == [36, 45, 47, 84, 91, 95]
    assert units.n_events.tolist() == [6]
    wide = segment_beats(table, pitch_range=(24, 96))
    assert wide.events[0, :, 0].tolist() == [33, 35, 36, 84, 91, 95]


@pytest.mark.parametrize("bad", [(36, 90), (-12, 48), (60, 36), (0, 132), "36-96"])
def test_beat_invalid_pitch_range(bad):
    with pytest.raises(ValueError, match="pitch_range"):
        segment_beats(make_table([60], tick=[0], dur=4 * TPB), pitch_range=bad)


@pytest.mark.parametrize("name", ["beats", "ticks_per_beat"])
def test_beat_invalid_sizes(name):
    with pytest.raises(ValueError, match=name):
        segment_beats(make_table([60], tick=[0], dur=4 * TPB), **{name: 0})


def test_beat_onsets_sorted_by_tick_then_pitch_and_unique():
    table = make_table(
        [62, 60, 60, 30, 42, 48],
        tick=[0, 0, 5, 480, 480, 960],  # tick 5 -> 0: same onset as the first 60
        dur=[TPB, TPB, TPB, TPB, TPB, 3 * TPB],
    )
    units = segment_beats(table)
    assert units.events[0].tolist() == [[60, 0], [62, 0], [42, 24], [48, 48]]
    assert units.n_events.tolist() == [4]


# one note per beat for 20 beats: 4/4, 3/4 at beat 4, 6/8 at beat 8, 4/4 at beat 11
MIXED_TS = [(0, 4, 4), (4 * TPB, 3, 4), (8 * TPB, 6, 8), (11 * TPB, 4, 4)]


def test_beat_keeps_only_x4_sections_and_breaks_adjacency_across_gaps():
    table = make_table([60] * 20, tick=beats(*range(20)), time_signatures=MIXED_TS)
    units = segment_beats(table)
    # x/4 runs: beats 0-8 (4/4 + 3/4) and 11-20, tiled from their own start;
    # beats 8-10 (6/8) and the partial window at beat 19 are dropped
    assert units.position.tolist() == [0, 1, 3, 4]
    assert units.events[:, :, 1].tolist() == [[0, 24, 48, 72]] * 4
    first, second = units.adjacent_pairs()
    assert first.tolist() == [0, 2] and second.tolist() == [1, 3]


def test_beat_no_time_signature_means_four_four():
    units = segment_beats(make_table([60] * 20, tick=beats(*range(20))))
    assert units.position.tolist() == [0, 1, 2, 3, 4]


def test_beat_stretch_before_first_time_signature_is_four_four():
    table = make_table(
        [60] * 20, tick=beats(*range(20)), time_signatures=[(4 * TPB, 6, 8)]
    )
    units = segment_beats(table)
    assert units.position.tolist() == [0]


def test_beat_last_time_signature_at_a_tick_wins():
    table = make_table(
        [60] * 8, tick=beats(*range(8)), time_signatures=[(0, 6, 8), (0, 4, 4)]
    )
    assert len(segment_beats(table)) == 2


def test_beat_piece_without_x4_section_is_skipped():
    six_eight = make_table([60] * 8, tick=beats(*range(8)), time_signatures=[(0, 6, 8)])
    four = make_table([60] * 8, tick=beats(*range(8)))
    units = segment_beats([six_eight, four])
    assert units.piece.tolist() == [1, 1]
    assert [pid for pid, _ in units.meta["skipped"]] == [0]
    assert "x/4" in units.meta["skipped"][0][1]
    with pytest.raises(ValueError, match="no piece yields a single unit"):
        segment_beats([six_eight])


def test_beat_empty_windows_kept_or_dropped():
    table = make_table([60, 67], tick=beats(0, 12), dur=4 * TPB)
    units = segment_beats(table)
    assert units.n_events.tolist() == [1, 0, 0, 1]
    assert len(units.adjacent_pairs()[0]) == 3
    dropped = segment_beats(table, drop_empty=True)
    assert dropped.position.tolist() == [0, 3]
    assert dropped.events.tolist() == [[[60, 0]], [[67, 0]]]
    assert len(dropped.adjacent_pairs()[0]) == 0


def test_beat_drop_empty_with_only_rests_raises():
    table = make_table([60], tick=beats(5), dur=TPB)  # one empty window, 5-6 dropped
    assert segment_beats(table).n_events.tolist() == [0]
    with pytest.raises(ValueError, match="empty"):
        segment_beats(table, drop_empty=True)


def test_beat_drums_dropped():
    table = make_table([36, 60], tick=beats(0, 1), dur=3 * TPB, is_drum=[True, False])
    assert segment_beats(table).events.tolist() == [[[60, 24]]]
    assert segment_beats(table, drop_drums=False).events.tolist() == [
        [[36, 0], [60, 24]]
    ]


def test_beat_labels_and_ids():
    a = make_table([60] * 8, tick=beats(*range(8)))
    b = make_table([62] * 4, tick=beats(*range(4)))
    units = segment_beats([a, b], labels=["x", "y"], piece_ids=[5, 9])
    assert units.piece.tolist() == [5, 5, 9]
    assert units.labels.tolist() == ["x", "x", "y"]
    assert units.position.tolist() == [0, 1, 0]


# -- deduplication -------------------------------------------------------------
def test_segment_beats_deduplicate():
    table = make_table([60] * 3, tick=beats(0, 4, 8), dur=4 * TPB)
    assert len(segment_beats(table)) == 3
    units = segment_beats(table, deduplicate=True)
    assert units.position.tolist() == [0]
    assert units.meta["n_duplicates_removed"] == 2


def test_deduplicate_units_keeps_first_occurrence_in_order():
    a, b, c = [[60, 0], [PAD, PAD]], [[62, 0], [PAD, PAD]], [[60, 0], [64, 0]]
    units = Units(
        np.array([a, b, a, c, b]),
        piece=[0, 0, 1, 1, 2],
        position=[0, 1, 0, 1, 0],
        n_events=[1, 1, 1, 2, 1],
        labels=list("pqrst"),
        kind="beats",
    )
    kept = deduplicate_units(units)
    assert kept.labels.tolist() == ["p", "q", "s"]
    assert kept.piece.tolist() == [0, 0, 1]
    assert kept.meta["n_duplicates_removed"] == 2


def test_deduplicate_units_compares_n_events():
    events = np.zeros((2, 2, 2), dtype=np.int16)
    units = Units(events, n_events=[2, 1])
    assert len(deduplicate_units(units)) == 2
    with pytest.raises(TypeError, match="deduplicate_units needs Units"):
        deduplicate_units(events)


# -- the real corpus -----------------------------------------------------------
@pytest.fixture
def piano_pieces(piano_midi_root):
    paths = sorted(piano_midi_root.glob("midis/*/*.mid"))
    assert paths, f"no MIDI files under {piano_midi_root / 'midis'}"
    return [read_midi(p) for p in paths], [p.parent.name for p in paths]


def _positions_increase_within_pieces(units: Units) -> bool:
    """Rows of a piece are contiguous and their positions strictly increase."""
    new_piece = np.r_[True, units.piece[1:] != units.piece[:-1]]
    contiguous = np.sum(new_piece) == len(np.unique(units.piece))
    same = ~new_piece[1:]
    return bool(contiguous and np.all(np.diff(units.position)[same] > 0))


def test_piano_midi_segments(piano_pieces):
    pieces, composers = piano_pieces
    notes = segment_notes(pieces, labels=composers)
    assert len(notes) > 10_000 and notes.shape[1:] == (40, 2)
    assert notes.meta["skipped"] == []
    # non-overlapping 40-note windows (hop defaults to n_notes), trailing notes dropped
    n_kept = np.array([np.sum(~p.notes["is_drum"]) for p in pieces])
    per_piece = np.bincount(notes.piece, minlength=len(pieces))
    assert per_piece.tolist() == (n_kept // 40).tolist()
    for pid in np.unique(notes.piece):  # positions 0..k-1 in row order
        pos = notes.position[notes.piece == pid]
        assert pos.tolist() == list(range(len(pos)))
    assert len(notes.adjacent_pairs()[0]) == len(notes) - len(np.unique(notes.piece))

    units = segment_beats(pieces, labels=composers)
    assert len(units) > 10_000 and units.kind == "beats"
    real = units.events[..., 0] != PAD
    assert (real.sum(axis=1) == units.n_events).all()
    # every onset gets its own cell of the 60x96 piano roll: pitches and ticks lie
    # inside the roll and no two onsets of a unit collide
    head = units[:2000]
    roll = piano_roll(torch.as_tensor(head.events))
    assert roll.sum(dim=(1, 2)).long().tolist() == head.n_events.tolist()
    assert _positions_increase_within_pieces(units)
    # pieces written only in x/8 or x/2 give no beat unit
    assert 0 < len(units.meta["skipped"]) < len(pieces)

    transposed = Transposer().fit_transform(units)
    assert len(transposed) == 12 * len(units)
    assert len(deduplicate_units(transposed)) < len(transposed)
