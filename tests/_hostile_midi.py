"""Byte-level Standard MIDI File writers: valid random files and hostile ones.

Everything here writes raw SMF bytes by hand (no mido, no pretty_midi), so every
field can be set to any value, including the impossible ones: chunk lengths that
lie, track counts that lie, absurd resolutions, endless running status...

Also: the hypothesis strategies and settings of the fuzz tests, the invariants
they check (:func:`table_problems`, :func:`units_problems`) and the child-process
reader (:func:`worker_main`). Used by ``tests/test_fuzz_midi.py`` and
``tests/test_fuzz_units.py``; the package under test is imported only inside
those checks, never to build a file.
"""

from __future__ import annotations

import os
import re
import struct
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

# ------------------------------------------------------------ hypothesis setup

#: Multiplier of every fuzz test's example count (env ``SKLEARN_MUSEMB_FUZZ_SCALE``,
#: default 1; e.g. 20 for a long local run).
FUZZ_SCALE = float(os.environ.get("SKLEARN_MUSEMB_FUZZ_SCALE", "1"))

#: Settings of every fuzz test: reproducible (derandomized, no example database),
#: no deadline (the shared CI cores are noisy; hangs are caught separately).
FUZZ = settings(
    database=None,
    derandomize=True,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
)


def examples(n: int) -> int:
    """``n`` scaled by :data:`FUZZ_SCALE` (at least 1)."""
    return max(1, round(n * FUZZ_SCALE))


# Even without a database hypothesis caches the constants of the code under test
# in ``.hypothesis/`` of the working directory: send that to a temporary folder,
# unless the user chose a place (HYPOTHESIS_STORAGE_DIRECTORY).
if not os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY"):
    try:
        from hypothesis.configuration import set_hypothesis_home_dir
    except ImportError:  # pragma: no cover - an older or newer hypothesis
        pass
    else:
        set_hypothesis_home_dir(
            Path(tempfile.gettempdir()) / "sklearn-musemb-hypothesis"
        )

# ------------------------------------------------------------------ primitives


def vlq(value: int) -> bytes:
    """MIDI variable-length quantity (7 bits per byte, high bit = continue).

    Values above the SMF maximum (``0x0FFFFFFF``, four bytes) are still encoded,
    with more bytes: readers must cope with that too.
    """
    if value < 0:
        raise ValueError(f"vlq needs a non-negative value, got {value}")
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.append(0x80 | (value & 0x7F))
        value >>= 7
    return bytes(reversed(out))


def header(
    fmt: int = 1,
    n_tracks: int = 1,
    division: int = 480,
    *,
    length: int = 6,
    extra: bytes = b"",
) -> bytes:
    """The ``MThd`` chunk. ``length`` may lie; ``extra`` bytes follow the 6 fields."""
    return b"MThd" + struct.pack(">IHHH", length, fmt, n_tracks, division) + extra


def chunk(kind: bytes, payload: bytes, *, length: int | None = None) -> bytes:
    """A chunk; ``length`` (default: the true one) may lie."""
    size = len(payload) if length is None else length
    return kind + struct.pack(">I", size) + payload


def note_on(delta: int, channel: int, pitch: int, velocity: int) -> bytes:
    return vlq(delta) + bytes([0x90 | channel, pitch, velocity])


def note_off(delta: int, channel: int, pitch: int, velocity: int = 0) -> bytes:
    return vlq(delta) + bytes([0x80 | channel, pitch, velocity])


def program_change(delta: int, channel: int, program: int) -> bytes:
    return vlq(delta) + bytes([0xC0 | channel, program])


def control_change(delta: int, channel: int, control: int, value: int) -> bytes:
    return vlq(delta) + bytes([0xB0 | channel, control, value])


def pitch_bend(delta: int, channel: int, value: int) -> bytes:
    return vlq(delta) + bytes([0xE0 | channel, value & 0x7F, (value >> 7) & 0x7F])


def meta(delta: int, kind: int, data: bytes, *, length: int | None = None) -> bytes:
    size = len(data) if length is None else length
    return vlq(delta) + bytes([0xFF, kind]) + vlq(size) + data


def tempo(delta: int, mspq: int) -> bytes:
    return meta(delta, 0x51, mspq.to_bytes(3, "big"))


def time_signature(delta: int, numerator: int, denominator_power: int) -> bytes:
    return meta(delta, 0x58, bytes([numerator, denominator_power, 24, 8]))


def key_signature(delta: int, sharps: int, minor: int) -> bytes:
    return meta(delta, 0x59, bytes([sharps & 0xFF, minor]))


def sysex(delta: int, data: bytes) -> bytes:
    return vlq(delta) + b"\xf0" + vlq(len(data) + 1) + data + b"\xf7"


def end_of_track(delta: int = 0) -> bytes:
    return meta(delta, 0x2F, b"")


def track(events: Iterable[bytes], *, eot: bool = True) -> bytes:
    """An ``MTrk`` chunk of encoded events (plus End of Track unless ``eot=False``)."""
    payload = b"".join(events) + (end_of_track() if eot else b"")
    return chunk(b"MTrk", payload)


def smf(tracks: Sequence[bytes], *, fmt: int = 1, division: int = 480) -> bytes:
    """A complete file: header (true track count) + the given ``MTrk`` chunks."""
    return header(fmt, len(tracks), division) + b"".join(tracks)


# ------------------------------------------------------------- a valid piece spec


@dataclass
class Note:
    """A note of a :class:`Piece`, in absolute ticks."""

    onset: int
    duration: int
    pitch: int
    velocity: int  # 1..127: a note-on with velocity 0 is a note-off
    channel: int = 0


