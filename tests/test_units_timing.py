"""Time spans of units, in seconds, against the notes they were cut from."""

from __future__ import annotations

import numpy as np
import pytest

from sklearn_musemb.io import NOTE_DTYPE, TEMPO_DTYPE, NoteTable, read_midi
from sklearn_musemb.units import Transposer, segment_beats, segment_notes
from sklearn_musemb.units.timing import ticks_to_seconds, unit_time_spans


def table_with_tempo_change() -> NoteTable:
    """Quarter notes at 480 ticks per beat; 120 qpm, then 60 qpm from beat 8."""
    n = 32
    notes = np.zeros(n, dtype=NOTE_DTYPE)
    notes["onset_tick"] = np.arange(n) * 480
    notes["offset_tick"] = notes["onset_tick"] + 240
    notes["pitch"] = 60 + np.arange(n) % 12
    tempos = np.array([(0, 0.0, 120.0), (8 * 480, 4.0, 60.0)], dtype=TEMPO_DTYPE)
    table = NoteTable(notes, tempos=tempos, ticks_per_beat=480)
    seconds = ticks_to_seconds(table, notes["onset_tick"])
    notes["onset"] = seconds
    notes["offset"] = ticks_to_seconds(table, notes["offset_tick"])
    return NoteTable(notes, tempos=tempos, ticks_per_beat=480)


def test_ticks_to_seconds_follows_the_tempo_map():
    table = table_with_tempo_change()
    assert ticks_to_seconds(table, [0, 480, 8 * 480, 9 * 480]).tolist() == [
        0.0, 0.5, 4.0, 5.0,
    ]  # fmt: skip


def test_note_unit_spans_are_first_onset_to_last_offset():
    table = table_with_tempo_change()
    units = segment_notes(table, n_notes=4, hop=2)
    start, end = unit_time_spans(units, table)
    onset, offset = table.notes["onset"], table.notes["offset"]
    first = units.position * 2
    np.testing.assert_allclose(start, onset[first])
    np.testing.assert_allclose(end, offset[first + 3])


def test_beat_unit_spans_tile_the_piece_through_the_tempo_change():
    table = table_with_tempo_change()
    units = segment_beats(table, beats=4)
    start, end = unit_time_spans(units, table)
    # 4 beats at 120 qpm = 2 s, then 4 beats at 60 qpm = 4 s; the last window
    # (the piece ends half a beat early) is partial and dropped
    assert start.tolist() == [0.0, 2.0, 4.0, 8.0, 12.0, 16.0, 20.0]
    np.testing.assert_allclose(end[:-1], start[1:])


def test_spans_follow_rows_through_slicing_and_transposition():
    table = table_with_tempo_change()
    units = segment_notes([table, table], n_notes=4, piece_ids=[5, 9])
    start, end = unit_time_spans(units, [table, table], piece_ids=[5, 9])
    order = np.random.default_rng(0).permutation(len(units))
    shuffled = unit_time_spans(units[order], [table, table], piece_ids=[5, 9])
    np.testing.assert_array_equal(shuffled[0], start[order])
    moved = Transposer(shifts=[2]).fit_transform(units)
    moved_start, moved_end = unit_time_spans(moved, [table, table], piece_ids=[5, 9])
    assert moved_start.size == len(moved)
    # a transposed copy lies where its original does
    original = {(p, q): i for i, (p, q) in enumerate(zip(units.piece, units.position))}
    rows = [original[p, q] for p, q in zip(moved.piece, moved.position)]
    np.testing.assert_array_equal(moved_start, start[rows])
    np.testing.assert_array_equal(moved_end, end[rows])


def test_spans_match_a_real_file(write_pretty_midi):
    path = write_pretty_midi("a.mid", pitches=tuple(range(60, 72)))
    table = read_midi(path)
    start, end = unit_time_spans(segment_notes(table, n_notes=3), table)
    # one quarter note (0.5 s at 120 qpm) per pitch
    np.testing.assert_allclose(start, [0.0, 1.5, 3.0, 4.5])
    np.testing.assert_allclose(end, [1.5, 3.0, 4.5, 6.0])


def test_units_from_other_pieces_or_settings_are_refused():
    table = table_with_tempo_change()
    units = segment_notes(table, n_notes=4)
    with pytest.raises(ValueError, match="piece 0, which is not in pieces"):
        unit_time_spans(units, table, piece_ids=[3])
    short = NoteTable(table.notes[:8], tempos=table.tempos, ticks_per_beat=480)
    with pytest.raises(ValueError, match="beyond the 8 notes"):
        unit_time_spans(units, short)
    bare = units[:2]
    bare.meta.clear()
    with pytest.raises(ValueError, match="Units.meta has no 'n_notes'"):
        unit_time_spans(bare, table)
