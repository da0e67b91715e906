"""Rendering MIDI to audio with FluidSynth (sklearn_musemb.audio.render)."""

from __future__ import annotations

import io
import stat

import numpy as np
import pytest
from conftest import midi_bytes

from sklearn_musemb.audio import render
from sklearn_musemb.audio.render import (
    FluidSynthError,
    FluidSynthNotFoundError,
    SoundFontNotFoundError,
    find_soundfont,
    instrument_name,
    program_number,
    render_excerpts,
    render_midi,
)
from sklearn_musemb.io import MidiReadError, read_midi

SR = 16000


def _notes_midi(
    pitches=(60, 64, 67, 72), beat_ticks=480, length=120, program=0, meta=()
):
    """One quarter note per beat at 120 qpm (0.5 s apart), each 1/8 beat long."""
    notes = [
        (i * beat_ticks, i * beat_ticks + length, p, 100) for i, p in enumerate(pitches)
    ]
    return midi_bytes([{"notes": notes, "program": program}], meta=meta)


def _envelope(audio: np.ndarray, hop: int = 80) -> np.ndarray:
    frames = len(audio) // hop
    return np.sqrt((audio[: frames * hop].reshape(frames, hop) ** 2).mean(axis=1))


def _onsets(audio: np.ndarray, hop: int = 80) -> np.ndarray:
    """Seconds where the energy envelope jumps (note attacks)."""
    env = _envelope(audio, hop)
    rise = np.diff(env, prepend=0.0)
    peaks = np.flatnonzero(rise > 0.3 * rise.max())
    # One onset per attack: keep the first frame of each run of rising frames.
    keep = peaks[np.concatenate([[True], np.diff(peaks) > 5])]
    return keep * hop / SR


# ------------------------------------------------------------------- rendering


@pytest.mark.usefixtures("fluidsynth")
def test_render_length_dtype_and_not_silent():
    audio = render_midi(_notes_midi(), SR, duration_s=2.5)
    assert audio.shape == (int(2.5 * SR),)
    assert audio.dtype == np.float32
    assert np.abs(audio).max() <= 1.0
    assert np.sqrt(np.mean(audio**2)) > 1e-3


@pytest.mark.usefixtures("fluidsynth")
def test_default_duration_is_last_note_plus_release():
    audio = render_midi(_notes_midi(), SR)  # last note ends at 1.5 + 0.125 s
    assert len(audio) == round((1.625 + 1.0) * SR)


@pytest.mark.usefixtures("fluidsynth")
def test_a4_renders_at_440_hz():
    midi = midi_bytes([{"notes": [(0, 960, 69, 100)]}])
    audio = render_midi(midi, SR, program="flute", duration_s=1.0)
    segment = audio[int(0.2 * SR) : int(0.9 * SR)]
    spectrum = np.abs(np.fft.rfft(segment * np.hanning(len(segment))))
    freqs = np.fft.rfftfreq(len(segment), 1 / SR)
    assert abs(freqs[np.argmax(spectrum)] - 440.0) < 6.0


@pytest.mark.usefixtures("fluidsynth")
def test_higher_tempo_factor_compresses_the_notes():
    midi = _notes_midi()
    slow = _onsets(render_midi(midi, SR, duration_s=2.0))
    fast = _onsets(render_midi(midi, SR, tempo_factor=2.0, duration_s=2.0))
    np.testing.assert_allclose(slow[:4], [0.0, 0.5, 1.0, 1.5], atol=0.03)
    np.testing.assert_allclose(fast[:4], [0.0, 0.25, 0.5, 0.75], atol=0.03)


@pytest.mark.usefixtures("fluidsynth")
def test_start_s_cuts_the_excerpt_in_stretched_time():
    midi = _notes_midi()  # onsets 0, 0.5, 1.0, 1.5 s
    # At tempo factor 2 the onsets are 0, .25, .5, .75: from 0.4 s, the third
    # note starts 0.1 s in and the fourth 0.35 s in.
    audio = render_midi(midi, SR, tempo_factor=2.0, start_s=0.4, duration_s=1.0)
    np.testing.assert_allclose(_onsets(audio)[:2], [0.1, 0.35], atol=0.03)


