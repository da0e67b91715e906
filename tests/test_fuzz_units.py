"""Fuzz and property tests of the unit builders on whatever the reader returns.

``segment_notes``, ``segment_beats`` and ``Transposer`` run on tables read from
random valid files, from mutated files, and on random note tables built
directly (absurd resolutions, huge ticks, drums only...). Each call either
returns units that keep every documented invariant, or raises the documented
``ValueError`` ("no piece yields a single unit"), exactly when no piece can give
a unit. Where it is cheap an oracle recomputes the units from the definitions in
the docstrings.

Example counts scale with ``SKLEARN_MUSEMB_FUZZ_SCALE`` (see
``tests/test_fuzz_midi.py``); hypothesis runs derandomized without a database.
"""

from __future__ import annotations

import time
import tracemalloc

import numpy as np
import pytest
from _hostile_midi import (
    FUZZ,
    _segment_problems,
    examples,
    mutate,
    pieces,
    random_piece,
    table_problems,
    units_problems,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from sklearn_musemb.io import NOTE_DTYPE, NoteTable
from sklearn_musemb.io.midi import MidiReadError, read_midi
from sklearn_musemb.units import Transposer, segment_beats, segment_notes
from sklearn_musemb.units.segment import IOI_MAX_MS, MAX_PIECE_BEATS
from sklearn_musemb.utils.pitch import fold_pitch

NO_UNIT = "no piece yields a single unit"


def _read_all(specs) -> list[NoteTable]:
    tables = [read_midi(piece.to_bytes()) for piece in specs]
    for table in tables:
        assert table_problems(table) == []
    return tables


# ------------------------------------------------------------- note units


def _note_oracle(table: NoteTable, n_notes: int, hop: int, drop_drums: bool):
    """Units of one piece from the docstring: sort by onset s, then pitch; IOIs
    in rounded ms to the next note (0 for the last), clipped; windows every hop."""
    notes = table.notes[~table.notes["is_drum"]] if drop_drums else table.notes
    if len(notes) < n_notes:
        return None
    order = np.lexsort((notes["pitch"], notes["onset"]))
    onset, pitch = notes["onset"][order], notes["pitch"][order]
    ioi = np.append(np.clip(np.rint(np.diff(onset) * 1000), 0, IOI_MAX_MS), 0)
    events = np.stack([pitch, ioi], axis=1).astype(np.int16)
    starts = range(0, len(notes) - n_notes + 1, hop)
    return np.stack([events[s : s + n_notes] for s in starts])


@settings(FUZZ, max_examples=examples(250))
@given(
    st.lists(pieces(max_notes=30), min_size=1, max_size=3),
    st.integers(1, 8),
    st.none() | st.integers(1, 8),
    st.booleans(),
)
def test_segment_notes_on_read_files(specs, n_notes, hop, drop_drums):
    tables = _read_all(specs)
    expected = [_note_oracle(t, n_notes, hop or n_notes, drop_drums) for t in tables]
    if all(e is None for e in expected):
        with pytest.raises(ValueError, match=NO_UNIT):
            segment_notes(tables, n_notes=n_notes, hop=hop, drop_drums=drop_drums)
        return
    units = segment_notes(tables, n_notes=n_notes, hop=hop, drop_drums=drop_drums)
    assert units_problems(units, kind="notes", width=n_notes) == []
    kept = [i for i, e in enumerate(expected) if e is not None]
    np.testing.assert_array_equal(
        units.events, np.concatenate([expected[i] for i in kept])
    )
    np.testing.assert_array_equal(
        units.piece, np.repeat(kept, [len(expected[i]) for i in kept])
    )
    assert [pid for pid, _ in units.meta["skipped"]] == [
        i for i, e in enumerate(expected) if e is None
    ]


# ------------------------------------------------------------- beat units

PITCH_RANGES = [(36, 96), (0, 120), (48, 60), (21, 117)]


def _beat_oracle(table, beats, tpb, pitch_range, drop_drums):
    """Units of a piece without time signatures (all 4/4), from the docstring:
    ``(positions, {window: sorted unique (tick, pitch)})`` (windows without
    onsets left out), or the reason the piece is skipped."""
    notes = table.notes[~table.notes["is_drum"]] if drop_drums else table.notes
    if len(notes) == 0:
        return "no non-drum notes"
    span = max(notes["onset_tick"].max(), notes["offset_tick"].max())
    if span > MAX_PIECE_BEATS * table.ticks_per_beat:
        return "MAX_PIECE_BEATS"
    scale = tpb / table.ticks_per_beat
    on = np.rint(notes["onset_tick"] * scale).astype(np.int64)
    off = np.rint(notes["offset_tick"] * scale).astype(np.int64)
    window = beats * tpb
    n_windows = max(int(off.max()), int(on.max()) + 1) // window
    if n_windows == 0:
        return "no x/4 stretch"
    pitch = fold_pitch(notes["pitch"].astype(np.int64), *pitch_range)
    rows: dict[int, set] = {}  # the windows with onsets; the others are empty
    for q, p in zip(on.tolist(), pitch.tolist(), strict=True):
        if q < n_windows * window:
            rows.setdefault(q // window, set()).add((q % window, p))
    return np.arange(n_windows), {k: sorted(r) for k, r in rows.items()}


@st.composite
def note_tables(draw, max_notes=30):
    """A NoteTable built directly: any ticks (sometimes past MAX_PIECE_BEATS),
    any resolution, drums, zero-length notes; no time signature."""
    n = draw(st.integers(0, max_notes))
    tpq = draw(st.sampled_from([1, 3, 24, 96, 480, 1000, 0x7FFF]))
    far = draw(st.sampled_from([10**4, 10**6, 2**31 - 1]))
    notes = np.zeros(n, dtype=NOTE_DTYPE)
    if n:
        onset = np.array(draw(st.lists(st.integers(0, far), min_size=n, max_size=n)))
        duration = np.array(
            draw(st.lists(st.integers(0, 5000), min_size=n, max_size=n))
        )
        notes["onset_tick"] = onset
        notes["offset_tick"] = onset + duration
        notes["onset"] = onset / tpq / 2  # 120 qpm
        notes["offset"] = notes["offset_tick"] / tpq / 2
        notes["pitch"] = draw(st.lists(st.integers(0, 127), min_size=n, max_size=n))
        notes["velocity"] = 64
        notes["is_drum"] = draw(st.lists(st.booleans(), min_size=n, max_size=n))
        notes.sort(order=["onset_tick", "pitch"])
    return NoteTable(notes=notes, ticks_per_beat=tpq)


@settings(FUZZ, max_examples=examples(300))
@given(
    st.lists(note_tables(), min_size=1, max_size=3),
    st.integers(1, 8),
    st.sampled_from([1, 4, 24, 48]),
    st.sampled_from(PITCH_RANGES),
    st.booleans(),
)
def test_segment_beats_matches_its_definition(tables, beats, tpb, pitch_range, drums):
    expected = [_beat_oracle(t, beats, tpb, pitch_range, drums) for t in tables]
    kwargs = dict(
        beats=beats, ticks_per_beat=tpb, pitch_range=pitch_range, drop_drums=drums
    )
    with _bounded("segment_beats"):
        if all(isinstance(e, str) for e in expected):
            with pytest.raises(ValueError, match=NO_UNIT):
                segment_beats(tables, **kwargs)
            return
        units = segment_beats(tables, **kwargs)
    assert units_problems(units, kind="beats") == []
    skipped = dict(units.meta["skipped"])
    for i, exp in enumerate(expected):
        mine = units.piece == i
        if isinstance(exp, str):
            assert not mine.any() and exp in skipped[i]
            continue
        positions, rows = exp
        np.testing.assert_array_equal(units.position[mine], positions)
        events, counts = units.events[mine], units.n_events[mine]
        got = {
            int(k): sorted(map(tuple, events[k, : counts[k], ::-1].tolist()))
            for k in np.flatnonzero(counts)
        }
        assert got == rows
    assert units.events.shape[1] == max(1, int(units.n_events.max()))


@settings(FUZZ, max_examples=examples(250))
@given(st.lists(pieces(max_notes=40), min_size=1, max_size=3), st.booleans())
def test_segment_beats_on_read_files(specs, drop_empty):
    tables = _read_all(specs)
    try:
        with _bounded("segment_beats"):
            units = segment_beats(tables, drop_empty=drop_empty)
    except ValueError as exc:
        assert NO_UNIT in str(exc) or "every window is empty" in str(exc)
        return
    assert units_problems(units, kind="beats") == []
    n_notes = sum(len(t) for t in tables)
    assert units.n_events.sum() <= n_notes
    assert {pid for pid, _ in units.meta["skipped"]}.isdisjoint(units.piece.tolist())
    if drop_empty:
        assert (units.n_events > 0).all()


@settings(FUZZ, max_examples=examples(600))
@given(st.integers(0, 2**63), st.integers(1, 8))
def test_segmenting_mutated_files(seed, n_mutations):
    rng = np.random.default_rng(seed)
    data = mutate(random_piece(rng).to_bytes(), rng, n_mutations)
    try:
        table = read_midi(data, path_hint="mutated.mid")
    except MidiReadError:
        return
    with _bounded("segmenting"):
        assert _segment_problems(table, segment_notes, segment_beats) == []


# --------------------------------------------------------- huge time spans


class _bounded:
    """Fail when the body takes over 10 s or allocates over 256 MiB (numpy
    reports its buffers to tracemalloc)."""

    def __init__(self, what: str, seconds: float = 10.0, nbytes: int = 256 * 2**20):
        self.what, self.seconds, self.nbytes = what, seconds, nbytes

    def __enter__(self):
        tracemalloc.start()
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        elapsed = time.perf_counter() - self.start
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        if exc[0] is None:
            assert elapsed < self.seconds, f"{self.what}: {elapsed:.1f} s"
            assert peak < self.nbytes, f"{self.what}: {peak / 2**20:.0f} MiB"
        return False


def _two_notes(last_tick: int, tpq: int) -> NoteTable:
    notes = np.zeros(2, dtype=NOTE_DTYPE)
    notes["onset_tick"] = [0, last_tick]
    notes["offset_tick"] = [tpq, last_tick + 1]
    notes["pitch"] = [60, 62]
    notes["velocity"] = 64
    notes["onset"] = notes["onset_tick"] / tpq / 2
    notes["offset"] = notes["offset_tick"] / tpq / 2
    return NoteTable(notes=notes, ticks_per_beat=tpq)


def test_piece_spanning_billions_of_ticks_is_skipped_not_allocated():
    """Two notes at ticks 0 and 2**31 - 1 with 1 tick per beat: 537 million
    windows (gigabytes of empty units) before MAX_PIECE_BEATS; now skipped."""
    huge = _two_notes(2**31 - 2, tpq=1)
    with _bounded("huge piece", seconds=2.0, nbytes=16 * 2**20):
        with pytest.raises(ValueError, match=f"{NO_UNIT}.*MAX_PIECE_BEATS"):
            segment_beats(huge)
        units = segment_beats([huge, _two_notes(960, tpq=96)], piece_ids=[7, 8])
    assert units.piece.tolist() == [8, 8]
    assert units.meta["skipped"][0][0] == 7
    assert "MAX_PIECE_BEATS" in units.meta["skipped"][0][1]
    # segment_notes has no such limit: it works on notes, not on time
    assert len(segment_notes(huge, n_notes=2)) == 1


def test_piece_at_the_span_limit_is_cut():
    table = _two_notes(MAX_PIECE_BEATS - 1, tpq=1)
    with _bounded("limit piece", nbytes=64 * 2**20):
        units = segment_beats(table)
    assert len(units) == MAX_PIECE_BEATS // 4
    assert units.n_events.sum() == 2
    assert units_problems(units, kind="beats") == []


# ------------------------------------------------------------- transposition


@settings(FUZZ, max_examples=examples(150))
@given(
    st.lists(pieces(max_notes=40), min_size=1, max_size=2),
    st.lists(st.integers(-40, 40), min_size=1, max_size=12, unique=True),
)
def test_transposer_keeps_the_invariants(specs, shifts):
    tables = _read_all(specs)
    for kind, segment in (("notes", segment_notes), ("beats", segment_beats)):
        try:
            units = segment(tables, n_notes=4) if kind == "notes" else segment(tables)
        except ValueError as exc:
            assert NO_UNIT in str(exc)
            continue
        moved = Transposer(shifts=shifts).fit_transform(units)
        assert units_problems(moved, kind=kind, width=units.shape[1]) == []
        m, n = len(shifts), len(units)
        assert len(moved) == m * n
        np.testing.assert_array_equal(moved.piece, np.tile(units.piece, m))
        np.testing.assert_array_equal(moved.variant, np.repeat(np.arange(m), n))
        for s, shift in enumerate(shifts):
            copy = moved[np.arange(s * n, (s + 1) * n)]
            if kind == "notes":
                # pitch classes move by the shift; IOIs stay
                assert (
                    (copy.events[..., 0] - units.events[..., 0] - shift) % 12 == 0
                ).all()
                np.testing.assert_array_equal(copy.events[..., 1], units.events[..., 1])
            else:
                # onsets keep their tick and move their pitch class; octave
                # folding can merge two onsets into one, never create one
                assert (copy.n_events <= units.n_events).all()
                for i in range(0, n, max(1, n // 5)):
                    before = {
                        (t, (p + shift) % 12)
                        for p, t in units.events[i, : units.n_events[i]].tolist()
                    }
                    after = {
                        (t, p % 12)
                        for p, t in copy.events[i, : copy.n_events[i]].tolist()
                    }
                    assert after == before
