"""Fast MIDI reading into :class:`~sklearn_musemb.io.notes.NoteTable` (via symusic)."""

from __future__ import annotations

import os
import stat
import struct
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..utils.validation import check_positive_int
from .notes import (
    KEY_SIGNATURE_DTYPE,
    NOTE_DTYPE,
    TEMPO_DTYPE,
    TIME_SIGNATURE_DTYPE,
    NoteTable,
    last_per_tick,
)

if TYPE_CHECKING:  # pragma: no cover
    import pretty_midi

__all__ = ["MAX_MIDI_BYTES", "MAX_NOTE_TRACKS", "MidiReadError", "read_midi"]

#: Tempo assumed before the first tempo event (the MIDI default): 120 qpm.
DEFAULT_MSPQ = 500_000

#: Largest MIDI file :func:`read_midi` accepts by default, in bytes (32 MiB). Real
#: scores and performances are far smaller (the largest piano-midi file is under
#: 0.2 MB); the cap bounds memory and time on hostile input: a file packed with
#: notes (one every 6 bytes) takes about 18 bytes of memory per byte to read, some
#: 0.6 GB and 1-2 s at the cap. Pass ``max_bytes=None`` to lift it.
MAX_MIDI_BYTES = 32 * 2**20

#: Most tracks with notes a :class:`NoteTable` can number: its ``track`` column
#: is int16 (0 .. 32767).
MAX_NOTE_TRACKS = int(np.iinfo(np.int16).max) + 1

#: Largest tick symusic represents (its ticks are int32); later events wrap around.
_MAX_TICK = int(np.iinfo(np.int32).max)

# Smaller than the smallest possible SMF: "MThd" + length + 6 header bytes.
_MIN_SMF_SIZE = 14

# Major then minor keys in pretty_midi's ``key_number`` order (tonic pitch class,
# +12 for minor), as the number of sharps (negative: flats) that pretty_midi
# (through mido) writes for each one. Used only for PrettyMIDI input.
_KEY_NUMBER_TO_SHARPS = np.array(
    [0, -5, 2, -3, 4, -1, 6, 1, -4, 3, -2, 5]  # C Db D Eb E F F# G Ab A Bb B
    + [-3, 4, -1, 6, 1, -4, 3, -2, 5, 0, -5, 2],  # c c# d d# e f f# g g# a bb b
    dtype=np.int8,
)


class MidiReadError(ValueError):
    """A MIDI source could not be read.

    The message names the source (a path, ``"<bytes>"``...) and the reason.

    Parameters
    ----------
    source : str
        The file (or a placeholder such as ``"<bytes>"``) that failed.
    reason : str
        Why it failed.

    Examples
    --------
    >>> err = MidiReadError("song.mid", "file is empty (0 bytes)")
    >>> str(err)
    'cannot read MIDI song.mid: file is empty (0 bytes)'
    """

    def __init__(self, source: str, reason: str) -> None:
        self.source = str(source)
        self.reason = str(reason)
        super().__init__(f"cannot read MIDI {self.source}: {self.reason}")

    def __reduce__(self) -> tuple[type, tuple[str, str]]:
        # Keeps the error picklable (joblib workers send it back to the parent).
        return (type(self), (self.source, self.reason))