@dataclass
class Piece:
    """A structurally valid file, described field by field, with its true content.

    ``notes`` go to ``n_note_tracks`` tracks (note ``i`` to track
    ``i % n_note_tracks``); tempos, time and key signatures to a first, note-less
    conductor track (format 1) or to the single track (format 0). Every note is
    an explicit note-on/note-off pair, offs before ons at one tick; the
    generators never overlap two notes of one pitch, so every reader finds
    exactly ``notes``.
    """

    notes: list[Note] = field(default_factory=list)
    tempos: list[tuple[int, int]] = field(default_factory=list)  # (tick, mspq)
    time_signatures: list[tuple[int, int, int]] = field(default_factory=list)
    key_signatures: list[tuple[int, int, int]] = field(default_factory=list)
    sysex: list[tuple[int, bytes]] = field(default_factory=list)
    texts: list[tuple[int, bytes]] = field(default_factory=list)
    division: int = 480
    fmt: int = 1
    n_note_tracks: int = 1
    running_status: bool = False
    note_off_as_velocity_zero: bool = False

    def _note_track_events(self, notes: list[Note]) -> list[tuple[int, int, bytes]]:
        """(tick, order, raw message without delta); offs sort before ons."""
        out = []
        for note in notes:
            on = bytes([0x90 | note.channel, note.pitch, note.velocity])
            if self.note_off_as_velocity_zero:
                off = bytes([0x90 | note.channel, note.pitch, 0])
            else:
                off = bytes([0x80 | note.channel, note.pitch, 64])
            out.append((note.onset, 1, on))
            out.append((note.onset + note.duration, 0, off))
        return out

    def _meta_events(self) -> list[tuple[int, int, bytes]]:
        out = []
        for tick, mspq in self.tempos:
            out.append((tick, 2, tempo(0, mspq)[1:]))
        for tick, num, power in self.time_signatures:
            out.append((tick, 2, time_signature(0, num, power)[1:]))
        for tick, sharps, minor in self.key_signatures:
            out.append((tick, 2, key_signature(0, sharps, minor)[1:]))
        for tick, data in self.sysex:
            out.append((tick, 2, sysex(0, data)[1:]))
        for tick, text in self.texts:
            out.append((tick, 2, meta(0, 0x01, text)[1:]))
        return out

    def _encode(self, events: list[tuple[int, int, bytes]]) -> bytes:
        events = sorted(events, key=lambda e: (e[0], e[1]))
        parts, last, status = [], 0, None
        for tick, _, raw in events:
            parts.append(vlq(tick - last))
            last = tick
            if self.running_status and raw[0] < 0xF0 and raw[0] == status:
                parts.append(raw[1:])
            else:
                parts.append(raw)
            # meta and sysex events cancel running status
            status = raw[0] if raw[0] < 0xF0 else None
        return track(parts)

    def to_bytes(self) -> bytes:
        if self.fmt == 0:
            events = self._meta_events() + self._note_track_events(self.notes)
            return smf([self._encode(events)], fmt=0, division=self.division)
        groups = [
            self.notes[i :: self.n_note_tracks] for i in range(self.n_note_tracks)
        ]
        tracks = [self._encode(self._meta_events())]
        tracks += [self._encode(self._note_track_events(g)) for g in groups]
        return smf(tracks, fmt=1, division=self.division)


# ------------------------------------------------------- hypothesis strategies


@st.composite
def pieces(draw: st.DrawFn, max_notes: int = 40, max_gap: int = 2000) -> Piece:
    """A random structurally valid :class:`Piece` (every field drawn).

    Same-pitch notes never overlap, so every reader pairs them the same way;
    ticks stay far below 2**31. Gaps are short, and in some pieces every
    ``k``-th gap is long (up to ``10**6`` ticks).
    """
    specs = draw(
        st.lists(
            st.tuples(
                st.integers(0, max_gap),  # gap to the previous onset
                st.integers(0, 127),  # pitch
                st.integers(1, 2 * max_gap),  # duration
                st.integers(1, 127),  # velocity
                st.sampled_from([0, 0, 0, 1, 9, 15]),  # channel (9: drums)
            ),
            max_size=max_notes,
        )
    )
    long_every = draw(st.sampled_from([0, 0, 0, 1, 5]))
    long_gap = draw(st.integers(0, 10**6))
    notes: list[Note] = []
    free_at = [0] * 128
    tick = 0
    for i, (gap, pitch, duration, velocity, channel) in enumerate(specs):
        tick += long_gap if long_every and i % long_every == 0 else gap
        start = max(tick, free_at[pitch])
        notes.append(Note(start, duration, pitch, velocity, channel))
        free_at[pitch] = start + duration  # an off then an on at one tick: fine
    last = max((note.onset + note.duration for note in notes), default=0) + 1
    ticks = st.integers(0, last)
    return Piece(
        notes=notes,
        tempos=draw(st.lists(st.tuples(ticks, st.integers(1, 0xFFFFFF)), max_size=5)),
        time_signatures=draw(
            st.lists(
                st.tuples(ticks, st.integers(1, 32), st.integers(0, 6)), max_size=3
            )
        ),
        key_signatures=draw(
            st.lists(
                st.tuples(ticks, st.integers(-7, 7), st.integers(0, 1)), max_size=2
            )
        ),
        sysex=draw(
            st.lists(
                st.tuples(ticks, st.binary(max_size=16).map(_seven_bit)), max_size=1
            )
        ),
        texts=draw(st.lists(st.tuples(ticks, st.binary(max_size=16)), max_size=1)),
        division=draw(
            st.sampled_from([1, 2, 24, 96, 480, 960, 0x7FFF]) | st.integers(1, 0x7FFF)
        ),
        fmt=draw(st.sampled_from([0, 1])),
        n_note_tracks=draw(st.integers(1, 4)),
        running_status=draw(st.booleans()),
        note_off_as_velocity_zero=draw(st.booleans()),
    )


