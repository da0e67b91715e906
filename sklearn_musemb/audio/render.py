"""Render MIDI to audio with the FluidSynth executable and a General MIDI SoundFont.

The MIDI is rewritten before FluidSynth sees it: every melodic part gets the
requested GM program, times are divided by a tempo factor, and only the
requested excerpt is kept (with the controller state in force at its start), so
FluidSynth renders exactly what is needed. Several excerpts of one piece are
laid end to end in one MIDI file and rendered by one FluidSynth run.
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..io.midi import MidiReadError, _check_smf, _read_file
from ..io.notes import NoteTable

if TYPE_CHECKING:  # pragma: no cover
    import pretty_midi

__all__ = [
    "GM_PROGRAMS",
    "FluidSynthError",
    "FluidSynthNotFoundError",
    "SoundFontNotFoundError",
    "find_fluidsynth",
    "find_soundfont",
    "instrument_name",
    "program_number",
    "render_excerpts",
    "render_midi",
]

#: General MIDI programs (0-based) of the instruments used for rendered clips.
#: Any other GM instrument name of ``pretty_midi`` (e.g. "Church Organ") or a
#: program number 0-127 is accepted too.
GM_PROGRAMS: dict[str, int] = {
    "piano": 0,
    "bright_piano": 1,
    "electric_piano": 4,
    "harpsichord": 6,
    "celesta": 8,
    "vibraphone": 11,
    "marimba": 12,
    "organ": 19,
    "accordion": 21,
    "guitar": 24,
    "electric_guitar": 26,
    "bass": 32,
    "violin": 40,
    "cello": 42,
    "strings": 48,
    "choir": 52,
    "trumpet": 56,
    "trombone": 57,
    "horn": 60,
    "brass": 61,
    "saxophone": 65,
    "oboe": 68,
    "bassoon": 70,
    "clarinet": 71,
    "flute": 73,
    "synth_lead": 80,
    "synth_pad": 88,
}

#: Environment variable naming the SoundFont to use when none is given.
SOUNDFONT_ENV = "MUSEMB_SOUNDFONT"

#: SoundFonts tried, in this order, when neither an argument nor the environment
#: variable names one (Debian/Ubuntu packages timgm6mb-soundfont and
#: fluid-soundfont-gm).
DEFAULT_SOUNDFONTS = (
    Path("/usr/share/sounds/sf2/TimGM6mb.sf2"),
    Path("/usr/share/sounds/sf2/default-GM.sf2"),
    Path("/usr/share/sounds/sf2/FluidR3_GM.sf2"),
)

_INSTALL_HINT = (
    "install it with `apt-get install fluidsynth timgm6mb-soundfont` "
    "(Debian/Ubuntu) or `brew install fluid-synth` (macOS)"
)

# Length rendered after the last note when no duration is given (release tail).
_RELEASE_S = 1.0
# Silence between excerpts rendered in one FluidSynth run: after "all sound
# off" the reverb tail is below -50 dB within a second.
_GAP_S = 1.0
# The rewritten MIDI file: 480 ticks per beat at 120 qpm, i.e. 960 ticks/second.
_TPQ = 480
_TICKS_PER_SECOND = 960.0
_DRUM_CHANNEL = 9
_MELODIC_CHANNELS = np.array([c for c in range(16) if c != _DRUM_CHANNEL])
# Controllers never copied from the source: bank select (a bank the SoundFont
# lacks silences a part) and channel-mode messages (the renderer sends its own).
_DROPPED_CONTROLLERS = np.array([0, 32, *range(120, 128)])
_EXCERPT_KEYS = ("program", "tempo_factor", "start_s", "duration_s")
# GM programs whose notes die away by themselves (pianos, mallets, guitars,
# basses, pizzicato, harp, timpani, plucked and percussive): the only ones that
# keep the source's sustain and sostenuto pedals. On an organ, strings or winds
# a held pedal would hold every note until it is lifted, which no player does.
_DECAYING_PROGRAMS = np.array(
    [*range(0, 16), *range(24, 40), 45, 46, 47, *range(104, 120)]
)
_PEDALS = np.array([64, 66])

_NOTE = np.dtype(
    [
        ("start", "f8"),
        ("end", "f8"),
        ("pitch", "u1"),
        ("velocity", "u1"),
        ("track", "i4"),
    ]
)
_CONTROL = np.dtype(
    [("time", "f8"), ("track", "i4"), ("number", "u1"), ("value", "u1")]
)
_BEND = np.dtype([("time", "f8"), ("track", "i4"), ("value", "i4")])


class FluidSynthNotFoundError(RuntimeError):
    """The ``fluidsynth`` executable is not installed (or not on ``PATH``).

    Examples
    --------
    >>> issubclass(FluidSynthNotFoundError, RuntimeError)
    True
    """


class FluidSynthError(RuntimeError):
    """FluidSynth ran but failed; the message holds its exit status and stderr.

    Examples
    --------
    >>> str(FluidSynthError("fluidsynth exited with status 1"))
    'fluidsynth exited with status 1'
    """


class SoundFontNotFoundError(FileNotFoundError):
    """No SoundFont file was found; the message lists the paths tried.

    Examples
    --------
    >>> issubclass(SoundFontNotFoundError, FileNotFoundError)
    True
    """


# ---------------------------------------------------------------- instruments


def program_number(program: int | str | None) -> int | None:
    """The General MIDI program (0-127) of an instrument name or number.

    Parameters
    ----------
    program : int, str or None
        A program number 0-127, a key of :data:`GM_PROGRAMS` ("piano",
        "strings", "organ"...), or a General MIDI instrument name as spelled
        by ``pretty_midi`` ("Church Organ"); letter case, spaces and
        underscores do not matter. None is returned unchanged (keep the
        file's programs).

    Returns
    -------
    int or None

    Raises
    ------
    ValueError
        For an unknown name or a number outside 0-127 (the message lists the
        short names).

    Examples
    --------
    >>> program_number("strings"), program_number("Church Organ"), program_number(6)
    (48, 19, 6)
    """
    if program is None:
        return None
    if isinstance(program, str):
        key = program.strip().lower().replace(" ", "_").replace("-", "_")
        if key in GM_PROGRAMS:
            return GM_PROGRAMS[key]
        import pretty_midi

        try:
            return int(pretty_midi.instrument_name_to_program(program.strip()))
        except ValueError:
            raise ValueError(
                f"unknown instrument {program!r}: use a program number 0-127, a "
                f"General MIDI instrument name, or one of {sorted(GM_PROGRAMS)}"
            ) from None
    if isinstance(program, bool) or not isinstance(program, int | np.integer):
        raise ValueError(
            f"program must be an int 0-127, an instrument name or None, got {program!r}"
        )
    if not 0 <= int(program) <= 127:
        raise ValueError(f"program must be in 0-127, got {program}")
    return int(program)


def instrument_name(program: int | str) -> str:
    """Short name of a program: its :data:`GM_PROGRAMS` key, else the GM name.

    Parameters
    ----------
    program : int or str
        Anything ``program_number`` accepts (except None).

    Returns
    -------
    str

    Examples
    --------
    >>> instrument_name(48), instrument_name("Church Organ"), instrument_name(105)
    ('strings', 'organ', 'banjo')
    """
    number = program_number(program)
    if number is None:
        raise ValueError("instrument_name needs a program, got None")
    for name, value in GM_PROGRAMS.items():
        if value == number:
            return name
    import pretty_midi

    return pretty_midi.program_to_instrument_name(number).lower().replace(" ", "_")


# ------------------------------------------------------------ finding the tools


def find_fluidsynth() -> str:
    """Path of the ``fluidsynth`` executable.

    Returns
    -------
    str

    Raises
    ------
    FluidSynthNotFoundError
        When ``fluidsynth`` is not on ``PATH``; the message says how to install it.

    Examples
    --------
    >>> find_fluidsynth()  # doctest: +SKIP
    '/usr/bin/fluidsynth'
    """
    path = shutil.which("fluidsynth")
    if path is None:
        raise FluidSynthNotFoundError(
            "rendering MIDI to audio needs the FluidSynth executable 'fluidsynth', "
            f"which is not on PATH: {_INSTALL_HINT}"
        )
    return path


def find_soundfont(soundfont: str | os.PathLike | None = None) -> Path:
    """The General MIDI SoundFont to render with.

    Parameters
    ----------
    soundfont : str or path-like, optional
        A ``.sf2`` file. When omitted: the file named by the environment
        variable ``MUSEMB_SOUNDFONT``, else the first that exists of
        ``/usr/share/sounds/sf2/TimGM6mb.sf2``, ``default-GM.sf2`` and
        ``FluidR3_GM.sf2`` (same folder).

    Returns
    -------
    Path
        The resolved file.

    Raises
    ------
    SoundFontNotFoundError
        When the given file (or the environment variable's) does not exist, or
        none of the defaults does; the message lists what was tried and how to
        install one.

    Examples
    --------
    >>> find_soundfont()  # doctest: +SKIP
    PosixPath('/usr/share/sounds/sf2/TimGM6mb.sf2')
    """
    if soundfont is not None:
        candidates, origin = [Path(soundfont)], "the soundfont argument"
    elif os.environ.get(SOUNDFONT_ENV):
        candidates = [Path(os.environ[SOUNDFONT_ENV])]
        origin = f"${SOUNDFONT_ENV}"
    else:
        candidates, origin = list(DEFAULT_SOUNDFONTS), "the default locations"
    for path in candidates:
        if path.is_file():
            return path.resolve()
    tried = ", ".join(str(p) for p in candidates)
    raise SoundFontNotFoundError(
        f"no SoundFont found (tried {origin}: {tried}); pass soundfont=..., set "
        f"${SOUNDFONT_ENV}, or {_INSTALL_HINT}"
    )


# ------------------------------------------------------------------ performance


@dataclass(frozen=True)
class _Performance:
    """Notes and controllers of a piece in seconds, tracks numbered from 0."""

    notes: np.ndarray  # _NOTE
    controls: np.ndarray  # _CONTROL
    bends: np.ndarray  # _BEND
    programs: np.ndarray  # per track, int
    is_drum: np.ndarray  # per track, bool
    source: str

    @property
    def end(self) -> float:
        return float(self.notes["end"].max()) if len(self.notes) else 0.0


def _performance(
    midi: str | os.PathLike | bytes | NoteTable | pretty_midi.PrettyMIDI,
    name: str | None = None,
) -> _Performance:
    """The piece as arrays; ``name`` is the source named in errors (for bytes)."""
    if isinstance(midi, _Performance):
        return midi
    if isinstance(midi, bytes | bytearray | memoryview):
        return _from_bytes(bytes(midi), name or "<bytes>")
    if isinstance(midi, str | os.PathLike):
        name = os.fspath(midi)
        # render_midi has no max_bytes: it reads a file of any size, as it reads
        # bytes of any size (the non-regular-file check still applies)
        return _from_bytes(_read_file(Path(midi), name, max_bytes=None), name)
    if isinstance(midi, NoteTable):
        return _from_note_table(midi)
    module = sys.modules.get("pretty_midi")
    if module is not None and isinstance(midi, module.PrettyMIDI):
        return _from_pretty_midi(midi)
    raise TypeError(
        "expected a MIDI path, bytes, a NoteTable or a pretty_midi.PrettyMIDI, got "
        f"{type(midi).__name__}"
    )


def _from_bytes(data: bytes, name: str) -> _Performance:
    import symusic

    _check_smf(data, name)
    try:
        score = symusic.Score.from_midi(data, ttype="second")
    except (RuntimeError, ValueError) as exc:
        raise MidiReadError(name, f"corrupt MIDI data ({exc})") from None
    notes, controls, bends = [], [], []
    for i, track in enumerate(score.tracks):
        if len(track.notes):
            n = track.notes.numpy()
            notes.append(
                _records(
                    _NOTE,
                    n["time"],
                    n["time"] + n["duration"],
                    n["pitch"],
                    n["velocity"],
                    i,
                )
            )
        if len(track.controls):
            c = track.controls.numpy()
            controls.append(_records(_CONTROL, c["time"], i, c["number"], c["value"]))
        if len(track.pitch_bends):
            b = track.pitch_bends.numpy()
            bends.append(_records(_BEND, b["time"], i, b["value"]))
    return _Performance(
        notes=_concat(notes, _NOTE),
        controls=_concat(controls, _CONTROL),
        bends=_concat(bends, _BEND),
        programs=np.array([t.program for t in score.tracks], dtype=np.int64),
        is_drum=np.array([t.is_drum for t in score.tracks], dtype=bool),
        source=name,
    )


def _from_pretty_midi(pm: pretty_midi.PrettyMIDI) -> _Performance:
    notes, controls, bends = [], [], []
    for i, inst in enumerate(pm.instruments):
        if inst.notes:
            n = np.array([(x.start, x.end, x.pitch, x.velocity) for x in inst.notes])
            notes.append(_records(_NOTE, n[:, 0], n[:, 1], n[:, 2], n[:, 3], i))
        if inst.control_changes:
            c = np.array([(x.time, x.number, x.value) for x in inst.control_changes])
            controls.append(_records(_CONTROL, c[:, 0], i, c[:, 1], c[:, 2]))
        if inst.pitch_bends:
            b = np.array([(x.time, x.pitch) for x in inst.pitch_bends])
            bends.append(_records(_BEND, b[:, 0], i, b[:, 1]))
    return _Performance(
        notes=_concat(notes, _NOTE),
        controls=_concat(controls, _CONTROL),
        bends=_concat(bends, _BEND),
        programs=np.array([inst.program for inst in pm.instruments], dtype=np.int64),
        is_drum=np.array([inst.is_drum for inst in pm.instruments], dtype=bool),
        source="<PrettyMIDI>",
    )


def _from_note_table(table: NoteTable) -> _Performance:
    """Notes only: a NoteTable keeps no controllers (sustain pedal is lost)."""
    n = table.notes
    n_tracks = int(n["track"].max()) + 1 if len(n) else 0
    programs = np.zeros(n_tracks, dtype=np.int64)
    is_drum = np.zeros(n_tracks, dtype=bool)
    # Every note of a track has the track's program: the last write wins.
    programs[n["track"]] = n["program"]
    is_drum[n["track"]] = n["is_drum"]
    return _Performance(
        notes=_records(
            _NOTE, n["onset"], n["offset"], n["pitch"], n["velocity"], n["track"]
        ),
        controls=np.empty(0, _CONTROL),
        bends=np.empty(0, _BEND),
        programs=programs,
        is_drum=is_drum,
        source=table.source,
    )


def _records(dtype: np.dtype, *columns: Any) -> np.ndarray:
    size = max(np.size(c) for c in columns)
    out = np.empty(size, dtype=dtype)
    for name, column in zip(dtype.names, columns):
        out[name] = column
    return out


def _concat(parts: list[np.ndarray], dtype: np.dtype) -> np.ndarray:
    return np.concatenate(parts) if parts else np.empty(0, dtype=dtype)


# ---------------------------------------------------------------------- excerpt


@dataclass(frozen=True)
class _Excerpt:
    program: int | None
    tempo_factor: float
    start_s: float
    duration_s: float | None


def _check_excerpt(spec: Mapping[str, Any]) -> _Excerpt:
    unknown = set(spec) - set(_EXCERPT_KEYS)
    if unknown:
        raise TypeError(
            f"unknown excerpt option(s) {sorted(unknown)}; expected {_EXCERPT_KEYS}"
        )
    factor = spec.get("tempo_factor", 1.0)
    start = spec.get("start_s", 0.0)
    duration = spec.get("duration_s")
    if not _is_real(factor) or not math.isfinite(factor) or factor <= 0:
        raise ValueError(f"tempo_factor must be a finite number > 0, got {factor!r}")
    if not _is_real(start) or not math.isfinite(start) or start < 0:
        raise ValueError(f"start_s must be a finite number >= 0, got {start!r}")
    if duration is not None and (
        not _is_real(duration) or not math.isfinite(duration) or duration <= 0
    ):
        raise ValueError(f"duration_s must be a number > 0 or None, got {duration!r}")
    return _Excerpt(
        program=program_number(spec.get("program", 0)),
        tempo_factor=float(factor),
        start_s=float(start),
        duration_s=None if duration is None else float(duration),
    )


def _is_real(value: Any) -> bool:
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(
        value, bool
    )


def _cut(perf: _Performance, excerpt: _Excerpt) -> tuple[_Performance, float]:
    """The excerpt in its own time (0 = its start), and its duration in seconds.

    Times are divided by the tempo factor first. Notes sounding at the start
    begin at 0; notes are cut at the end. The last value of each controller
    (and pitch bend) before the start is re-sent at 0.
    """
    if len(perf.notes) == 0:
        raise ValueError(f"nothing to render in {perf.source}: the piece has no notes")
    factor, start = excerpt.tempo_factor, excerpt.start_s
    piece_end = perf.end / factor
    duration = excerpt.duration_s
    if duration is None:
        duration = piece_end - start + _RELEASE_S
        if duration <= _RELEASE_S:
            raise ValueError(
                f"nothing to render in {perf.source}: start_s={start:g} s is past the "
                f"end of the piece ({piece_end:.2f} s at tempo_factor {factor:g})"
            )
    stop = start + duration

    notes = perf.notes.copy()
    notes["start"] = notes["start"] / factor - start
    notes["end"] = notes["end"] / factor - start
    notes = notes[(notes["end"] > 0) & (notes["start"] < duration)]
    if len(notes) == 0:
        raise ValueError(
            f"nothing to render in {perf.source}: no notes between {start:.2f} s and "
            f"{stop:.2f} s (tempo_factor {factor:g}; the piece ends at "
            f"{piece_end:.2f} s)"
        )
    notes["start"] = np.maximum(notes["start"], 0.0)
    notes["end"] = np.minimum(notes["end"], duration)

    dropped = _DROPPED_CONTROLLERS
    if excerpt.program is not None and excerpt.program not in _DECAYING_PROGRAMS:
        dropped = np.concatenate([dropped, _PEDALS])
    controls = perf.controls[~np.isin(perf.controls["number"], dropped)]
    controls = _window_events(controls, factor, start, duration, ("track", "number"))
    bends = _window_events(perf.bends, factor, start, duration, ("track",))

    programs = perf.programs.copy()
    if excerpt.program is not None:
        programs[~perf.is_drum] = excerpt.program
    return replace(
        perf, notes=notes, controls=controls, bends=bends, programs=programs
    ), duration


def _window_events(
    events: np.ndarray, factor: float, start: float, duration: float, keys: tuple
) -> np.ndarray:
    """Events inside the window, plus the state before it (last per key) at 0."""
    events = events[np.argsort(events["time"], kind="stable")]
    times = events["time"] / factor - start
    before = events[times < 0]
    if len(before):
        key = np.stack([before[k].astype(np.int64) for k in keys], axis=1)
        # np.unique keeps the first occurrence: search the reversed events.
        _, last = np.unique(key[::-1], axis=0, return_index=True)
        before = before[::-1][np.sort(last)].copy()
        before["time"] = 0.0
    inside = events[(times >= 0) & (times < duration)].copy()
    inside["time"] = times[(times >= 0) & (times < duration)]
    return np.concatenate([before, inside])


# ------------------------------------------------------------------ MIDI writer


def _channels(perf: _Performance) -> np.ndarray:
    """MIDI channel of each track: drums on 9, melodic tracks on the others.

    More than 15 melodic tracks share channels (harmless when one program is
    forced on all of them).
    """
    channels = np.full(len(perf.programs), _DRUM_CHANNEL, dtype=np.int64)
    melodic = np.flatnonzero(~perf.is_drum)
    channels[melodic] = _MELODIC_CHANNELS[np.arange(len(melodic)) % 15]
    return channels


def _segment_events(perf: _Performance, offset: float, duration: float) -> list:
    """``(time, order, status, data1, data2)`` rows of one excerpt.

    ``order`` sorts simultaneous events: sound off < note off < reset < program
    < controllers < note on.
    """
    channel = _channels(perf)
    rows = []
    used = np.unique(channel)
    for ch in range(16):
        rows.append((offset, 2, 0xB0 | ch, 121, 0))  # reset all controllers
    for track, program in enumerate(perf.programs):
        if not perf.is_drum[track]:
            rows.append((offset, 3, 0xC0 | int(channel[track]), int(program), -1))
    for ch in used:
        rows.append((offset, 4, 0xB0 | int(ch), 7, 100))  # GM default volume
    c = perf.controls
    rows += zip(
        offset + c["time"],
        [4] * len(c),
        0xB0 | channel[c["track"]],
        c["number"].astype(int),
        c["value"].astype(int),
    )
    b = perf.bends
    value = np.clip(b["value"] + 8192, 0, 16383)
    rows += zip(
        offset + b["time"],
        [4] * len(b),
        0xE0 | channel[b["track"]],
        value & 0x7F,
        value >> 7,
    )
    n = perf.notes
    status = channel[n["track"]]
    pitch, velocity = n["pitch"].astype(int), np.maximum(n["velocity"], 1).astype(int)
    rows += zip(offset + n["start"], [5] * len(n), 0x90 | status, pitch, velocity)
    rows += zip(offset + n["end"], [1] * len(n), 0x80 | status, pitch, [0] * len(n))
    for ch in range(16):
        rows.append((offset + duration, 0, 0xB0 | ch, 123, 0))  # all notes off
        rows.append((offset + duration, 0, 0xB0 | ch, 120, 0))  # all sound off
    return rows


def _midi_file(rows: list) -> bytes:
    """A type-0 Standard MIDI File (120 qpm, 480 ticks per beat) of the rows."""
    rows.sort(key=lambda r: (round(r[0] * _TICKS_PER_SECOND), r[1]))
    track = bytearray(b"\x00\xff\x51\x03\x07\xa1\x20")  # tempo: 500000 us/beat
    last = 0
    for time, _, status, data1, data2 in rows:
        tick = int(round(time * _TICKS_PER_SECOND))
        track += _vlq(tick - last)
        track.append(int(status))
        track.append(int(data1))
        if data2 >= 0:
            track.append(int(data2))
        last = tick
    track += b"\x00\xff\x2f\x00"
    header = (
        b"MThd" + (6).to_bytes(4, "big") + bytes([0, 0, 0, 1]) + _TPQ.to_bytes(2, "big")
    )
    return header + b"MTrk" + len(track).to_bytes(4, "big") + bytes(track)


def _vlq(value: int) -> bytes:
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.append(0x80 | (value & 0x7F))
        value >>= 7
    return bytes(reversed(out))


# -------------------------------------------------------------------- rendering


def render_excerpts(
    midi: str | os.PathLike | bytes | NoteTable | pretty_midi.PrettyMIDI,
    excerpts: Sequence[Mapping[str, Any]],
    sr: int = 22050,
    *,
    soundfont: str | os.PathLike | None = None,
    gain: float = 1.0,
) -> list[np.ndarray]:
    """Render several excerpts or variants of one piece in one FluidSynth run.

    Each excerpt takes the keyword arguments of :func:`render_midi`
    (``program``, ``tempo_factor``, ``start_s``, ``duration_s``). The
    excerpts are laid end to end in one MIDI file, one second apart and each
    starting from reset controllers, so that one FluidSynth process (and one
    SoundFont load) renders them all; the result is the same as separate
    :func:`render_midi` calls (up to a faint reverb tail of the previous
    excerpt, below -50 dB).

    Parameters
    ----------
    midi : str, path-like, bytes, NoteTable or pretty_midi.PrettyMIDI
        The piece. Files, bytes and PrettyMIDI objects keep their controllers
        (sustain pedal, volume, pitch bend); a :class:`NoteTable` has notes only.
    excerpts : sequence of dict
        One dict per output, with any of ``program`` (default 0),
        ``tempo_factor`` (1.0), ``start_s`` (0.0) and ``duration_s`` (None).
    sr : int, default=22050
        Sample rate of the output.
    soundfont : str or path-like, optional
        See :func:`find_soundfont`.
    gain : float, default=1.0
        FluidSynth's master gain (0-10; FluidSynth's own default is 0.2, which
        renders piano at about -30 dBFS).

    Returns
    -------
    list of ndarray
        One mono float32 array in [-1, 1] per excerpt, of exactly
        ``round(duration_s * sr)`` samples.

    Raises
    ------
    FluidSynthNotFoundError, SoundFontNotFoundError, FluidSynthError
        When FluidSynth or the SoundFont is missing, or FluidSynth fails.
    MidiReadError
        When the MIDI cannot be read (missing, corrupt...).
    ValueError
        When the piece has no notes, an excerpt holds no note, or an option is
        invalid (the message names the source or the option).
    TypeError
        For an unknown excerpt option.

    Examples
    --------
    >>> clips = render_excerpts(  # doctest: +SKIP
    ...     "alb_esp1.mid",
    ...     [{"program": p, "start_s": 10.0, "duration_s": 5.0}
    ...      for p in ("piano", "strings")])
    >>> [clip.shape for clip in clips]  # doctest: +SKIP
    [(110250,), (110250,)]
    """
    specs = [_check_excerpt(spec) for spec in excerpts]
    sr = _check_sr(sr)
    gain = _check_gain(gain)
    if not specs:
        return []
    # The input is checked before the tools, so that a bad file is reported as
    # such even where FluidSynth is missing.
    perf = _performance(midi)
    rows: list = []
    offsets, lengths = [], []
    offset = 0.0
    for spec in specs:
        cut, duration = _cut(perf, spec)
        rows += _segment_events(cut, offset, duration)
        offsets.append(offset)
        lengths.append(int(round(duration * sr)))
        offset += duration + _GAP_S
    executable = find_fluidsynth()
    font = find_soundfont(soundfont)
    audio = _run_fluidsynth(
        executable, font, _midi_file(rows), sr, float(gain), perf.source
    )
    clips = []
    for start, length in zip(offsets, lengths):
        first = int(round(start * sr))
        clip = audio[first : first + length]
        if len(clip) < length:
            clip = np.concatenate([clip, np.zeros(length - len(clip), np.float32)])
        clips.append(clip)
    return clips


def render_midi(
    midi: str | os.PathLike | bytes | NoteTable | pretty_midi.PrettyMIDI,
    sr: int = 22050,
    *,
    program: int | str | None = 0,
    tempo_factor: float = 1.0,
    start_s: float = 0.0,
    duration_s: float | None = None,
    soundfont: str | os.PathLike | None = None,
    gain: float = 1.0,
) -> np.ndarray:
    """Render a MIDI piece (or an excerpt of it) to mono audio with FluidSynth.

    The MIDI is rewritten first: every non-drum part plays GM ``program``,
    all times are divided by ``tempo_factor``, and only the excerpt
    ``[start_s, start_s + duration_s)`` of the stretched performance is kept,
    with the controllers in force at its start (sustain pedal, volume...).
    Notes already sounding at ``start_s`` start at 0. Sustain and sostenuto
    pedals are kept only for instruments whose notes decay by themselves
    (pianos, mallets, guitars, harp...): on an organ, strings or winds they
    would hold every note until the pedal is lifted. The ``fluidsynth``
    executable renders that file (``fluidsynth -ni -q -C 0 -F out.wav -r sr``:
    reverb on, chorus off), and the stereo output is averaged to mono and cut
    to exactly ``duration_s * sr`` samples (zero-padded if FluidSynth stops
    early).

    Parameters
    ----------
    midi : str, path-like, bytes, NoteTable or pretty_midi.PrettyMIDI
        The piece. A :class:`NoteTable` has no controllers (no pedal).
    sr : int, default=22050
        Sample rate in Hz (8000-96000).
    program : int, str or None, default=0
        General MIDI program for every non-drum part: a number 0-127 or a name
        (see ``program_number``, e.g. "piano", "strings", "organ"). None
        keeps the file's programs.
    tempo_factor : float, default=1.0
        Speed: 1.25 plays 25% faster (all times divided by 1.25).
    start_s : float, default=0.0
        Start of the excerpt, in seconds of the stretched performance.
    duration_s : float, optional
        Length of the output in seconds. None renders to the end of the last
        note plus one second of release.
    soundfont : str or path-like, optional
        See :func:`find_soundfont`.
    gain : float, default=1.0
        FluidSynth's master gain (0-10).

    Returns
    -------
    ndarray of float32, shape (n_samples,)
        Mono audio in [-1, 1].

    Raises
    ------
    FluidSynthNotFoundError
        When the ``fluidsynth`` executable is missing (says how to install it).
    SoundFontNotFoundError
        When no SoundFont is found (lists the paths tried).
    FluidSynthError
        When FluidSynth fails (its exit status and stderr are in the message).
    MidiReadError
        When the MIDI file is missing, empty or corrupt (names the file).
    ValueError
        When the piece has no notes, the excerpt holds no note, or an option is
        invalid.

    Examples
    --------
    >>> import io, pretty_midi
    >>> pm = pretty_midi.PrettyMIDI()
    >>> inst = pretty_midi.Instrument(program=0)
    >>> inst.notes.append(pretty_midi.Note(velocity=100, pitch=69, start=0.0, end=1.0))
    >>> pm.instruments.append(inst)
    >>> y = render_midi(pm, 16000, program="flute", duration_s=1.5)  # doctest: +SKIP
    >>> y.shape, y.dtype  # doctest: +SKIP
    ((24000,), dtype('float32'))
    """
    excerpt = {
        "program": program,
        "tempo_factor": tempo_factor,
        "start_s": start_s,
        "duration_s": duration_s,
    }
    return render_excerpts(midi, [excerpt], sr, soundfont=soundfont, gain=gain)[0]


def _check_gain(gain: Any) -> float:
    if not _is_real(gain) or not 0 < gain <= 10:
        raise ValueError(f"gain must be a number in (0, 10], got {gain!r}")
    return float(gain)


def _check_sr(sr: Any) -> int:
    if isinstance(sr, bool) or not isinstance(sr, int | np.integer):
        raise ValueError(f"sr must be an integer sample rate in Hz, got {sr!r}")
    if not 8000 <= sr <= 96000:
        raise ValueError(f"sr must be between 8000 and 96000 Hz, got {sr}")
    return int(sr)


def _run_fluidsynth(
    executable: str, soundfont: Path, midi: bytes, sr: int, gain: float, source: str
) -> np.ndarray:
    from scipy.io import wavfile

    with tempfile.TemporaryDirectory(prefix="musemb-render-") as folder:
        mid, wav = Path(folder) / "in.mid", Path(folder) / "out.wav"
        mid.write_bytes(midi)
        # Chorus off (-C 0): its modulation runs on from the start of the run,
        # so an excerpt would sound different depending on where it sits in a
        # batch. Reverb stays on.
        command = [
            executable, "-ni", "-q", "-C", "0", "-g", f"{gain:g}", "-r", str(sr),
            "-F", str(wav), str(soundfont), str(mid),
        ]  # fmt: skip
        try:
            done = subprocess.run(command, capture_output=True, text=True, check=False)
        except OSError as exc:
            raise FluidSynthError(f"cannot run {executable}: {exc}") from None
        if done.returncode != 0 or not wav.is_file():
            stderr = (done.stderr or done.stdout or "").strip()[-2000:]
            raise FluidSynthError(
                f"fluidsynth exited with status {done.returncode} while rendering "
                f"{source} with {soundfont}: {stderr or '(no output)'}"
            )
        try:
            rate, data = wavfile.read(wav)
        except ValueError as exc:
            raise FluidSynthError(
                f"fluidsynth wrote an unreadable WAV file for {source}: {exc}"
            ) from None
    if rate != sr:
        raise FluidSynthError(f"fluidsynth wrote {rate} Hz audio, {sr} Hz requested")
    return _to_mono_float(data)


def _to_mono_float(data: np.ndarray) -> np.ndarray:
    if data.dtype.kind == "i":
        scale = float(np.iinfo(data.dtype).max) + 1.0
        data = data.astype(np.float32) / scale
    else:
        data = data.astype(np.float32)
    if data.ndim == 2:
        data = data.mean(axis=1, dtype=np.float32)
    return np.clip(data, -1.0, 1.0)