def read_midi(
    source: str | os.PathLike | bytes | bytearray | pretty_midi.PrettyMIDI,
    *,
    path_hint: str | None = None,
    max_bytes: int | None = MAX_MIDI_BYTES,
) -> NoteTable:
    """Read a Standard MIDI File into a :class:`NoteTable`.

    Files and bytes are parsed with symusic; the tempo map is applied in float64
    (the same arithmetic as pretty_midi) so that both seconds and ticks are exact.
    Notes are sorted by onset tick, then pitch (ties: track, then offset tick).

    Parameters
    ----------
    source : str, path-like, bytes, bytearray or pretty_midi.PrettyMIDI
        A path to a ``.mid`` file, the raw bytes of one, or an already loaded
        ``PrettyMIDI`` object (whose notes, tempo changes and signatures are
        converted directly; seconds are kept as given, ticks are derived from
        its tempo map).
    path_hint : str, optional
        Name to record as ``NoteTable.source`` and to use in error messages
        (useful with bytes, e.g. the file a cache entry came from). Defaults to
        the path, ``"<bytes>"`` or ``"<PrettyMIDI>"``.
    max_bytes : int or None, default=MAX_MIDI_BYTES
        Refuse files (or bytes) larger than this many bytes (32 MiB by default;
        a file is never read further than that). ``None``: no limit. Ignored
        for ``PrettyMIDI`` input.

    Returns
    -------
    NoteTable
        ``notes`` (onset/offset in seconds and ticks, pitch, velocity, program,
        is_drum, track), ``tempos`` (always starting at tick 0; the MIDI
        default of 120 qpm is inserted when the file sets no tempo there; a
        tempo event that repeats the current tempo is dropped),
        ``time_signatures``, ``key_signatures`` (sharps, tonality 0 major /
        1 minor) and ``ticks_per_beat``. ``track`` numbers the tracks (or
        PrettyMIDI instruments) that contain notes, from 0, in file order;
        symusic splits a track that uses several channels or programs into
        several tracks. A file without notes, or with drums only, is a valid
        read.

    Raises
    ------
    MidiReadError
        When the file is missing, a directory or other non-regular file, empty,
        larger than ``max_bytes``, not a Standard MIDI File, truncated or corrupt
        (including impossible tempo, time- or key-signature events, and events
        beyond tick 2**31 - 1), a type-2 (asynchronous) file, uses SMPTE time
        division, or has (or, judging from its note-on and program-change
        status bytes, may have) more than ``MAX_NOTE_TRACKS`` (32768) tracks
        with notes. The message names the source and the reason.
    TypeError
        When ``source`` is none of the accepted types.
    ValueError
        When ``max_bytes`` is neither None nor a positive integer.

    Examples
    --------
    >>> import io, pretty_midi
    >>> pm = pretty_midi.PrettyMIDI(resolution=480, initial_tempo=120)
    >>> piano = pretty_midi.Instrument(program=0)
    >>> piano.notes.append(pretty_midi.Note(velocity=80, pitch=60, start=0.5, end=1.0))
    >>> pm.instruments.append(piano)
    >>> buffer = io.BytesIO()
    >>> pm.write(buffer)
    >>> table = read_midi(buffer.getvalue())
    >>> table.notes[["onset_tick", "offset_tick", "pitch"]].tolist()
    [(480, 960, 60)]
    >>> table.notes["onset"].tolist(), table.notes["offset"].tolist()
    ([0.5], [1.0])
    """
    if max_bytes is not None:
        max_bytes = check_positive_int(max_bytes, "max_bytes", "read_midi")
    if isinstance(source, (bytes, bytearray, memoryview)):
        name = path_hint if path_hint is not None else "<bytes>"
        _check_size(len(source), max_bytes, name)
        return _table_from_bytes(bytes(source), name)
    if isinstance(source, (str, os.PathLike)):
        name = path_hint if path_hint is not None else os.fspath(source)
        data = _read_file(Path(source), name, max_bytes=max_bytes)
        return _table_from_bytes(data, name)
    if _is_pretty_midi(source):
        name = path_hint if path_hint is not None else "<PrettyMIDI>"
        return _table_from_pretty_midi(source, name)
    raise TypeError(
        "read_midi expects a path, bytes or a pretty_midi.PrettyMIDI object, "
        f"got {type(source).__name__}"
    )


# --------------------------------------------------------------------- raw bytes