def random_piece(rng: np.random.Generator, max_notes: int = 60) -> Piece:
    """The NumPy twin of :func:`pieces`: a random valid piece from a generator.

    Much cheaper than drawing every field through hypothesis, for tests that
    only need a valid starting point (mutation fuzzing, corpora).
    """
    n = int(rng.integers(0, max_notes + 1))
    long_every = int(rng.choice([0, 0, 0, 1, 5]))
    gaps = rng.integers(0, 2001, size=n)
    if long_every:
        gaps[::long_every] = rng.integers(0, 10**6, size=len(gaps[::long_every]))
    onsets = np.cumsum(gaps).tolist()
    pitches = rng.integers(0, 128, size=n).tolist()
    durations = rng.integers(1, 4001, size=n).tolist()
    velocities = rng.integers(1, 128, size=n).tolist()
    channels = rng.choice([0, 0, 0, 1, 9, 15], size=n).tolist()
    notes: list[Note] = []
    free_at = [0] * 128
    for tick, pitch, duration, velocity, channel in zip(
        onsets, pitches, durations, velocities, channels, strict=True
    ):
        start = max(tick, free_at[pitch])
        notes.append(Note(start, duration, pitch, velocity, channel))
        free_at[pitch] = start + duration
    last = max((note.onset + note.duration for note in notes), default=0) + 1

    def ticks(k: int) -> list[int]:
        return [int(t) for t in rng.integers(0, last + 1, size=k)]

    k = [int(v) for v in rng.integers(0, [6, 4, 3, 2, 2])]
    return Piece(
        notes=notes,
        tempos=list(zip(ticks(k[0]), map(int, rng.integers(1, 1 << 24, size=k[0])))),
        time_signatures=[
            (t, int(rng.integers(1, 33)), int(rng.integers(0, 7))) for t in ticks(k[1])
        ],
        key_signatures=[
            (t, int(rng.integers(-7, 8)), int(rng.integers(0, 2))) for t in ticks(k[2])
        ],
        sysex=[
            (t, bytes(rng.integers(0, 128, size=5, dtype=np.uint8)))
            for t in ticks(k[3])
        ],
        texts=[
            (t, bytes(rng.integers(0, 256, size=7, dtype=np.uint8)))
            for t in ticks(k[4])
        ],
        division=int(
            rng.choice([1, 24, 96, 480, 960, 0x7FFF, int(rng.integers(1, 0x8000))])
        ),
        fmt=int(rng.integers(0, 2)),
        n_note_tracks=int(rng.integers(1, 5)),
        running_status=bool(rng.integers(0, 2)),
        note_off_as_velocity_zero=bool(rng.integers(0, 2)),
    )


def _seven_bit(data: bytes) -> bytes:
    return bytes(b & 0x7F for b in data)


#: Raw event encodings, legal and not, for :func:`event_soups`.
_ANY_BYTE = st.integers(0, 255)
_DATA_BYTE = st.integers(0, 127)


@st.composite
def _raw_event(draw: st.DrawFn) -> bytes:
    delta = draw(
        st.one_of(
            st.integers(0, 127),
            st.integers(0, 0x0FFFFFFF),
            st.sampled_from([0x0FFFFFFF, 0x7FFFFFFF, 2**40]),
        )
    )
    kind = draw(st.integers(0, 9))
    if kind == 0:  # channel message with status
        status = draw(st.integers(0x80, 0xEF))
        n_data = 1 if 0xC0 <= status < 0xE0 else 2
        body = bytes([status]) + bytes(
            draw(st.lists(_DATA_BYTE, min_size=n_data, max_size=n_data))
        )
    elif kind == 1:  # running-status data
        body = bytes(draw(st.lists(_DATA_BYTE, min_size=1, max_size=2)))
    elif kind == 2:  # meta event, any type, any (maybe lying) length
        kind_byte = draw(
            st.sampled_from(
                [0x00, 0x01, 0x03, 0x20, 0x2F, 0x51, 0x54, 0x58, 0x59, 0x7F]
            )
            | _ANY_BYTE
        )
        data = draw(st.binary(max_size=8))
        length = len(data) if draw(st.booleans()) else draw(st.integers(0, 2**28 - 1))
        body = bytes([0xFF, kind_byte]) + vlq(length) + data
    elif kind == 3:  # sysex (F0) or escape (F7), maybe lying length
        data = draw(st.binary(max_size=8))
        length = len(data) if draw(st.booleans()) else draw(st.integers(0, 2**28 - 1))
        body = bytes([draw(st.sampled_from([0xF0, 0xF7]))]) + vlq(length) + data
    elif kind == 4:  # system common / real-time bytes, illegal in files
        body = bytes([draw(st.integers(0xF1, 0xFE))]) + draw(st.binary(max_size=3))
    elif kind == 5:  # tempo, time and key signature with random payloads
        meta_type = draw(st.sampled_from([0x51, 0x58, 0x59]))
        data = draw(st.binary(max_size=6))
        body = bytes([0xFF, meta_type]) + vlq(len(data)) + data
    elif kind == 6:  # a sensible note-on / note-off
        status = draw(st.sampled_from([0x80, 0x90])) | draw(st.integers(0, 15))
        body = bytes([status, draw(_DATA_BYTE), draw(_DATA_BYTE)])
    elif kind == 7:  # out-of-range data bytes after a status
        status = draw(st.integers(0x80, 0xEF))
        body = bytes([status, draw(_ANY_BYTE), draw(_ANY_BYTE)])
    elif kind == 8:  # end of track, mid-track
        body = b"\xff\x2f\x00"
    else:  # anything
        body = draw(st.binary(max_size=6))
    return vlq(delta) + body


