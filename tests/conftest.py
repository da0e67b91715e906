"""Shared test helpers: small MIDI files written on the fly, note-table comparison,
and the piano-midi corpus."""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest

if TYPE_CHECKING:
    from sklearn_musemb.io import NoteTable

#: Where the piano-midi corpus lives: ``../shared/data/piano-midi`` from the repo.
PIANO_MIDI_ROOT = (
    Path(__file__).resolve().parents[1].parent / "shared" / "data" / "piano-midi"
)

#: A note written by :func:`midi_bytes`: (onset tick, offset tick, pitch, velocity).
NoteSpec = tuple[int, int, int, int]


def midi_bytes(
    tracks: Sequence[dict],
    *,
    ticks_per_beat: int = 480,
    midi_type: int = 1,
    meta: Sequence[tuple] = (),
) -> bytes:
    """A Standard MIDI File, written event by event with mido (exact ticks).

    Parameters
    ----------
    tracks : sequence of dict
        One dict per note track: ``notes`` (list of :data:`NoteSpec`),
        optional ``channel`` (default 0), ``program`` and ``name``.
    ticks_per_beat : int
        Resolution.
    midi_type : int
        SMF format word (0, 1 or 2).
    meta : sequence of tuple
        ``(tick, mido.MetaMessage type, {attributes})`` written to a first,
        note-less track (tempo, time and key signatures).
    """
    import mido

    midi = mido.MidiFile(type=midi_type, ticks_per_beat=ticks_per_beat)
    if meta:
        events = [(tick, mido.MetaMessage(kind, **attrs)) for tick, kind, attrs in meta]
        midi.tracks.append(_track(events))
    for spec in tracks:
        channel = spec.get("channel", 0)
        events = []
        if "name" in spec:
            events.append((0, mido.MetaMessage("track_name", name=spec["name"])))
        if "program" in spec:
            events.append(
                (
                    0,
                    mido.Message(
                        "program_change", channel=channel, program=spec["program"]
                    ),
                )
            )
        for onset, offset, pitch, velocity in spec["notes"]:
            events.append(
                (
                    onset,
                    mido.Message(
                        "note_on", channel=channel, note=pitch, velocity=velocity
                    ),
                )
            )
            events.append(
                (
                    offset,
                    mido.Message("note_off", channel=channel, note=pitch, velocity=0),
                )
            )
        midi.tracks.append(_track(events))
    buffer = io.BytesIO()
    midi.save(file=buffer)
    return buffer.getvalue()


def _track(events: list[tuple[int, object]]) -> object:
    """A mido track from (absolute tick, message) pairs; stable by tick."""
    import mido

    track = mido.MidiTrack()
    last = 0
    for tick, message in sorted(events, key=lambda e: e[0]):
        track.append(message.copy(time=tick - last))
        last = tick
    return track


def assert_tables_equal(a: NoteTable, b: NoteTable, *, rtol: float = 0.0) -> None:
    """Assert two :class:`NoteTable` objects hold the same data, ignoring ``source``.

    Compares ``ticks_per_beat`` and every field of ``notes``, ``tempos``,
    ``time_signatures`` and ``key_signatures`` (floats to ``rtol``; the dtypes are
    fixed by ``NoteTable`` itself).
    """
    assert a.ticks_per_beat == b.ticks_per_beat
    for name in ("notes", "tempos", "time_signatures", "key_signatures"):
        x, y = getattr(a, name), getattr(b, name)
        assert len(x) == len(y), name
        for field in x.dtype.names:
            if x.dtype[field].kind == "f":
                np.testing.assert_allclose(
                    x[field], y[field], rtol=rtol, err_msg=f"{name}.{field}"
                )
            else:
                np.testing.assert_array_equal(
                    x[field], y[field], err_msg=f"{name}.{field}"
                )


