"""read_midi: every field of the note table, every input type, every bad input."""

from __future__ import annotations

import io
import pickle
import struct
import warnings

import numpy as np
import pytest
from conftest import KNOWN_TRACKS, assert_tables_equal, midi_bytes, tick_seconds

from sklearn_musemb.io.midi import MidiReadError, read_midi
from sklearn_musemb.io.notes import NOTE_DTYPE, TEMPO_DTYPE, NoteTable

# The known piece's notes in the expected order: (onset_tick, offset_tick, pitch,
# velocity, program, is_drum, track); tracks with notes: piano 0, strings 1, drums 2.
EXPECTED = [
    (0, 120, 36, 110, 0, True, 2),
    (0, 480, 60, 100, 0, False, 0),
    (0, 960, 64, 90, 0, False, 0),
    (240, 2160, 55, 50, 48, False, 1),
    (480, 960, 67, 80, 0, False, 0),
    (960, 1080, 38, 100, 0, True, 2),
    (1920, 2400, 72, 70, 0, False, 0),
    (2400, 3360, 62, 60, 0, False, 0),
]
INT_FIELDS = (
    "onset_tick",
    "offset_tick",
    "pitch",
    "velocity",
    "program",
    "is_drum",
    "track",
)


# ----------------------------------------------------------------- the known piece


def test_known_piece_notes(known_midi):
    table = read_midi(known_midi)
    got = table.notes[list(INT_FIELDS)].tolist()
    assert got == EXPECTED
    expected_onsets = [tick_seconds(row[0]) for row in EXPECTED]
    expected_offsets = [tick_seconds(row[1]) for row in EXPECTED]
    np.testing.assert_allclose(table.notes["onset"], expected_onsets, rtol=1e-12)
    np.testing.assert_allclose(table.notes["offset"], expected_offsets, rtol=1e-12)
    assert table.ticks_per_beat == 480
    assert table.source == str(known_midi)
    np.testing.assert_array_equal(table.onset_beat, [r[0] / 480 for r in EXPECTED])


def _save(midi: object) -> bytes:
    buffer = io.BytesIO()
    midi.save(file=buffer)
    return buffer.getvalue()


def test_ties_on_onset_and_pitch_sort_by_track_then_offset():
    import mido

    midi = mido.MidiFile(type=1, ticks_per_beat=480)
    # Track 0: two overlapping note-60s from tick 0, paired first in, first out
    # (offsets 100 and 200). Track 1: the same onset and pitch, an earlier offset.
    first = mido.MidiTrack(
        [
            mido.Message("note_on", note=60, velocity=90, time=0),
            mido.Message("note_on", note=60, velocity=80, time=0),
            mido.Message("note_off", note=60, velocity=0, time=100),
            mido.Message("note_off", note=60, velocity=0, time=100),
        ]
    )
    second = mido.MidiTrack(
        [
            mido.Message("note_on", note=60, velocity=70, time=0),
            mido.Message("note_off", note=60, velocity=0, time=50),
        ]
    )
    midi.tracks.extend([first, second])
    notes = read_midi(_save(midi)).notes
    assert notes[["onset_tick", "offset_tick", "track"]].tolist() == [
        (0, 100, 0),
        (0, 200, 0),
        (0, 50, 1),
    ]


def test_known_piece_tempo_map(known_midi):
    tempos = read_midi(known_midi).tempos
    assert tempos.tolist() == [(0, 0.0, 120.0), (1920, 2.0, 60.0)]


def test_known_piece_signatures(known_midi):
    table = read_midi(known_midi)
    assert table.time_signatures.tolist() == [(0, 0.0, 4, 4), (1920, 2.0, 3, 4)]
    # D major: 2 sharps, major; B minor: 2 sharps, minor; 3360 ticks = 5.0 s.
    assert table.key_signatures.tolist() == [(0, 0.0, 2, 0), (3360, 5.0, 2, 1)]