def _read_file(path: Path, name: str, *, max_bytes: int | None) -> bytes:
    """The file's bytes; never reads more than ``max_bytes + 1`` of them.

    Refuses what is not a regular file (a FIFO would block, a device never end)
    and, unless ``max_bytes`` is None, a file larger than ``max_bytes``.
    """
    try:
        info = path.stat()
        if stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError
        if not stat.S_ISREG(info.st_mode):
            # a FIFO would block forever, a device (/dev/zero) never end
            raise MidiReadError(name, "not a regular file (a device, FIFO or socket)")
        _check_size(info.st_size, max_bytes, name)  # before reading a byte
        with open(path, "rb") as handle:
            data = handle.read(-1 if max_bytes is None else max_bytes + 1)
    except FileNotFoundError:
        raise MidiReadError(name, "file not found") from None
    except IsADirectoryError:
        raise MidiReadError(name, "is a directory, not a MIDI file") from None
    except OSError as exc:  # permissions, device errors...
        raise MidiReadError(
            name, f"{type(exc).__name__}: {exc.strerror or exc}"
        ) from None
    _check_size(len(data), max_bytes, name)
    return data


def _check_size(size: int, max_bytes: int | None, name: str) -> None:
    if max_bytes is not None and size > max_bytes:
        raise MidiReadError(
            name,
            f"file is too large ({size} bytes or more, max_bytes={max_bytes}; "
            "pass a larger max_bytes, or None, to read it)",
        )


def _check_smf(data: bytes, name: str) -> None:
    """Validate the header and chunk layout, which symusic reports less clearly."""
    if not data:
        raise MidiReadError(name, "file is empty (0 bytes)")
    if data[:4] != b"MThd":
        raise MidiReadError(
            name, f"not a Standard MIDI File (starts with {data[:4]!r}, not b'MThd')"
        )
    if len(data) < _MIN_SMF_SIZE:
        raise MidiReadError(name, f"truncated MIDI header ({len(data)} bytes)")
    header_len, fmt, n_tracks, division = struct.unpack(">IHHH", data[4:14])
    if header_len < 6:
        raise MidiReadError(name, f"corrupt MIDI header (length {header_len} < 6)")
    if fmt == 2:
        raise MidiReadError(name, "type-2 (asynchronous) MIDI is not supported")
    if fmt > 2:
        raise MidiReadError(name, f"unknown MIDI format {fmt} (expected 0 or 1)")
    if division & 0x8000:
        raise MidiReadError(name, "SMPTE time division is not supported")
    if division == 0:
        raise MidiReadError(name, "corrupt MIDI header (0 ticks per quarter note)")
    _check_chunks(data, 8 + header_len, n_tracks, name)


def _check_chunks(
    data: bytes, pos: int, n_tracks: int, name: str
) -> list[tuple[int, int]]:
    """``(start, length)`` of the MTrk chunks symusic reads, once checked."""
    tracks = []
    while pos + 8 <= len(data) and len(tracks) < n_tracks:
        kind = data[pos : pos + 4]
        (length,) = struct.unpack(">I", data[pos + 4 : pos + 8])
        if pos + 8 + length > len(data):
            raise MidiReadError(
                name,
                f"truncated: chunk {kind!r} at byte {pos} declares {length} bytes, "
                f"only {len(data) - pos - 8} remain",
            )
        if kind == b"MTrk":
            tracks.append((pos + 8, length))
        pos += 8 + length
    if len(tracks) < n_tracks:
        raise MidiReadError(
            name, f"truncated: header declares {n_tracks} tracks, found {len(tracks)}"
        )
    # symusic makes a track, at about 2-5 kB each, for every channel and program
    # of every chunk with a note-on: bound their number before it parses. Each
    # takes 3 bytes or more, so small files cannot exceed the limit.
    if len(data) > 3 * MAX_NOTE_TRACKS:
        bound = _max_split_tracks(data, tracks)
        if bound > MAX_NOTE_TRACKS:
            raise MidiReadError(
                name,
                f"too many tracks with notes: its note-ons may split into {bound} "
                "channel/program tracks or more, over the "
                f"{MAX_NOTE_TRACKS} a NoteTable can number",
            )
    return tracks