@st.composite
def event_soups(draw: st.DrawFn) -> bytes:
    """A file whose chunk layout is right but whose events are random soup."""
    n_tracks = draw(st.integers(1, 3))
    tracks = [
        track(draw(st.lists(_raw_event(), max_size=24)), eot=draw(st.booleans()))
        for _ in range(n_tracks)
    ]
    division = draw(st.sampled_from([1, 96, 480, 0x7FFF]) | st.integers(1, 0x7FFF))
    return smf(tracks, fmt=draw(st.sampled_from([0, 1])), division=division)


@st.composite
def raw_smf(draw: st.DrawFn) -> bytes:
    """Header fields and chunks of random bytes, lengths true or lying."""
    fmt = draw(st.sampled_from([0, 1, 2, 3]) | st.integers(0, 0xFFFF))
    division = draw(
        st.sampled_from([0, 1, 480, 0x7FFF, 0x8000, 0xE728]) | st.integers(0, 0xFFFF)
    )
    chunks = []
    for _ in range(draw(st.integers(0, 3))):
        payload = draw(st.binary(max_size=64))
        kind = draw(st.sampled_from([b"MTrk", b"MTrk", b"XXXX", b"MThd"]))
        length = None if draw(st.booleans()) else draw(st.integers(0, 0xFFFFFFFF))
        chunks.append(chunk(kind, payload, length=length))
    n_tracks = draw(st.one_of(st.just(len(chunks)), st.integers(0, 0xFFFF)))
    length = draw(st.sampled_from([6, 6, 6, 0, 8, 0xFFFFFFFF]))
    extra = b"\x00" * max(0, min(length, 16) - 6)
    return header(fmt, n_tracks, division, length=length, extra=extra) + b"".join(
        chunks
    )


# ----------------------------------------------------------------- hostile files

#: Outcome of reading a hostile file: "error" (must raise the reader's documented
#: error), or "any" (weird but legal, or at least defensible either way: must read
#: or raise the documented error, within the time and memory bounds).
ERROR, ANY = "error", "any"


@dataclass(frozen=True)
class Hostile:
    """A named hostile file: a factory of its bytes and what reading it must do."""

    name: str
    make: Callable[[], bytes]
    expect: str  # ERROR or ANY
    reason: str = ""  # a regex the error message must match (ERROR only)


def _one_note_track() -> bytes:
    return track([note_on(0, 0, 60, 80), note_off(480, 0, 60)])