@pytest.mark.parametrize(
    ("key", "sharps", "tonality"),
    [
        ("C", 0, 0),
        ("Am", 0, 1),
        ("Eb", -3, 0),
        ("F#m", 3, 1),
        ("Gb", -6, 0),
        ("B", 5, 0),
    ],
)
def test_key_signature_is_sharps_and_tonality(key, sharps, tonality):
    data = midi_bytes(
        [{"notes": [(0, 1, 60, 1)]}], meta=[(0, "key_signature", {"key": key})]
    )
    assert read_midi(data).key_signatures[["key", "tonality"]].tolist() == [
        (sharps, tonality)
    ]


# ------------------------------------------------------------------- input types


def test_bytes_input_equals_path_input(known_midi):
    from_path = read_midi(known_midi)
    data = known_midi.read_bytes()
    from_bytes = read_midi(data)
    assert_tables_equal(from_path, from_bytes)
    assert from_bytes.source == "<bytes>"
    assert_tables_equal(from_path, read_midi(bytearray(data)))
    assert read_midi(data, path_hint="cache/x.mid").source == "cache/x.mid"
    assert read_midi(str(known_midi)).source == str(known_midi)


def test_pretty_midi_input_equals_path_input(known_midi):
    import pretty_midi

    pm = pretty_midi.PrettyMIDI(str(known_midi))
    from_object = read_midi(pm)
    assert from_object.source == "<PrettyMIDI>"
    # pretty_midi's qpm goes through seconds-per-tick and back: a few ulps.
    assert_tables_equal(read_midi(known_midi), from_object, rtol=1e-12)


def test_in_memory_pretty_midi_equals_its_written_file():
    import pretty_midi

    pm = pretty_midi.PrettyMIDI(resolution=220, initial_tempo=100.0)
    pm.time_signature_changes.append(pretty_midi.TimeSignature(3, 4, 0.0))
    for key, time in (("A minor", 0.0), ("Eb major", 1.8)):
        number = pretty_midi.key_name_to_key_number(key)
        pm.key_signature_changes.append(pretty_midi.KeySignature(number, time))
    pm.instruments.append(pretty_midi.Instrument(program=5, name="empty"))
    for program, is_drum, pitch in ((0, False, 60), (40, False, 72), (0, True, 36)):
        instrument = pretty_midi.Instrument(program=program, is_drum=is_drum)
        for k in range(3):  # on the tick grid: 0.6 s per beat at 100 qpm
            instrument.notes.append(
                pretty_midi.Note(90, pitch + k, 0.6 * k, 0.6 * k + 0.3)
            )
        pm.instruments.append(instrument)
    buffer = io.BytesIO()
    pm.write(buffer)
    from_object = read_midi(pm)
    assert_tables_equal(read_midi(buffer.getvalue()), from_object, rtol=1e-12)
    assert from_object.key_signatures[["key", "tonality"]].tolist() == [(0, 1), (-3, 0)]
    # The instrument without notes gets no track number.
    assert sorted(set(from_object.notes["track"].tolist())) == [0, 1, 2]
    assert from_object.notes["is_drum"].sum() == 3


def test_rejects_other_types():
    with pytest.raises(TypeError, match="path, bytes or a pretty_midi"):
        read_midi(12)


def test_note_table_checks_its_arrays_and_resolution():
    with pytest.raises(TypeError, match="NoteTable.notes must be a structured array"):
        NoteTable(np.zeros(2))
    notes = np.zeros(2, dtype=NOTE_DTYPE)
    with pytest.raises(TypeError, match="NoteTable.tempos must be a structured array"):
        NoteTable(notes, tempos=np.zeros(1, dtype=NOTE_DTYPE))
    with pytest.raises(ValueError, match="ticks_per_beat must be a positive integer"):
        NoteTable(notes, ticks_per_beat=0)
    with pytest.raises(ValueError, match="ticks_per_beat must be a positive integer"):
        NoteTable(notes, ticks_per_beat=2.7)
    assert NoteTable(notes, tempos=np.zeros(1, dtype=TEMPO_DTYPE)).ticks_per_beat == 480


# ---------------------------------------------------------------- valid edge cases