def _max_split_tracks(data: bytes, tracks: list[tuple[int, int]]) -> int:
    """Upper bound on the (chunk, channel, program) tracks symusic makes.

    Stops counting past ``MAX_NOTE_TRACKS`` (32768). A channel has note-ons only if
    some byte of the chunk is its note-on status (``0x9n``), and each program but
    the first needs its own program-change status byte (``0xCn``) before its
    note-ons: running status cannot carry a program change across a note-on.
    """
    view = np.frombuffer(data, dtype=np.uint8)
    total = 0
    for start, length in tracks:
        counts = np.bincount(view[start : start + length], minlength=256)
        has_notes = counts[0x90:0xA0] > 0
        total += int(np.minimum(128, 1 + counts[0xC0:0xD0])[has_notes].sum())
        if total > MAX_NOTE_TRACKS:
            break
    return total


def _table_from_bytes(data: bytes, name: str) -> NoteTable:
    import symusic

    _check_smf(data, name)
    try:
        score = symusic.Score.from_midi(data)
    except (RuntimeError, ValueError) as exc:
        raise MidiReadError(name, f"corrupt MIDI data ({exc})") from None
    return _table_from_score(score, name)


# ----------------------------------------------------------------------- symusic


def _table_from_score(score: Any, name: str) -> NoteTable:
    tpq = int(score.ticks_per_quarter)
    tempo_tick, tempo_fields = _sorted_fields(score.tempos, "mspq")
    ts_tick, ts = _sorted_fields(score.time_signatures, "numerator", "denominator")
    ks_tick, ks = _sorted_fields(score.key_signatures, "key", "tonality")
    _check_meta(tempo_tick, ts_tick, ts, ks_tick, ks, name)
    tempo = _TempoMap.from_mspq(tempo_tick, tempo_fields, tpq, name)

    tracks = [track for track in score.tracks if track.note_num() > 0]
    if len(tracks) > MAX_NOTE_TRACKS:
        raise MidiReadError(
            name,
            f"{len(tracks)} tracks with notes (after splitting by channel and "
            f"program), more than the {MAX_NOTE_TRACKS} a NoteTable can number",
        )
    parts = [track.notes.numpy() for track in tracks]
    counts = np.array([len(part["time"]) for part in parts], dtype=np.int64)

    def column(key: str, dtype: type) -> np.ndarray:
        if not parts:
            return np.empty(0, dtype=dtype)
        return np.concatenate([part[key] for part in parts]).astype(dtype)

    onset = column("time", np.int64)
    duration = column("duration", np.int64)
    if len(onset) and (onset.min() < 0 or duration.min() < 0):
        raise MidiReadError(name, _OVERFLOW)
    notes = _build_notes(
        onset_tick=onset,
        offset_tick=onset + duration,
        pitch=column("pitch", np.uint8),
        velocity=column("velocity", np.uint8),
        program=np.repeat([t.program for t in tracks], counts).astype(np.uint8),
        is_drum=np.repeat([t.is_drum for t in tracks], counts).astype(bool),
        track=np.repeat(np.arange(len(tracks)), counts).astype(np.int16),
    )
    # After sorting: searchsorted is faster on sorted (or nearly sorted) keys.
    notes["onset"] = tempo.tick_to_time(notes["onset_tick"])
    notes["offset"] = tempo.tick_to_time(notes["offset_tick"])

    return NoteTable(
        notes=notes,
        tempos=tempo.table(),
        time_signatures=_events(
            TIME_SIGNATURE_DTYPE, ts_tick, tempo, numerator=ts[0], denominator=ts[1]
        ),
        key_signatures=_events(
            KEY_SIGNATURE_DTYPE, ks_tick, tempo, key=ks[0], tonality=ks[1]
        ),
        ticks_per_beat=tpq,
        source=name,
    )