def note_on_flood(n_bytes: int) -> bytes:
    """One track of note-ons, ``n_bytes`` of events, built by tiling (fast).

    Each event is 4 bytes (delta 0, status 0x90, pitch, velocity), cycling over
    all 128 pitches; none is ever released, so readers hold every one open.
    """
    n = n_bytes // 4
    pattern = np.zeros((128, 4), dtype=np.uint8)
    pattern[:, 1] = 0x90
    pattern[:, 2] = np.arange(128)
    pattern[:, 3] = 100
    pattern[0, 0] = 1  # a 1-tick delta every 128 events: onsets are not all at 0
    events = np.tile(pattern.ravel(), n // 128 + 1)[: 4 * n].tobytes()
    return smf([chunk(b"MTrk", events + end_of_track())])


def _tempo_flood(n: int) -> bytes:
    one = tempo(1, 500_000)[1:]  # without the delta byte
    # alternate two tempi so that no event repeats the previous one
    two = tempo(1, 400_000)[1:]
    body = (b"\x01" + one + b"\x01" + two) * (n // 2)
    return smf([chunk(b"MTrk", body + end_of_track()), _one_note_track()])


def _running_status_flood(n: int) -> bytes:
    """One status byte, then ``n`` running-status note on/off pairs."""
    body = bytearray(b"\x00\x90\x3c\x40")
    pair = b"\x10\x3c\x00\x00\x3c\x40"  # off (velocity 0) then on again
    body += pair * n
    return smf([chunk(b"MTrk", bytes(body) + end_of_track())])


def _huge_deltas(n: int) -> bytes:
    """Notes separated by the largest legal delta (0x0FFFFFFF ticks) each."""
    events = []
    for i in range(n):
        events.append(note_on(0x0FFFFFFF, 0, 60 + i % 12, 80))
        events.append(note_off(0x0FFFFFFF, 0, 60 + i % 12))
    return smf([track(events)])


def _long_vlq_delta() -> bytes:
    """A delta encoded with ten continuation bytes (far over the 4-byte maximum)."""
    bad = b"\xff" * 9 + b"\x7f"
    body = bad + b"\x90\x3c\x40" + b"\x10\x80\x3c\x00"
    return smf([chunk(b"MTrk", body + end_of_track())])


def _data_without_status() -> bytes:
    """Data bytes before any status byte (running status with nothing to run)."""
    body = b"\x00\x3c\x40\x10\x3c\x00"
    return smf([chunk(b"MTrk", body + end_of_track())])


def _long_meta_length() -> bytes:
    """A text meta event that claims 2**28 bytes inside a short track."""
    body = b"\x00\xff\x01" + vlq(2**28 - 1) + b"abc" + note_on(0, 0, 60, 80)
    return smf([chunk(b"MTrk", body + end_of_track())])


def _long_sysex_length() -> bytes:
    body = b"\x00\xf0" + vlq(2**28 - 1) + b"\x01\x02" + note_on(0, 0, 60, 80)
    return smf([chunk(b"MTrk", body + end_of_track())])


def _unterminated_sysex() -> bytes:
    body = b"\x00\xf0\x05\x01\x02\x03\x04\x05" + note_on(0, 0, 60, 80)  # no F7
    return smf([chunk(b"MTrk", body + end_of_track())])


def _empty_tracks_claimed(n: int) -> bytes:
    """Header claims ``n`` tracks, each an empty MTrk (no End of Track)."""
    return header(1, n, 480) + chunk(b"MTrk", b"") * n


def _many_tracks(n: int) -> bytes:
    """``n`` real one-note tracks (65535 at most: the header field is 16 bits)."""
    one = _one_note_track()
    return header(1, n, 480) + one * n


def _track_bomb(n_chunks: int, programs: int) -> bytes:
    """``n_chunks`` chunks, each with a note-on for every channel and ``programs``
    programs: symusic makes a track (2-5 kB) for each, from a few bytes."""
    events = []
    for program in range(programs):
        for channel in range(16):
            if programs > 1:
                events.append(program_change(0, channel, program))
            events.append(note_on(0, channel, 60, 80))
    return header(1, n_chunks, 480) + track(events) * n_chunks


def _many_channels_programs() -> bytes:
    """One track, all 16 channels and 128 programs (readers split by both)."""
    events = []
    for program in range(128):
        channel = program % 16
        events.append(program_change(0, channel, program))
        events.append(note_on(0, channel, 60, 80))
        events.append(note_off(1, channel, 60))
    return smf([track(events)])


def _zero_tempo() -> bytes:
    return smf([track([tempo(0, 0), note_on(0, 0, 60, 80), note_off(480, 0, 60)])])


def _short_tempo_meta() -> bytes:
    """A tempo meta event with one data byte instead of three."""
    body = meta(0, 0x51, b"\x07") + note_on(0, 0, 60, 80) + note_off(480, 0, 60)
    return smf([chunk(b"MTrk", body + end_of_track())])


def _bad_time_signature() -> bytes:
    """Time signature 0/2**31 (denominator power 255) and 255/1."""
    events = [
        meta(0, 0x58, bytes([0, 255, 24, 8])),
        meta(0, 0x58, bytes([255, 0, 24, 8])),
        note_on(0, 0, 60, 80),
        note_off(480, 0, 60),
    ]
    return smf([track(events)])


def _bad_key_signature() -> bytes:
    events = [
        meta(0, 0x59, bytes([0x80, 7])),  # -128 sharps, tonality 7
        meta(0, 0x59, b""),  # no data at all
        note_on(0, 0, 60, 80),
        note_off(480, 0, 60),
    ]
    return smf([track(events)])


def _out_of_range_data_bytes() -> bytes:
    """Note-on with pitch 200 and velocity 255 (data bytes must be < 0x80)."""
    body = b"\x00\x90\xc8\xff" + b"\x10\x80\xc8\x00" + note_on(0, 0, 60, 80)
    body += note_off(10, 0, 60)
    return smf([chunk(b"MTrk", body + end_of_track())])


def _eot_mid_track() -> bytes:
    """End of Track in the middle; events after it."""
    body = note_on(0, 0, 60, 80) + end_of_track() + note_off(480, 0, 60)
    return smf([chunk(b"MTrk", body + end_of_track())])


def _no_eot() -> bytes:
    return smf([track([note_on(0, 0, 60, 80), note_off(480, 0, 60)], eot=False)])


def _unknown_chunks() -> bytes:
    """Alien chunks around the track (SMF says: skip them)."""
    alien = chunk(b"XFIH", b"\x00" * 100)
    return header(1, 1, 480) + alien + _one_note_track() + alien


def _rmid_wrapper() -> bytes:
    """A RIFF RMID file (an SMF inside a RIFF container), not a bare SMF."""
    inner = smf([_one_note_track()])
    data = b"RMID" + chunk(b"data", inner)
    return b"RIFF" + struct.pack("<I", len(data)) + data


def hostile_files() -> list[Hostile]:
    """The catalogue of hostile files, each small enough to build in milliseconds.

    (The ~100 MB note-on flood is built separately, in the test's ``tmp_path``.)
    """
    tiny = _one_note_track()
    return [
        # --- the header
        Hostile("empty", lambda: b"", ERROR, "empty"),
        Hostile("one-byte", lambda: b"M", ERROR, "not a Standard MIDI File"),
        Hostile("header-only-magic", lambda: b"MThd", ERROR, "truncated"),
        Hostile("header-cut", lambda: header()[:10], ERROR, "truncated"),
        Hostile("random-bytes", lambda: bytes(range(256)) * 8, ERROR, "not a Standard"),
        Hostile("text-file", lambda: b"title,composer\n" * 40, ERROR, "not a Standard"),
        Hostile("rmid-riff", _rmid_wrapper, ERROR, "not a Standard"),
        Hostile("header-length-0", lambda: header(length=0) + tiny, ERROR, "header"),
        Hostile("header-length-5", lambda: header(length=5) + tiny, ERROR, "header"),
        Hostile(
            "header-length-huge",
            lambda: header(length=0xFFFFFFF0) + tiny,
            ERROR,
            "truncated|header",
        ),
        Hostile(
            "header-length-8-padded",
            lambda: header(length=8, extra=b"\x00\x00") + tiny,
            ANY,
        ),
        Hostile("format-2", lambda: smf([tiny, tiny], fmt=2), ERROR, "type-2"),
        Hostile("format-3", lambda: smf([tiny], fmt=3), ERROR, "format"),
        Hostile("format-65535", lambda: smf([tiny], fmt=0xFFFF), ERROR, "format"),
        Hostile("format-0-two-tracks", lambda: smf([tiny, tiny], fmt=0), ANY),
        Hostile("tpq-0", lambda: smf([tiny], division=0), ERROR, "ticks per quarter"),
        Hostile("tpq-1", lambda: smf([tiny], division=1), ANY),
        Hostile("tpq-32767", lambda: smf([tiny], division=32767), ANY),
        Hostile("smpte-25", lambda: smf([tiny], division=0xE728), ERROR, "SMPTE"),
        Hostile("smpte-30", lambda: smf([tiny], division=0xE250), ERROR, "SMPTE"),
        Hostile("smpte-0x8000", lambda: smf([tiny], division=0x8000), ERROR, "SMPTE"),
        Hostile("smpte-0xffff", lambda: smf([tiny], division=0xFFFF), ERROR, "SMPTE"),
        # --- track counts and chunk lengths
        Hostile("zero-tracks", lambda: header(1, 0, 480), ANY),
        Hostile("zero-tracks-but-data", lambda: header(1, 0, 480) + tiny, ANY),
        Hostile(
            "more-tracks-claimed",
            lambda: header(1, 5, 480) + tiny,
            ERROR,
            "truncated",
        ),
        Hostile(
            "65535-tracks-claimed",
            lambda: header(1, 0xFFFF, 480) + tiny,
            ERROR,
            "truncated",
        ),
        Hostile(
            "note-on-track-bomb",
            lambda: _track_bomb(0xFFFF, 1),
            ERROR,
            "too many tracks with notes",
        ),
        Hostile(
            "program-track-bomb",
            lambda: _track_bomb(400, 128),
            ERROR,
            "too many tracks with notes",
        ),
        Hostile("2000-tracks-of-16-channels", lambda: _track_bomb(2000, 1), ANY),
        Hostile("fewer-tracks-claimed", lambda: header(1, 1, 480) + tiny * 3, ANY),
        Hostile("65535-empty-tracks", lambda: _empty_tracks_claimed(0xFFFF), ANY),
        Hostile("5000-real-tracks", lambda: _many_tracks(5000), ANY),
        Hostile(
            "40000-real-tracks",
            lambda: _many_tracks(40_000),
            ERROR,
            "tracks with notes",
        ),
        Hostile(
            "chunk-length-too-long",
            lambda: header(1, 1, 480) + tiny[:4] + b"\x00\x00\x10\x00" + tiny[8:],
            ERROR,
            "truncated",
        ),
        Hostile(
            "chunk-length-0xffffffff",
            lambda: header(1, 1, 480) + tiny[:4] + b"\xff\xff\xff\xff" + tiny[8:],
            ERROR,
            "truncated",
        ),
        Hostile(
            "chunk-length-too-short",
            lambda: header(1, 1, 480) + tiny[:4] + b"\x00\x00\x00\x03" + tiny[8:],
            ANY,
        ),
        Hostile(
            "chunk-length-0",
            lambda: header(1, 1, 480) + tiny[:4] + b"\x00\x00\x00\x00" + tiny[8:],
            ANY,
        ),
        Hostile("track-cut-mid-event", lambda: smf([tiny])[:-5], ERROR, "truncated"),
        Hostile(
            "track-cut-in-chunk-header",
            lambda: smf([tiny])[:18],
            ERROR,
            "truncated",
        ),
        Hostile("unknown-chunks", _unknown_chunks, ANY),
        Hostile(
            "only-unknown-chunks",
            lambda: header(1, 1, 480) + chunk(b"XXXX", b"\x00" * 20),
            ERROR,
            "truncated",
        ),
        Hostile("trailing-garbage", lambda: smf([tiny]) + bytes(range(256)) * 4, ANY),
        # --- events inside a track
        Hostile("no-end-of-track", _no_eot, ANY),
        Hostile("end-of-track-mid-track", _eot_mid_track, ANY),
        Hostile("data-without-status", _data_without_status, ANY),
        Hostile("long-vlq-delta", _long_vlq_delta, ANY),
        Hostile("meta-length-2**28", _long_meta_length, ANY),
        Hostile("sysex-length-2**28", _long_sysex_length, ANY),
        Hostile("unterminated-sysex", _unterminated_sysex, ANY),
        Hostile("zero-tempo", _zero_tempo, ERROR, "corrupt tempo"),
        Hostile("short-tempo-meta", _short_tempo_meta, ANY),
        Hostile("bad-time-signature", _bad_time_signature, ERROR, "time signature"),
        Hostile("bad-key-signature", _bad_key_signature, ERROR, "key signature"),
        Hostile("out-of-range-data-bytes", _out_of_range_data_bytes, ANY),
        Hostile("all-channels-programs", _many_channels_programs, ANY),
        Hostile("huge-deltas", lambda: _huge_deltas(64), ERROR, "overflow"),
        Hostile("huge-deltas-in-range", lambda: _huge_deltas(4), ANY),
        Hostile("running-status-200k", lambda: _running_status_flood(200_000), ANY),
        Hostile("tempo-events-1e6", lambda: _tempo_flood(1_000_000), ANY),
        Hostile("note-on-flood-4MB", lambda: note_on_flood(4 << 20), ANY),
        Hostile("all-0xff-track", lambda: smf([chunk(b"MTrk", b"\xff" * 4096)]), ANY),
        Hostile("all-0x00-track", lambda: smf([chunk(b"MTrk", b"\x00" * 4096)]), ANY),
        Hostile("all-0x90-track", lambda: smf([chunk(b"MTrk", b"\x90" * 4096)]), ANY),
        Hostile("all-0xf0-track", lambda: smf([chunk(b"MTrk", b"\xf0" * 4096)]), ANY),
    ]


# -------------------------------------------------------------------- mutations


def mutate(data: bytes, rng: np.random.Generator, n_mutations: int = 1) -> bytes:
    """Apply ``n_mutations`` random byte-level mutations to ``data``.

    Mutations: flip a bit, set a byte to an interesting value, insert or delete
    a run of bytes, truncate, duplicate a slice, or overwrite a chunk length or a
    header field (the structural places where lies hurt most).
    """
    buf = bytearray(data)
    for _ in range(n_mutations):
        op = int(rng.integers(0, 8))
        if not buf:
            buf += bytes(rng.integers(0, 256, size=4, dtype=np.uint8))
            continue
        i = int(rng.integers(0, len(buf)))
        if op == 0:  # bit flip
            buf[i] ^= 1 << int(rng.integers(0, 8))
        elif op == 1:  # interesting byte
            buf[i] = int(rng.choice([0x00, 0x7F, 0x80, 0xF0, 0xF7, 0xFF, 0x90, 0x2F]))
        elif op == 2:  # insert random bytes
            k = int(rng.integers(1, 9))
            buf[i:i] = bytes(rng.integers(0, 256, size=k, dtype=np.uint8))
        elif op == 3:  # delete a run
            del buf[i : i + int(rng.integers(1, 9))]
        elif op == 4:  # truncate
            del buf[i:]
        elif op == 5:  # duplicate a slice
            j = min(len(buf), i + int(rng.integers(1, 33)))
            buf[j:j] = buf[i:j]
        elif op == 6:  # corrupt a chunk length
            starts = [m.start() for m in re.finditer(b"MTrk|MThd", bytes(buf))]
            if starts:
                k = int(rng.choice(starts)) + 4
                value = int(rng.choice([0, 1, 6, 0x7FFFFFFF, 0xFFFFFFFF]))
                value = value if rng.random() < 0.5 else int(rng.integers(0, 1 << 32))
                buf[k : k + 4] = struct.pack(">I", value)
        else:  # corrupt a header field (format, track count, division)
            if len(buf) >= 14:
                k = int(rng.choice([8, 10, 12]))
                buf[k : k + 2] = struct.pack(">H", int(rng.integers(0, 1 << 16)))
    return bytes(buf)


# ------------------------------------------------------------------ invariants
# These import the package lazily, so that building files never needs it.


def table_problems(table, source: str | None = None) -> list[str]:
    """Every documented invariant of a :class:`NoteTable` from ``read_midi``
    that ``table`` breaks (an empty list when it keeps them all)."""
    problems = []
    notes = table.notes
    if source is not None and table.source != source:
        problems.append(f"source {table.source!r} != {source!r}")
    if not 1 <= table.ticks_per_beat <= 0x7FFF:
        problems.append(f"ticks_per_beat {table.ticks_per_beat}")
    if len(notes):
        onset, offset = notes["onset"], notes["offset"]
        if not (np.isfinite(onset).all() and np.isfinite(offset).all()):
            problems.append("non-finite onset/offset seconds")
        if onset.min() < 0 or notes["onset_tick"].min() < 0:
            problems.append("negative onset")
        if (offset < onset).any() or (notes["offset_tick"] < notes["onset_tick"]).any():
            problems.append("offset before onset")
        if notes["pitch"].max() > 127 or notes["program"].max() > 127:
            problems.append("pitch or program > 127")
        if notes["velocity"].min() < 1 or notes["velocity"].max() > 127:
            problems.append("velocity outside 1..127")
        keys = np.stack(
            [
                notes["onset_tick"],
                notes["pitch"].astype(np.int64),
                notes["track"].astype(np.int64),
                notes["offset_tick"],
            ]
        )
        order = np.lexsort(keys[::-1])
        if not np.array_equal(order, np.arange(len(notes))):
            problems.append("notes not sorted by onset tick, pitch, track, offset")
        # seconds follow ticks (a monotone tempo map), to rounding
        step = np.diff(onset)
        if (step < -1e-9 * np.maximum(1.0, np.abs(onset[1:]))).any():
            problems.append("onset seconds decrease while ticks increase")
        tracks = np.unique(notes["track"])
        if not np.array_equal(tracks, np.arange(len(tracks))):
            problems.append(f"track numbers not 0..k-1: {tracks[:10]}")
    tempos = table.tempos
    if len(tempos) == 0 or tempos["tick"][0] != 0 or tempos["time"][0] != 0:
        problems.append("tempo map does not start at tick 0")
    elif (np.diff(tempos["tick"]) <= 0).any() or (np.diff(tempos["time"]) < 0).any():
        problems.append("tempo ticks not strictly increasing")
    elif not (np.isfinite(tempos["qpm"]).all() and (tempos["qpm"] > 0).all()):
        problems.append("tempo qpm not finite and positive")
    for name in ("time_signatures", "key_signatures"):
        events = getattr(table, name)
        if len(events) and (
            events["tick"].min() < 0 or (np.diff(events["tick"]) < 0).any()
        ):
            problems.append(f"{name} ticks negative or unsorted")
        if len(events) and not np.isfinite(events["time"]).all():
            problems.append(f"{name} times not finite")
    ts = table.time_signatures
    if len(ts) and (ts["numerator"].min() < 1 or ts["denominator"].min() < 1):
        problems.append("time signature with a 0 numerator or denominator")
    ks = table.key_signatures
    if len(ks) and (
        np.abs(ks["key"]).max() > 7 or not np.isin(ks["tonality"], (0, 1)).all()
    ):
        problems.append("key signature outside -7..7 sharps / tonality 0, 1")
    return problems


def units_problems(units, *, kind: str, width: int | None = None) -> list[str]:
    """Every documented invariant of segmenter (or Transposer) output it breaks.

    ``width`` is ``n_notes`` for note units. Positions must increase within a
    piece and variant (consecutive for note units).
    """
    from sklearn_musemb.units.container import PAD
    from sklearn_musemb.units.segment import BEAT_PITCH_RANGE, IOI_MAX_MS

    problems = []
    events = units.events
    n = len(units)
    if units.kind != kind:
        problems.append(f"kind {units.kind!r} != {kind!r}")
    if events.ndim != 3 or events.shape[2] != 2 or events.dtype != np.int16:
        return problems + [f"events shape {events.shape} dtype {events.dtype}"]
    if n == 0:
        problems.append("no units and no error")
    if (units.n_events < 0).any() or (units.n_events > events.shape[1]).any():
        problems.append("n_events outside 0..width")
    for column in ("piece", "position", "variant", "n_events"):
        if getattr(units, column).shape != (n,):
            problems.append(f"{column} has the wrong shape")
    pitch, second = events[..., 0], events[..., 1]
    if kind == "notes":
        if width is not None and events.shape[1] != width:
            problems.append(f"width {events.shape[1]} != n_notes {width}")
        if (units.n_events != events.shape[1]).any():
            problems.append("note units with padding")
        if pitch.min(initial=0) < 0 or pitch.max(initial=0) > 127:
            problems.append("note pitch outside 0..127")
        if second.min(initial=0) < 0 or second.max(initial=0) > IOI_MAX_MS:
            problems.append("ioi outside 0..IOI_MAX_MS")
    else:
        low, high = units.meta.get("pitch_range", BEAT_PITCH_RANGE)
        window = units.meta["beats"] * units.meta["ticks_per_beat"]
        real = np.arange(events.shape[1])[None, :] < units.n_events[:, None]
        if (events[~real] != PAD).any():
            problems.append("padding is not PAD after the real events")
        p, t = pitch[real], second[real]
        if len(p) and (p.min() < low or p.max() >= high):
            problems.append(f"beat pitch outside [{low}, {high})")
        if len(t) and (t.min() < 0 or t.max() >= window):
            problems.append(f"beat tick outside [0, {window})")
        key = np.where(
            real, second.astype(np.int64) * 128 + pitch, np.iinfo(np.int64).max
        )
        if (np.diff(key, axis=1) <= 0)[real[:, 1:]].any():
            problems.append("beat events not sorted by tick then pitch, or repeated")
    order = np.lexsort((np.arange(n), units.position, units.variant, units.piece))
    same = (units.piece[order][1:] == units.piece[order][:-1]) & (
        units.variant[order][1:] == units.variant[order][:-1]
    )
    if not np.array_equal(order, np.arange(n)) and units.meta.get("shifts") is None:
        problems.append("rows are not in piece, position order")
    step = np.diff(units.position[order])[same]
    if kind == "notes" and (step != 1).any():
        problems.append("note-unit positions not consecutive within a piece")
    if (step <= 0).any():
        problems.append("positions not increasing within a piece")
    return problems


# ---------------------------------------------------------------- the worker


def worker_main(memory_limit_bytes: int) -> None:
    """Serve read (and segment) jobs from stdin, one JSON line each, until EOF.

    Runs in a child process of the tests so that a hang can be killed and a
    runaway allocation cannot take the test process (or the machine) down: the
    address space is capped at the process's size after imports plus
    ``memory_limit_bytes``. Each job's reply holds its outcome, wall time and peak
    resident memory above the level before the job (``VmHWM``, reset through
    ``/proc/self/clear_refs``; None where the kernel cannot reset it).
    """
    import gc
    import json
    import re
    import resource
    import sys
    import time
    import traceback

    from sklearn_musemb.io.midi import MidiReadError, read_midi
    from sklearn_musemb.units import segment_beats, segment_notes

    def status(field: str) -> int | None:
        """A ``/proc/self/status`` size in bytes (None without procfs)."""
        try:
            with open("/proc/self/status") as handle:
                found = re.search(rf"{field}:\s+(\d+)", handle.read())
        except OSError:
            return None
        return int(found.group(1)) * 1024 if found else None

    size = status("VmSize")
    if size is not None:
        limit = size + memory_limit_bytes
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    def reset_peak() -> bool:
        try:
            with open("/proc/self/clear_refs", "w") as handle:
                handle.write("5")
        except OSError:
            return False
        return status("VmHWM") is not None

    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        job = json.loads(line)
        gc.collect()
        can_measure = reset_peak()
        before = status("VmRSS")
        start = time.perf_counter()
        reply = {"problems": []}
        kwargs = (
            {}
            if job.get("max_bytes", "default") == "default"
            else {"max_bytes": job["max_bytes"]}
        )
        try:
            table = read_midi(job["path"], **kwargs)
        except MidiReadError as exc:
            reply.update(outcome="error", message=str(exc))
        except BaseException as exc:  # noqa: BLE001 - what the test is after
            reply.update(
                outcome="crash",
                message=f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}",
            )
        else:
            reply.update(outcome="ok", notes=len(table))
            reply["problems"] += table_problems(table, job["path"])
            if job.get("segment"):
                reply["problems"] += _segment_problems(
                    table, segment_notes, segment_beats
                )
            del table
        reply["seconds"] = time.perf_counter() - start
        reply["peak_bytes"] = status("VmHWM") - before if can_measure else None
        print(json.dumps(reply), flush=True)


def _segment_problems(table, segment_notes, segment_beats) -> list[str]:
    problems = []
    for kind, segment, kwargs in (
        ("notes", segment_notes, {"n_notes": 8}),
        ("beats", segment_beats, {}),
    ):
        try:
            units = segment(table, **kwargs)
        except ValueError as exc:
            if "no piece yields a single unit" not in str(exc):
                problems.append(f"{kind}: undocumented ValueError {exc}")
        except BaseException as exc:  # noqa: BLE001
            problems.append(f"{kind}: {type(exc).__name__}: {exc}")
        else:
            problems += [
                f"{kind}: {p}"
                for p in units_problems(units, kind=kind, width=kwargs.get("n_notes"))
            ]
    return problems
