"""Labelled clips rendered from a MIDI corpus (sklearn_musemb.audio.clips)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import midi_bytes
from sklearn.utils import Bunch

from sklearn_musemb.audio import clips as clips_module
from sklearn_musemb.audio.clips import CLIP_COLUMNS, make_rendered_clips
from sklearn_musemb.audio.render import (
    FluidSynthNotFoundError,
)
from sklearn_musemb.io import MidiReadError, load_midi_corpus, read_midi

SR = 16000
CLIP_S = 2.0


def _piece(pitches, *, qpm=120, key=None, start_tick=0):
    """A melody, one note per beat from ``start_tick``, at a fixed tempo."""
    meta = [(0, "set_tempo", {"tempo": int(round(60e6 / qpm))})]
    if key is not None:
        meta.append((0, "key_signature", {"key": key}))
    notes = [
        (start_tick + 480 * i, start_tick + 480 * i + 400, p, 90)
        for i, p in enumerate(pitches)
    ]
    return midi_bytes([{"notes": notes, "program": 0}], meta=meta)


@pytest.fixture
def corpus(tmp_path):
    """Three good pieces, one corrupt file and one missing file, piano-midi style."""
    root = tmp_path / "corpus"
    (root / "midis").mkdir(parents=True)
    files = {
        "a.mid": _piece([62, 64, 66, 67, 69, 71, 73, 74] * 2, qpm=100, key="D"),
        "b.mid": _piece(
            [57, 59, 60, 62, 64, 65, 68, 69] * 2, qpm=150, start_tick=960
        ),  # fmt: skip
        "c.mid": _piece([60, 62, 64, 65, 67, 69, 71, 72] * 2, key="Cm"),
        "bad.mid": b"MThd\x00\x00\x00\x06\x00\x00\x00\x01\x01\xe0MTrk\x00\x00\x10\x00",
    }
    for name, data in files.items():
        (root / "midis" / name).write_bytes(data)
    (root / "metadata.csv").write_text(
        "composer,title,year,midi,duration\n"
        "Chopin,Nocturne_in_D,1835,midis/a.mid,10\n"
        "Bach,Prelude_and_Fugue_1,1722,midis/b.mid,10\n"
        "Chopin,Waltz_in_C_minor,,midis/C.MID,10\n"  # case-insensitive lookup
        "Liszt,Etude_1,1851,midis/bad.mid,10\n"
        "Liszt,Etude_2,1851,midis/missing.mid,10\n"
    )
    return root


def _make(source, **kwargs):
    options = dict(
        programs=("piano", "organ"),
        tempo_factors=(1.0, 1.5),
        clip_s=CLIP_S,
        sr=SR,
        cache_dir=False,
    )
    options.update(kwargs)
    return make_rendered_clips(source, **options)


@pytest.mark.usefixtures("fluidsynth")
def test_clips_and_labels_of_a_corpus_with_bad_files(corpus):
    with pytest.warns(UserWarning, match="skipped 2 of 5 pieces"):
        data = _make(corpus)
    assert data.sr == SR
    assert data.audio.shape == (12, int(CLIP_S * SR))  # 3 pieces x 2 x 2
    assert data.audio.dtype == np.float32
    assert np.all(np.sqrt(np.mean(data.audio**2, axis=1)) > 1e-3)

    frame = data.frame
    assert list(frame.columns) == list(CLIP_COLUMNS)
    assert frame["piece_id"].tolist() == [0] * 4 + [1] * 4 + [2] * 4
    assert frame["instrument"].tolist()[:4] == ["piano", "piano", "organ", "organ"]
    assert frame["program"].tolist()[:4] == [0, 0, 19, 19]
    assert frame["tempo_factor"].tolist()[:4] == [1.0, 1.5, 1.0, 1.5]
    per_piece = frame.drop_duplicates("piece_id").set_index("title")
    assert per_piece["composer"].tolist() == ["Chopin", "Bach", "Chopin"]
    assert per_piece["era"].tolist() == ["romantic", "baroque", "unknown"]
    assert math.isnan(per_piece.loc["Waltz_in_C_minor", "year"])
    assert per_piece["form"].tolist() == ["nocturne", "prelude", "waltz"]
    assert per_piece["key"].tolist() == ["D major", "A minor", "C minor"]
    assert per_piece["key_source"].tolist() == [
        "signature+profile", "estimated", "signature",
    ]  # fmt: skip
    # The file's tempo times the tempo factor.
    np.testing.assert_allclose(
        frame["tempo_bpm"],
        [100, 150, 100, 150, 150, 225, 150, 225, 120, 180, 120, 180],
    )
    # Clips start at the first note (b.mid starts 2 beats in at 150 qpm).
    assert per_piece.loc["Prelude_and_Fugue_1", "start_s"] == pytest.approx(0.8)

    reasons = dict(data.skipped)
    assert set(reasons) == {
        str(corpus / "midis" / "bad.mid"),
        str(corpus / "midis" / "missing.mid"),
    }
    assert "truncated" in reasons[str(corpus / "midis" / "bad.mid")]
    assert "not found" in reasons[str(corpus / "midis" / "missing.mid")]
    assert "2 skipped" in data.DESCR


@pytest.mark.usefixtures("fluidsynth")
def test_faster_clips_hold_more_notes(corpus):
    data = _make(corpus / "metadata.csv", programs=("piano",), composers=["bach"])

    def inter_onset_s(audio):
        hop = 160
        env = np.sqrt((audio[: len(audio) // hop * hop].reshape(-1, hop) ** 2).mean(1))
        rise = np.diff(env, prepend=0.0)
        peaks = np.flatnonzero(rise > 0.3 * rise.max())
        onsets = peaks[np.diff(peaks, prepend=-10) > 3] * hop / SR
        return np.median(np.diff(onsets))

    slow, fast = data.audio
    # 150 qpm: a note every 0.4 s; 1.5 times faster: every 0.267 s.
    assert inter_onset_s(slow) == pytest.approx(0.4, abs=0.02)
    assert inter_onset_s(fast) == pytest.approx(0.4 / 1.5, abs=0.02)


@pytest.mark.usefixtures("fluidsynth")
def test_errors_raise_stops_at_the_first_bad_piece(corpus):
    with pytest.raises(MidiReadError, match="bad.mid"):
        _make(corpus, errors="raise")


@pytest.mark.usefixtures("fluidsynth")
def test_cache_makes_a_rerun_render_nothing(corpus, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    with pytest.warns(UserWarning):
        first = _make(corpus, cache_dir=cache, dtype="int16")
    assert first.audio.dtype == np.int16
    assert len(list(cache.glob("*.npy"))) == 12

    def no_rendering(*args, **kwargs):
        raise AssertionError("rendered although every clip is cached")

    monkeypatch.setattr(clips_module, "render_excerpts", no_rendering)
    with pytest.warns(UserWarning):
        again = _make(corpus, cache_dir=cache, dtype="int16")
    np.testing.assert_array_equal(first.audio, again.audio)
    # Another tempo factor is a different clip: it must be rendered.
    with pytest.raises(AssertionError, match="rendered although"):
        _make(corpus, cache_dir=cache, tempo_factors=(1.25,))


@pytest.mark.usefixtures("fluidsynth")
def test_selection_by_composer_and_max_pieces(corpus):
    data = _make(corpus, composers=["CHOPIN"], programs=("piano",), tempo_factors=(1,))
    assert data.frame["title"].tolist() == ["Nocturne_in_D", "Waltz_in_C_minor"]
    assert data.frame["piece_id"].tolist() == [0, 2]
    with pytest.warns(UserWarning, match="skipped 1 of 3"):
        spread = _make(corpus, max_pieces=3, programs=("piano",), tempo_factors=(1,))
    # Evenly spaced over the 5 rows: rows 0, 2 and 4 (4 is the missing file).
    assert spread.frame["piece_id"].tolist() == [0, 2]


@pytest.mark.usefixtures("fluidsynth")
def test_a_loaded_corpus_and_music21_style_pieces(corpus, tmp_path):
    with pytest.warns(UserWarning):
        loaded = load_midi_corpus(corpus)
    data = _make(loaded, programs=("piano",), tempo_factors=(1.0,))
    assert data.frame["composer"].tolist() == ["Chopin", "Bach", "Chopin"]
    assert data.frame["key"].tolist() == ["D major", "A minor", "C minor"]

    # load_music21_corpus's pieces: notes only, paths of scores, years NaN.
    table = read_midi(corpus / "midis" / "a.mid")
    scores = Bunch(
        pieces=[table],
        labels=np.array(["bach"]),
        titles=["bach/bwv1.6"],
        years=np.array([np.nan]),
        paths=[tmp_path / "bwv1.6.mxl"],
    )
    from_notes = _make(scores, programs=("piano",), tempo_factors=(1.0,))
    np.testing.assert_allclose(
        from_notes.audio[0], data.audio[0], atol=0.05
    )  # same notes, no pedal in either
    assert from_notes.frame.loc[0, "composer"] == "bach"
    assert from_notes.frame.loc[0, "era"] == "unknown"


@pytest.mark.usefixtures("fluidsynth")
def test_real_piano_midi_pieces(piano_midi_root, tmp_path):
    data = make_rendered_clips(
        piano_midi_root,
        programs=("piano",),
        tempo_factors=(1.0,),
        clip_s=3.0,
        max_pieces=2,
        cache_dir=tmp_path,
    )
    assert data.audio.shape == (2, 3 * 22050)
    first, last = data.frame.iloc[0], data.frame.iloc[1]
    assert (first["composer"], first["form"], first["era"]) == (
        "Albeniz", "prelude", "romantic",
    )  # fmt: skip
    assert last["composer"] == "Christmas"
    assert 30 < first["tempo_bpm"] < 250


def test_missing_fluidsynth_is_raised_not_skipped(corpus, monkeypatch, tmp_path):
    from sklearn_musemb.audio import render

    monkeypatch.setattr(render.shutil, "which", lambda name: None)
    font = tmp_path / "font.sf2"
    font.write_bytes(b"RIFF")
    with pytest.raises(FluidSynthNotFoundError, match="apt-get install"):
        _make(corpus, soundfont=font)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"programs": ("piano", "kazoo")}, "unknown instrument 'kazoo'"),
        ({"programs": ()}, "at least one instrument"),
        ({"tempo_factors": (1.0, -2.0)}, "tempo_factors"),
        ({"clip_s": 0}, "clip_s"),
        ({"start_s": -1.0}, "start_s"),
        ({"errors": "ignore"}, "errors"),
        ({"dtype": "float64"}, "dtype"),
        ({"composers": ["Mozart"]}, r"composers \['mozart'\] are not in the corpus"),
        ({"max_pieces": 0}, "max_pieces"),
    ],
)
def test_invalid_options_are_named(corpus, kwargs, match, tmp_path):
    font = tmp_path / "font.sf2"
    font.write_bytes(b"RIFF")
    with pytest.raises(ValueError, match=match):
        _make(corpus, soundfont=font, **kwargs)


def test_source_must_be_a_corpus(tmp_path):
    with pytest.raises(FileNotFoundError, match="neither a folder nor a CSV"):
        _make(tmp_path / "nowhere", soundfont=__file__)
    with pytest.raises(ValueError, match="source must be"):
        _make([1, 2, 3], soundfont=__file__)