_OVERFLOW = (
    f"event times overflow: events beyond tick {_MAX_TICK} (2**31 - 1) wrap around "
    "in symusic"
)


def _check_meta(
    tempo_tick: np.ndarray,
    ts_tick: np.ndarray,
    ts: list[np.ndarray],
    ks_tick: np.ndarray,
    ks: list[np.ndarray],
    name: str,
) -> None:
    """Refuse wrapped-around ticks and impossible signatures (garbage, not music)."""
    for ticks in (tempo_tick, ts_tick, ks_tick):
        if len(ticks) and ticks[0] < 0:  # sorted: the first is the smallest
            raise MidiReadError(name, _OVERFLOW)
    numerator, denominator = ts
    bad = (numerator == 0) | (denominator == 0)
    if bad.any():
        i = int(np.argmax(bad))
        raise MidiReadError(
            name,
            f"corrupt time signature event ({numerator[i]}/{denominator[i]} "
            f"at tick {ts_tick[i]})",
        )
    key, tonality = ks
    bad = (np.abs(key.astype(np.int64)) > 7) | (tonality > 1)
    if bad.any():
        i = int(np.argmax(bad))
        raise MidiReadError(
            name,
            f"corrupt key signature event ({key[i]} sharps, tonality {tonality[i]} "
            f"at tick {ks_tick[i]}; expected -7..7 and 0 or 1)",
        )


def _sorted_fields(events: Any, *fields: str) -> tuple[np.ndarray, list[np.ndarray]]:
    """Ticks and fields of a symusic event list, stably sorted by tick."""
    if len(events) == 0:
        return np.empty(0, np.int64), [np.empty(0, np.int64) for _ in fields]
    arrays = events.numpy()
    ticks = arrays["time"].astype(np.int64)
    order = np.argsort(ticks, kind="stable")
    return ticks[order], [arrays[field][order] for field in fields]


def _build_notes(**columns: np.ndarray) -> np.ndarray:
    """Structured note array sorted by onset tick, pitch, track, offset tick.

    The sort is stable: notes equal on all four keys keep their input order.
    """
    order = np.lexsort(
        (
            columns["offset_tick"],
            columns["track"],
            columns["pitch"],
            columns["onset_tick"],
        )
    )
    notes = np.empty(len(order), dtype=NOTE_DTYPE)
    for key, values in columns.items():
        notes[key] = values[order]
    return notes


def _events(
    dtype: np.dtype, ticks: np.ndarray, tempo: _TempoMap, **fields: np.ndarray
) -> np.ndarray:
    out = np.empty(len(ticks), dtype=dtype)
    out["tick"] = ticks
    out["time"] = tempo.tick_to_time(ticks)
    for key, values in fields.items():
        out[key] = values
    return out