def test_drum_only_file_is_valid():
    data = midi_bytes([{"channel": 9, "notes": [(0, 60, 36, 100), (120, 180, 42, 90)]}])
    table = read_midi(data)
    assert len(table) == 2 and table.notes["is_drum"].all()
    assert table.notes[["pitch", "track"]].tolist() == [(36, 0), (42, 0)]


def test_file_without_notes_is_valid():
    data = midi_bytes([], meta=[(0, "set_tempo", {"tempo": 400_000})])
    table = read_midi(data)
    assert len(table) == 0
    assert table.duration == 0.0
    assert table.tempos.tolist() == [(0, 0.0, 150.0)]


def test_default_tempo_when_none_or_late():
    no_tempo = read_midi(midi_bytes([{"notes": [(0, 480, 60, 80)]}]))
    assert no_tempo.tempos.tolist() == [(0, 0.0, 120.0)]
    assert no_tempo.notes["offset"].tolist() == [0.5]
    late = read_midi(
        midi_bytes(
            [{"notes": [(960, 1440, 60, 80)]}],
            meta=[(480, "set_tempo", {"tempo": 1_000_000})],
        )
    )
    assert late.tempos.tolist() == [(0, 0.0, 120.0), (480, 0.5, 60.0)]
    assert late.notes[["onset", "offset"]].tolist() == [(1.5, 2.5)]


def test_repeated_tempo_events_are_dropped():
    meta = [
        (0, "set_tempo", {"tempo": 500_000}),
        (480, "set_tempo", {"tempo": 500_000}),
    ]
    table = read_midi(midi_bytes([{"notes": [(0, 960, 60, 80)]}], meta=meta))
    assert table.tempos.tolist() == [(0, 0.0, 120.0)]


def test_zero_length_note_is_kept():
    # Note on then note off for the same key at the same tick: a complete,
    # zero-length note (see docs/midi-reading.md; pretty_midi drops it).
    data = midi_bytes([{"notes": [(0, 0, 60, 90), (100, 200, 62, 80)]}])
    notes = read_midi(data).notes
    assert notes[["onset_tick", "offset_tick", "pitch"]].tolist() == [
        (0, 0, 60),
        (100, 200, 62),
    ]


def test_overlapping_same_pitch_notes_pair_first_in_first_out():
    import mido

    midi = mido.MidiFile(type=0, ticks_per_beat=480)
    track = mido.MidiTrack()
    for delta, velocity in ((0, 90), (100, 80), (100, 0), (100, 0)):
        track.append(mido.Message("note_on", note=60, velocity=velocity, time=delta))
    midi.tracks.append(track)
    notes = read_midi(_save(midi)).notes
    assert notes[["onset_tick", "offset_tick"]].tolist() == [(0, 200), (100, 300)]


def test_notes_split_by_channel_within_one_track():
    import mido

    midi = mido.MidiFile(type=0, ticks_per_beat=480)
    track = mido.MidiTrack(
        [
            mido.Message("program_change", channel=1, program=48, time=0),
            mido.Message("note_on", channel=0, note=60, velocity=80, time=0),
            mido.Message("note_on", channel=1, note=67, velocity=80, time=0),
            mido.Message("note_off", channel=0, note=60, velocity=0, time=480),
            mido.Message("note_off", channel=1, note=67, velocity=0, time=0),
        ]
    )
    midi.tracks.append(track)
    notes = read_midi(_save(midi)).notes
    assert notes[["track", "program"]].tolist() == [(0, 0), (1, 48)]


# -------------------------------------------------------------------- bad inputs