@pytest.mark.usefixtures("fluidsynth")
def test_program_none_keeps_the_file_program():
    midi = _notes_midi(program=73)
    kept = render_midi(midi, SR, program=None, duration_s=2.0)
    flute = render_midi(midi, SR, program=73, duration_s=2.0)
    piano = render_midi(midi, SR, program=0, duration_s=2.0)
    assert np.corrcoef(kept, flute)[0, 1] > 0.99
    assert np.corrcoef(kept, piano)[0, 1] < 0.9


@pytest.mark.usefixtures("fluidsynth")
def test_render_excerpts_equals_separate_renders():
    midi = _notes_midi()
    specs = [
        {"program": "piano", "duration_s": 2.0},
        {"program": "strings", "tempo_factor": 1.5, "start_s": 0.2, "duration_s": 1.0},
    ]
    together = render_excerpts(midi, specs, SR)
    for spec, clip in zip(specs, together):
        alone = render_midi(midi, SR, **spec)
        assert clip.shape == alone.shape
        # Same notes at the same times: envelopes match (FluidSynth's block
        # timing may shift a waveform by a few samples).
        assert np.corrcoef(_envelope(clip), _envelope(alone))[0, 1] > 0.98


@pytest.mark.usefixtures("fluidsynth")
def test_pretty_midi_and_note_table_inputs_render_the_same_notes(tmp_path):
    import pretty_midi

    path = tmp_path / "scale.mid"
    path.write_bytes(_notes_midi())
    from_file = render_midi(path, SR, duration_s=2.0)
    from_pm = render_midi(pretty_midi.PrettyMIDI(str(path)), SR, duration_s=2.0)
    from_table = render_midi(read_midi(path), SR, duration_s=2.0)
    for other in (from_pm, from_table):
        assert np.corrcoef(_envelope(from_file), _envelope(other))[0, 1] > 0.98


@pytest.mark.usefixtures("fluidsynth")
def test_renders_a_real_piano_midi_file(piano_midi_root):
    path = piano_midi_root / "midis" / "Albeniz" / "alb_esp1.mid"
    audio = render_midi(path, 22050, program="organ", start_s=10.0, duration_s=3.0)
    assert audio.shape == (3 * 22050,)
    assert np.sqrt(np.mean(audio**2)) > 1e-3


# ---------------------------------------------------------------------- errors


def test_missing_fluidsynth_says_how_to_install(monkeypatch, tmp_path):
    monkeypatch.setattr(render.shutil, "which", lambda name: None)
    font = tmp_path / "font.sf2"
    font.write_bytes(b"RIFF")
    with pytest.raises(FluidSynthNotFoundError, match="apt-get install fluidsynth"):
        render_midi(_notes_midi(), SR, soundfont=font, duration_s=1.0)


def test_missing_soundfont_lists_what_was_tried(monkeypatch, tmp_path):
    monkeypatch.delenv(render.SOUNDFONT_ENV, raising=False)
    absent = (tmp_path / "a.sf2", tmp_path / "b.sf2")
    monkeypatch.setattr(render, "DEFAULT_SOUNDFONTS", absent)
    with pytest.raises(SoundFontNotFoundError) as info:
        find_soundfont()
    message = str(info.value)
    assert str(absent[0]) in message and str(absent[1]) in message
    assert "timgm6mb-soundfont" in message
    with pytest.raises(SoundFontNotFoundError, match="nowhere.sf2"):
        find_soundfont(tmp_path / "nowhere.sf2")


def test_soundfont_from_argument_then_environment(monkeypatch, tmp_path):
    mine, env = tmp_path / "mine.sf2", tmp_path / "env.sf2"
    mine.write_bytes(b"RIFF")
    env.write_bytes(b"RIFF")
    monkeypatch.setenv(render.SOUNDFONT_ENV, str(env))
    assert find_soundfont(mine) == mine.resolve()
    assert find_soundfont() == env.resolve()
    monkeypatch.setenv(render.SOUNDFONT_ENV, str(tmp_path / "gone.sf2"))
    with pytest.raises(SoundFontNotFoundError, match="MUSEMB_SOUNDFONT"):
        find_soundfont()