class _TempoMap:
    """Piecewise-linear tick <-> seconds map of a normalised tempo list.

    ``scale`` (seconds per tick) and the cumulative ``time`` use the same float
    operations as pretty_midi, so seconds agree with it to the last bit.
    """

    def __init__(self, ticks: np.ndarray, qpm: np.ndarray, tpq: int) -> None:
        self.ticks = ticks
        self.qpm = qpm
        self.scale = 60.0 / (qpm * tpq)
        self.time = np.concatenate([[0.0], np.cumsum(self.scale[:-1] * np.diff(ticks))])

    @classmethod
    def from_mspq(
        cls, ticks: np.ndarray, fields: list[np.ndarray], tpq: int, name: str
    ) -> _TempoMap:
        mspq = fields[0].astype(np.float64)
        if np.any(mspq <= 0):
            raise MidiReadError(name, "corrupt tempo event (0 microseconds per beat)")
        return cls.normalised(ticks, 6e7 / mspq, tpq)

    @classmethod
    def normalised(cls, ticks: np.ndarray, qpm: np.ndarray, tpq: int) -> _TempoMap:
        """Start at tick 0 (default 120 qpm), last event per tick, no repeats."""
        ticks, qpm = last_per_tick(
            np.asarray(ticks, dtype=np.int64),
            np.asarray(qpm, dtype=np.float64),
            6e7 / DEFAULT_MSPQ,
        )
        changes = np.concatenate([[True], qpm[1:] != qpm[:-1]])
        return cls(ticks[changes], qpm[changes], tpq)

    def tick_to_time(self, ticks: np.ndarray) -> np.ndarray:
        i = np.searchsorted(self.ticks, ticks, side="right") - 1
        return self.time[i] + self.scale[i] * (ticks - self.ticks[i])

    def time_to_tick(self, times: np.ndarray) -> np.ndarray:
        times = np.asarray(times, dtype=np.float64)
        i = np.maximum(np.searchsorted(self.time, times, side="right") - 1, 0)
        return self.ticks[i] + np.rint((times - self.time[i]) / self.scale[i]).astype(
            np.int64
        )

    def table(self) -> np.ndarray:
        out = np.empty(len(self.ticks), dtype=TEMPO_DTYPE)
        out["tick"], out["time"], out["qpm"] = self.ticks, self.time, self.qpm
        return out


# ------------------------------------------------------------------- pretty_midi


def _is_pretty_midi(obj: Any) -> bool:
    # A PrettyMIDI object implies pretty_midi is imported; never import it here.
    module = sys.modules.get("pretty_midi")
    return module is not None and isinstance(obj, module.PrettyMIDI)


def _table_from_pretty_midi(pm: pretty_midi.PrettyMIDI, name: str) -> NoteTable:
    tpq = int(pm.resolution)
    change_times, qpm = pm.get_tempo_changes()
    change_ticks = np.array([pm.time_to_tick(t) for t in change_times], np.int64)
    tempo = _TempoMap.normalised(change_ticks, qpm, tpq)

    instruments = [inst for inst in pm.instruments if inst.notes]
    rows = [
        np.array([(n.start, n.end, n.pitch, n.velocity) for n in inst.notes], "f8")
        for inst in instruments
    ]
    counts = np.array([len(r) for r in rows], dtype=np.int64)
    values = np.concatenate(rows) if rows else np.empty((0, 4))
    onset, offset = values[:, 0], values[:, 1]
    notes = _build_notes(
        onset_tick=tempo.time_to_tick(onset),
        offset_tick=tempo.time_to_tick(offset),
        onset=onset,
        offset=offset,
        pitch=values[:, 2].astype(np.uint8),
        velocity=values[:, 3].astype(np.uint8),
        program=np.repeat([i.program for i in instruments], counts).astype(np.uint8),
        is_drum=np.repeat([i.is_drum for i in instruments], counts).astype(bool),
        track=np.repeat(np.arange(len(instruments)), counts).astype(np.int16),
    )

    ts_times = np.array([ts.time for ts in pm.time_signature_changes], np.float64)
    ks_times = np.array([ks.time for ks in pm.key_signature_changes], np.float64)
    key_numbers = np.array(
        [ks.key_number for ks in pm.key_signature_changes], dtype=np.int64
    )
    return NoteTable(
        notes=notes,
        tempos=tempo.table(),
        time_signatures=_events(
            TIME_SIGNATURE_DTYPE,
            tempo.time_to_tick(ts_times),
            tempo,
            numerator=np.array([ts.numerator for ts in pm.time_signature_changes]),
            denominator=np.array([ts.denominator for ts in pm.time_signature_changes]),
        ),
        key_signatures=_events(
            KEY_SIGNATURE_DTYPE,
            tempo.time_to_tick(ks_times),
            tempo,
            key=_KEY_NUMBER_TO_SHARPS[key_numbers],
            tonality=(key_numbers >= 12).astype(np.int8),
        ),
        ticks_per_beat=tpq,
        source=name,
    )
