"""load_midi_corpus and load_music21_corpus."""

from __future__ import annotations

import math
import pickle
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
from conftest import assert_tables_equal

from sklearn_musemb.io import music21_corpus
from sklearn_musemb.io.corpus import load_midi_corpus
from sklearn_musemb.io.midi import MidiReadError, read_midi
from sklearn_musemb.io.music21_corpus import load_music21_corpus
from sklearn_musemb.utils.cache import CACHE_ENV

KEYS = {"pieces", "labels", "titles", "years", "paths", "piece_ids", "skipped", "DESCR"}


@pytest.fixture
def small_corpus(tmp_path, write_pretty_midi):
    """Four readable files (one in another letter case), one corrupt, one absent."""
    write_pretty_midi("midis/Bach/bwv1.mid", pitches=(60, 62))
    write_pretty_midi("midis/Bach/bwv2.mid", pitches=(64,))
    write_pretty_midi("midis/Mozart/K331.mid", pitches=(67, 69, 71))
    write_pretty_midi("midis/Mozart/drums.MIDI", pitches=(36,), is_drum=True)
    (tmp_path / "midis" / "Mozart" / "broken.mid").write_bytes(b"MThd garbage")
    (tmp_path / "metadata.csv").write_text(
        "composer,title,year,midi,era\n"
        "Bach,First,1720,midis/Bach/bwv1.mid,baroque\n"
        "Mozart,Sonata,,midis/Mozart/k331.mid,classical\n"  # K331 on disk
        "Mozart,Broken,1780,midis/Mozart/broken.mid,classical\n"
        "Bach,Second,not a year,midis/Bach/bwv2.mid,baroque\n"
        "Bach,Gone,1725,midis/Bach/gone.mid,baroque\n"
    )
    return tmp_path