#: The reference piece of the reader tests (480 ticks per beat). Tempo 120 qpm,
#: then 60 qpm from tick 1920; 4/4 then 3/4 at tick 1920; D major, then B minor
#: at tick 3360. Seconds: tick / 960 before tick 1920, 2 + (tick - 1920) / 480 after.
KNOWN_META = (
    (0, "set_tempo", {"tempo": 500_000}),
    (0, "time_signature", {"numerator": 4, "denominator": 4}),
    (0, "key_signature", {"key": "D"}),
    (1920, "set_tempo", {"tempo": 1_000_000}),
    (1920, "time_signature", {"numerator": 3, "denominator": 4}),
    (3360, "key_signature", {"key": "Bm"}),
)
KNOWN_TRACKS = (
    {
        "name": "piano",
        "channel": 0,
        "program": 0,
        "notes": [
            (0, 480, 60, 100),
            (0, 960, 64, 90),
            (480, 960, 67, 80),
            (1920, 2400, 72, 70),
            (2400, 3360, 62, 60),
        ],
    },
    {"name": "strings", "channel": 1, "program": 48, "notes": [(240, 2160, 55, 50)]},
    {
        "name": "drums",
        "channel": 9,
        "program": 0,
        "notes": [(0, 120, 36, 110), (960, 1080, 38, 100)],
    },
)


def tick_seconds(tick: int) -> float:
    """Seconds of a tick under the tempo map of :data:`KNOWN_META`."""
    return tick / 960 if tick < 1920 else 2.0 + (tick - 1920) / 480


@pytest.fixture
def known_midi(tmp_path: Path) -> Path:
    """The reference piece (:data:`KNOWN_TRACKS`, :data:`KNOWN_META`) as a file."""
    path = tmp_path / "known.mid"
    path.write_bytes(midi_bytes(KNOWN_TRACKS, meta=KNOWN_META))
    return path


def write_random_melody(path: Path, rng: np.random.Generator, n_notes: int) -> Path:
    """Write a one-piano random melody with pretty_midi (for corpus tests).

    Onsets are 0, 0.25 or 0.5 s apart, pitches 48..83, every note 0.5 s long.
    """
    import pretty_midi

    pm = pretty_midi.PrettyMIDI(resolution=480, initial_tempo=120.0)
    piano = pretty_midi.Instrument(program=0)
    starts = np.cumsum(rng.choice([0.0, 0.25, 0.5], size=n_notes))
    pitches = rng.integers(48, 84, size=n_notes)
    for start, pitch in zip(starts, pitches, strict=True):
        note = pretty_midi.Note(80, int(pitch), start=start, end=start + 0.5)
        piano.notes.append(note)
    pm.instruments.append(piano)
    path.parent.mkdir(parents=True, exist_ok=True)
    pm.write(str(path))
    return path


@pytest.fixture
def write_pretty_midi(tmp_path: Path) -> Callable[..., Path]:
    """Write a small one-instrument file with pretty_midi; returns its path.

    Call as ``write_pretty_midi("a/b.mid", pitches=(60, 62), program=0,
    is_drum=False)``: one quarter note (0.5 s at 120 qpm) per pitch.
    """
    import pretty_midi

    def write(
        name: str,
        pitches: Sequence[int] = (60, 62, 64),
        program: int = 0,
        is_drum: bool = False,
    ) -> Path:
        pm = pretty_midi.PrettyMIDI(resolution=480, initial_tempo=120.0)
        instrument = pretty_midi.Instrument(program=program, is_drum=is_drum)
        for i, pitch in enumerate(pitches):
            instrument.notes.append(
                pretty_midi.Note(
                    velocity=80, pitch=pitch, start=0.5 * i, end=0.5 * i + 0.5
                )
            )
        pm.instruments.append(instrument)
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        pm.write(str(path))
        return path

    return write


@pytest.fixture
def fluidsynth() -> None:
    """Skip a test that renders audio when FluidSynth or a SoundFont is missing.

    Under CI (``CI`` set) a missing one fails the test instead: ``.ci/run``
    installs both, so their absence there is a broken install, not a reason to
    skip the rendering tests.
    """
    from sklearn_musemb.audio.render import (
        FluidSynthNotFoundError,
        SoundFontNotFoundError,
        find_fluidsynth,
        find_soundfont,
    )

    try:
        find_fluidsynth()
        find_soundfont()
    except (FluidSynthNotFoundError, SoundFontNotFoundError) as error:
        reason = f"rendering needs FluidSynth and a GM SoundFont: {error}"
        if os.environ.get("CI"):
            pytest.fail(f"{reason} (.ci/run installs them with apt-get)")
        pytest.skip(reason)


@pytest.fixture
def piano_midi_root() -> Path:
    """The piano-midi corpus (``../shared/data/piano-midi``); skips when absent."""
    if not (PIANO_MIDI_ROOT / "metadata.csv").is_file():
        pytest.skip(
            f"piano-midi corpus not found at {PIANO_MIDI_ROOT}: integration test "
            "needs ../shared/data/piano-midi"
        )
    return PIANO_MIDI_ROOT
