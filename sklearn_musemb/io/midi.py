"""Fast MIDI reading into :class:`~sklearn_musemb.io.notes.NoteTable` (via symusic)."""

from __future__ import annotations

import os
import struct
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

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

__all__ = ["MidiReadError", "read_midi"]

#: Tempo assumed before the first tempo event (the MIDI default): 120 qpm.
DEFAULT_MSPQ = 500_000

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
        Name to record as :attr:`NoteTable.source` and to use in error messages
        (useful with bytes, e.g. the file a cache entry came from). Defaults to
        the path, ``"<bytes>"`` or ``"<PrettyMIDI>"``.

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
        When the file is missing, a directory, empty, not a Standard MIDI File,
        truncated or corrupt, a type-2 (asynchronous) file, or uses SMPTE time
        division. The message names the source and the reason.
    TypeError
        When ``source`` is none of the accepted types.

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
    if isinstance(source, (bytes, bytearray, memoryview)):
        name = path_hint if path_hint is not None else "<bytes>"
        return _table_from_bytes(bytes(source), name)
    if isinstance(source, (str, os.PathLike)):
        name = path_hint if path_hint is not None else os.fspath(source)
        return _table_from_bytes(_read_file(Path(source), name), name)
    if _is_pretty_midi(source):
        name = path_hint if path_hint is not None else "<PrettyMIDI>"
        return _table_from_pretty_midi(source, name)
    raise TypeError(
        "read_midi expects a path, bytes or a pretty_midi.PrettyMIDI object, "
        f"got {type(source).__name__}"
    )


# --------------------------------------------------------------------- raw bytes


def _read_file(path: Path, name: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise MidiReadError(name, "file not found") from None
    except IsADirectoryError:
        raise MidiReadError(name, "is a directory, not a MIDI file") from None
    except OSError as exc:  # permissions, device errors...
        raise MidiReadError(
            name, f"{type(exc).__name__}: {exc.strerror or exc}"
        ) from None


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


def _check_chunks(data: bytes, pos: int, n_tracks: int, name: str) -> None:
    found = 0
    while pos + 8 <= len(data) and found < n_tracks:
        kind = data[pos : pos + 4]
        (length,) = struct.unpack(">I", data[pos + 4 : pos + 8])
        if pos + 8 + length > len(data):
            raise MidiReadError(
                name,
                f"truncated: chunk {kind!r} at byte {pos} declares {length} bytes, "
                f"only {len(data) - pos - 8} remain",
            )
        found += kind == b"MTrk"
        pos += 8 + length
    if found < n_tracks:
        raise MidiReadError(
            name, f"truncated: header declares {n_tracks} tracks, found {found}"
        )


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
    tempo = _TempoMap.from_mspq(*_sorted_fields(score.tempos, "mspq"), tpq, name)

    tracks = [track for track in score.tracks if track.note_num() > 0]
    parts = [track.notes.numpy() for track in tracks]
    counts = np.array([len(part["time"]) for part in parts], dtype=np.int64)

    def column(key: str, dtype: type) -> np.ndarray:
        if not parts:
            return np.empty(0, dtype=dtype)
        return np.concatenate([part[key] for part in parts]).astype(dtype)

    onset = column("time", np.int64)
    notes = _build_notes(
        onset_tick=onset,
        offset_tick=onset + column("duration", np.int64),
        pitch=column("pitch", np.uint8),
        velocity=column("velocity", np.uint8),
        program=np.repeat([t.program for t in tracks], counts).astype(np.uint8),
        is_drum=np.repeat([t.is_drum for t in tracks], counts).astype(bool),
        track=np.repeat(np.arange(len(tracks)), counts).astype(np.int16),
    )
    # After sorting: searchsorted is faster on sorted (or nearly sorted) keys.
    notes["onset"] = tempo.tick_to_time(notes["onset_tick"])
    notes["offset"] = tempo.tick_to_time(notes["offset_tick"])

    ts_tick, ts = _sorted_fields(score.time_signatures, "numerator", "denominator")
    ks_tick, ks = _sorted_fields(score.key_signatures, "key", "tonality")
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