def load_quietly(*args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return load_midi_corpus(*args, **kwargs)


def test_metadata_rows_in_order_with_case_insensitive_paths(small_corpus):
    with pytest.warns(UserWarning, match="skipped 2 of 5 MIDI files"):
        data = load_midi_corpus(small_corpus)
    assert set(data) == KEYS
    assert data.labels.tolist() == ["Bach", "Mozart", "Bach"]
    assert data.titles == ["First", "Sonata", "Second"]
    assert (
        data.years[0] == 1720
        and math.isnan(data.years[1])
        and math.isnan(data.years[2])
    )
    assert data.years.dtype == np.float64
    assert [p.name for p in data.paths] == ["bwv1.mid", "K331.mid", "bwv2.mid"]
    assert all(p.is_absolute() for p in data.paths)
    assert data.piece_ids.dtype == np.int64 and data.piece_ids.tolist() == [0, 1, 2]
    assert [len(p) for p in data.pieces] == [2, 3, 1]
    assert data.pieces[1].source == str(small_corpus / "midis" / "Mozart" / "K331.mid")
    assert "\n3 pieces, 6 notes, 2 labels: Bach (2), Mozart (1).\n" in data.DESCR
    assert "2 files skipped" in data.DESCR


def test_skipped_rows_name_the_file_and_reason(small_corpus):
    data = load_quietly(small_corpus)
    skipped = dict(data.skipped)
    broken = str(small_corpus / "midis" / "Mozart" / "broken.mid")
    gone = str(small_corpus / "midis" / "Bach" / "gone.mid")
    assert set(skipped) == {broken, gone}
    assert skipped[broken] == "truncated MIDI header (12 bytes)"
    assert skipped[gone].startswith("file not found (metadata.csv line 6)")


@pytest.mark.parametrize("n_jobs", [None, 2])
def test_progress_bar_changes_nothing_loaded(small_corpus, n_jobs):
    plain = load_midi_corpus(small_corpus, n_jobs=n_jobs)
    shown = load_midi_corpus(small_corpus, n_jobs=n_jobs, progress=True)
    assert shown.titles == plain.titles and shown.skipped == plain.skipped
    assert [len(t) for t in shown.pieces] == [len(t) for t in plain.pieces]


def test_include_loads_only_the_files_named(small_corpus):
    subset = load_quietly(
        small_corpus, include=["midis/Bach/bwv2.mid", "midis/Mozart/broken.mid"]
    )
    # labels and titles are those of the whole corpus; the broken file is skipped
    assert subset.titles == ["Second"] and subset.labels.tolist() == ["Bach"]
    assert [Path(p).name for p, _ in subset.skipped] == ["broken.mid"]
    folders = load_quietly(small_corpus / "midis", None, include=["Mozart/K331.mid"])
    assert folders.labels.tolist() == ["Mozart"] and folders.titles == ["K331"]
    assert load_quietly(small_corpus, include=[]).pieces == []


def test_errors_raise(small_corpus):
    # Missing files are checked before anything is parsed.
    with pytest.raises(MidiReadError, match=r"gone\.mid: file not found"):
        load_midi_corpus(small_corpus, errors="raise")
    csv_path = small_corpus / "metadata.csv"
    csv_path.write_text(
        csv_path.read_text().replace("Bach,Gone,1725,midis/Bach/gone.mid,baroque\n", "")
    )
    with pytest.raises(
        MidiReadError, match=r"broken\.mid: truncated MIDI header \(12 bytes\)$"
    ):
        load_midi_corpus(small_corpus, errors="raise")


def test_other_label_column(small_corpus):
    assert load_quietly(small_corpus, label="era").labels.tolist() == [
        "baroque",
        "classical",
        "baroque",
    ]


def test_unknown_label_column_lists_columns(small_corpus):
    with pytest.raises(
        ValueError, match=r"'genre'.*\['composer', 'title', 'year', 'midi', 'era'\]"
    ):
        load_midi_corpus(small_corpus, label="genre")


def test_unknown_errors_option(small_corpus):
    with pytest.raises(ValueError, match="errors must be one of.*'ignore'"):
        load_midi_corpus(small_corpus, errors="ignore")


def test_missing_title_and_year_columns(small_corpus):
    data = load_quietly(small_corpus, title_column="name", year_column=None)
    assert data.titles == ["bwv1", "K331", "bwv2"]
    assert np.isnan(data.years).all()


def test_missing_root_or_metadata(tmp_path):
    with pytest.raises(FileNotFoundError, match="not a folder"):
        load_midi_corpus(tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match="metadata file"):
        load_midi_corpus(tmp_path)


def test_parallel_equals_serial(small_corpus):
    from joblib import parallel_config

    serial = load_quietly(small_corpus)
    # Threads keep the test fast (process workers must import torch through the
    # package); the objects that cross a process boundary are pickled here.
    with parallel_config(backend="threading"):
        parallel = load_quietly(small_corpus, n_jobs=2)
    piece = pickle.loads(pickle.dumps(serial.pieces[0]))
    assert_tables_equal(piece, serial.pieces[0])
    assert piece.source == serial.pieces[0].source
    assert parallel.skipped == serial.skipped
    assert parallel.titles == serial.titles and parallel.paths == serial.paths
    assert len(parallel.pieces) == len(serial.pieces) == 3
    for a, b in zip(serial.pieces, parallel.pieces):
        assert a.source == b.source
        assert_tables_equal(a, b)


def test_folder_mode_labels_by_parent_folder(small_corpus):
    (small_corpus / "midis" / "Mozart" / "notes.txt").write_text("not midi")
    data = load_quietly(small_corpus / "midis", metadata=None)
    names = [p.name for p in data.paths]
    assert names == ["bwv1.mid", "bwv2.mid", "K331.mid", "drums.MIDI"]
    assert data.labels.tolist() == ["Bach", "Bach", "Mozart", "Mozart"]
    assert data.titles == ["bwv1", "bwv2", "K331", "drums"]
    assert np.isnan(data.years).all()
    assert [p for p, _ in data.skipped] == [
        str(small_corpus / "midis/Mozart/broken.mid")
    ]
    assert data.pieces[-1].notes["is_drum"].all()


# ------------------------------------------------------------- piano-midi corpus


def test_piano_midi_corpus_loads_completely(piano_midi_root):
    data = load_midi_corpus(piano_midi_root)
    assert data.skipped == []
    assert len(data.pieces) == 337
    assert len(set(data.labels.tolist())) == 26  # 25 composers + Christmas
    d850 = [p.name for p in data.paths if "d850" in p.name.lower()]
    assert d850 == [f"schubert_d850_{i}.mid" for i in range(1, 5)]
    assert sum(len(p) for p in data.pieces) == 794_411
    assert data.piece_ids.tolist() == list(range(337))


# ----------------------------------------------------------------- music21 corpus


def test_music21_loads_then_hits_the_cache(tmp_path, monkeypatch):
    first = load_music21_corpus(
        ("bach",), max_pieces_per_composer=3, cache_dir=tmp_path
    )
    assert set(first) == KEYS
    assert first.labels.tolist() == ["bach"] * 3
    assert first.titles == sorted(first.titles) and first.titles[0].startswith("bach/")
    assert all(len(p) > 0 for p in first.pieces) and first.skipped == []
    assert len(list(tmp_path.glob("*.mid"))) == 3
    assert len(list(tmp_path.glob("*.json"))) == 3

    def no_conversion(path):
        raise AssertionError(f"converted {path} again instead of using the cache")

    monkeypatch.setattr(music21_corpus, "_convert", no_conversion)
    second = load_music21_corpus("bach", max_pieces_per_composer=3, cache_dir=tmp_path)
    assert second.titles == first.titles and second.paths == first.paths
    assert len(second.pieces) == len(first.pieces) == 3
    for a, b in zip(first.pieces, second.pieces):
        assert_tables_equal(a, b)
        assert a.source == b.source


def test_music21_failed_conversion_is_skipped_and_cached(tmp_path, monkeypatch):
    from music21.midi import translate

    def boom(score, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(translate, "streamToMidiFile", boom)
    with pytest.warns(UserWarning, match="skipped 1 of 1"):
        data = load_music21_corpus(
            "bach", max_pieces_per_composer=1, cache_dir=tmp_path
        )
    assert data.pieces == [] and data.labels.tolist() == []
    ((path, reason),) = data.skipped
    assert path.endswith("bwv1.6.mxl") and "RuntimeError: boom" in reason
    monkeypatch.setattr(
        music21_corpus, "_convert", lambda path: pytest.fail("reconverted")
    )
    with pytest.raises(MidiReadError, match="boom"):
        load_music21_corpus(
            "bach", max_pieces_per_composer=1, cache_dir=tmp_path, errors="raise"
        )


def test_music21_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="'nobody'"):
        load_music21_corpus(
            ("bach", "nobody"), max_pieces_per_composer=1, cache_dir=tmp_path
        )
    with pytest.raises(ValueError, match="errors must be"):
        load_music21_corpus("bach", errors="warn", cache_dir=tmp_path)


@pytest.mark.parametrize("bad", [2.7, "3", True, 0])
def test_music21_max_pieces_must_be_a_positive_integer(tmp_path, monkeypatch, bad):
    # Checked before music21's corpus is looked at.
    monkeypatch.setattr(
        music21_corpus, "_composer_files", lambda *a: pytest.fail("corpus listed")
    )
    with pytest.raises(
        ValueError,
        match=r"^load_music21_corpus: max_pieces_per_composer must be a positive "
        rf"integer, got {re.escape(repr(bad))}$",
    ):
        load_music21_corpus("bach", max_pieces_per_composer=bad, cache_dir=tmp_path)


def test_music21_cache_folder_default_and_env(monkeypatch, tmp_path):
    import platformdirs

    monkeypatch.delenv(CACHE_ENV, raising=False)
    default = music21_corpus._cache_folder(None)
    assert default == Path(platformdirs.user_cache_dir("sklearn-musemb")) / "music21"
    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    assert music21_corpus._cache_folder(None) == tmp_path / "music21"
    assert music21_corpus._cache_folder(tmp_path / "x") == tmp_path / "x"


def test_music21_unexpandable_repeats_are_converted_once():
    from music21 import corpus

    (path,) = [p for p in corpus.getComposer("bach") if p.name == "bwv277.krn"]
    (piece,) = music21_corpus._convert(path)
    assert piece["repeats_expanded"] is False and "error" not in piece
    assert len(read_midi(piece["data"])) > 0