def test_fluidsynth_failure_reports_status_and_stderr(monkeypatch, tmp_path):
    fake = tmp_path / "fluidsynth"
    fake.write_text("#!/bin/sh\necho 'bad soundfont header' >&2\nexit 3\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setattr(render, "find_fluidsynth", lambda: str(fake))
    font = tmp_path / "font.sf2"
    font.write_bytes(b"RIFF")
    with pytest.raises(FluidSynthError, match="status 3.*bad soundfont header"):
        render_midi(_notes_midi(), SR, soundfont=font, duration_s=1.0)


def test_corrupt_midi_names_the_file(tmp_path):
    bad = tmp_path / "broken.mid"
    bad.write_bytes(b"MThd\x00\x00\x00\x06\x00\x01\x00\x02\x01\xe0MTrk\x00\x00\xff")
    with pytest.raises(MidiReadError, match="broken.mid"):
        render_midi(bad, SR)
    with pytest.raises(MidiReadError, match="not found"):
        render_midi(tmp_path / "missing.mid", SR)


def test_empty_piece_and_empty_excerpt_are_refused():
    empty = midi_bytes([{"notes": []}])
    with pytest.raises(ValueError, match="no notes"):
        render_midi(empty, SR)
    with pytest.raises(ValueError, match=r"no notes between 5\.00 s and 6\.00 s"):
        render_midi(_notes_midi(), SR, start_s=5.0, duration_s=1.0)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"program": "kazoo"}, ValueError, "unknown instrument 'kazoo'"),
        ({"program": 128}, ValueError, "0-127"),
        ({"tempo_factor": 0.0}, ValueError, "tempo_factor"),
        ({"start_s": -1.0}, ValueError, "start_s"),
        ({"duration_s": 0}, ValueError, "duration_s"),
        ({"gain": 20.0}, ValueError, "gain"),
    ],
)
def test_invalid_options_are_named(kwargs, error, match):
    with pytest.raises(error, match=match):
        render_midi(_notes_midi(), SR, **kwargs)


def test_unknown_excerpt_key_is_named():
    with pytest.raises(TypeError, match="speed"):
        render_excerpts(_notes_midi(), [{"speed": 2.0}], SR)


# ----------------------------------------------------------------- instruments


def test_program_numbers_and_names():
    assert program_number("Strings") == 48
    assert program_number("church organ") == 19
    assert program_number("Acoustic Grand Piano") == 0
    assert program_number(None) is None
    assert instrument_name(19) == "organ"
    assert instrument_name("Acoustic Grand Piano") == "piano"
    assert instrument_name(105) == "banjo"
    with pytest.raises(ValueError, match="True"):
        program_number(True)


# -------------------------------------------------------------- MIDI rewriting


def test_excerpt_keeps_controller_state_and_drops_pedal_for_organ():
    import mido

    # Sustain pedal down and volume 80 at tick 0; one note at 1.0 s.
    midi = mido.MidiFile(
        file=io.BytesIO(midi_bytes([{"notes": [(960, 1200, 60, 90)], "program": 0}]))
    )
    midi.tracks[0].insert(0, mido.Message("control_change", control=64, value=127))
    midi.tracks[0].insert(1, mido.Message("control_change", control=7, value=80))
    buffer = io.BytesIO()
    midi.save(file=buffer)
    perf = render._performance(buffer.getvalue())

    def controls(program):
        spec = {"program": program, "start_s": 0.5, "duration_s": 1.0}
        cut, _ = render._cut(perf, render._check_excerpt(spec))
        assert cut.notes["start"].tolist() == [0.5]
        return {(int(c["number"]), int(c["value"])) for c in cut.controls}

    assert controls("piano") == {(64, 127), (7, 80)}  # state re-sent at 0
    assert controls("organ") == {(7, 80)}  # no held pedal on an organ