def _type2_bytes() -> bytes:
    track = b"\x00\x90\x3c\x40\x60\x80\x3c\x00\x00\xff\x2f\x00"
    chunk = b"MTrk" + struct.pack(">I", len(track)) + track
    return b"MThd" + struct.pack(">IHHH", 6, 2, 2, 96) + chunk + chunk


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda p: p.write_bytes(b""), "file is empty"),
        (lambda p: p.write_bytes(bytes(range(256)) * 4), "not a Standard MIDI File"),
        (
            lambda p: p.write_text("title,composer\nfoo,bar\n"),
            "not a Standard MIDI File",
        ),
        (
            lambda p: p.write_bytes(_type2_bytes()),
            "type-2 \\(asynchronous\\) MIDI is not supported",
        ),
        (lambda p: p.write_bytes(midi_bytes(KNOWN_TRACKS)[:-7]), "truncated"),
        (
            lambda p: p.write_bytes(b"MThd\x00\x00\x00\x06\x00\x01\x00\x01\xe7\x28"),
            "SMPTE",
        ),
        (
            lambda p: p.write_bytes(b"MThd\x00\x00\x00\x06\x00\x01\x00\x02\x01\xe0"),
            "truncated",
        ),
        (lambda p: None, "file not found"),
        (lambda p: p.mkdir(), "is a directory"),
    ],
    ids=[
        "empty",
        "corrupt",
        "text",
        "type-2",
        "cut-chunk",
        "smpte",
        "no-tracks",
        "missing",
        "dir",
    ],
)
def test_bad_files_raise_naming_the_file(tmp_path, make, reason):
    path = tmp_path / "bad.mid"
    make(path)
    with pytest.raises(MidiReadError, match=reason) as info:
        read_midi(path)
    assert str(path) in str(info.value)
    assert info.value.source == str(path)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x00" * 40,
        b"MThd\x00\x00\x00\x06\x00\x01\x00\x01\x01\xe0MTrk\x00\x00\x00\x05\xff\xff\xff\xff\xff",
    ],
)
def test_bad_bytes_raise_naming_bytes(data):
    with pytest.raises(MidiReadError, match="<bytes>"):
        read_midi(data)


def test_type2_message_even_with_path_hint():
    with pytest.raises(MidiReadError, match=r"^cannot read MIDI song\.mid: type-2"):
        read_midi(_type2_bytes(), path_hint="song.mid")


def test_midi_read_error_pickles_and_is_value_error():
    err = MidiReadError("a.mid", "file not found")
    again = pickle.loads(pickle.dumps(err))
    assert isinstance(again, ValueError)
    assert (again.source, again.reason, str(again)) == (
        err.source,
        err.reason,
        str(err),
    )


# ------------------------------------------------------------- piano-midi corpus

# A few small files from different composers: counts, onsets, pitches and
# velocities equal pretty_midi's (the whole corpus: benchmarks/parse_speed.py
# --compare-pretty-midi).
SAMPLE_FILES = (
    "Albeniz/alb_esp1.mid",
    "Bach/bach_846.mid",
    "Chopin/chpn-p7.mid",
    "Schubert/schubert_d850_1.mid",
)


@pytest.mark.parametrize("name", SAMPLE_FILES)
def test_piano_midi_matches_pretty_midi(piano_midi_root, name):
    import pretty_midi

    path = piano_midi_root / "midis" / name
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pm = pretty_midi.PrettyMIDI(str(path))
    table = read_midi(path)
    assert len(table) == sum(len(i.notes) for i in pm.instruments)
    reference = read_midi(pm)
    for field in ("onset_tick", "onset", "pitch", "velocity", "program", "track"):
        np.testing.assert_array_equal(table.notes[field], reference.notes[field])


def test_piano_midi_muss_6_zero_length_note(piano_midi_root):
    """muss_6: note on + note off at one tick. Kept here, dropped by pretty_midi."""
    import pretty_midi

    path = piano_midi_root / "midis" / "Mussorgsky" / "muss_6.mid"
    table = read_midi(path)
    reference = read_midi(pretty_midi.PrettyMIDI(str(path)))
    assert (len(table), len(reference)) == (849, 848)

    zero = table.notes["offset_tick"] == table.notes["onset_tick"]
    assert table.notes[zero][["onset_tick", "pitch", "velocity", "track"]].tolist() == [
        (40770, 74, 40, 0)
    ]
    assert not (reference.notes["offset_tick"] == reference.notes["onset_tick"]).any()
    for field in ("onset_tick", "offset_tick", "pitch", "velocity", "track"):
        np.testing.assert_array_equal(table.notes[~zero][field], reference.notes[field])
