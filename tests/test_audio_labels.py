"""Clip labels: era, form, key and mode, tempo (sklearn_musemb.audio.labels)."""

from __future__ import annotations

import csv
import math
from collections import Counter

import numpy as np
import pytest
from conftest import KNOWN_META, KNOWN_TRACKS, midi_bytes

from sklearn_musemb.audio.labels import (
    FORMS,
    era_from_year,
    estimate_key,
    form_from_title,
    key_from_signature,
    key_name,
    key_of,
    parse_key,
    pitch_class_histogram,
    tempo_bpm,
)
from sklearn_musemb.io import read_midi

C_MAJOR_SCALE = (60, 62, 64, 65, 67, 69, 71, 72)
A_HARMONIC_MINOR = (57, 59, 60, 62, 64, 65, 68, 69)
B_HARMONIC_MINOR = (59, 61, 62, 64, 66, 67, 70, 71)


def _melody(pitches, meta=(), lengths=None):
    """One note per beat (480 ticks); the first and last notes held longer."""
    lengths = lengths or [960 if i in (0, len(pitches) - 1) else 480 for i in
                          range(len(pitches))]  # fmt: skip
    notes, tick = [], 0
    for pitch, length in zip(pitches, lengths):
        notes.append((tick, tick + length, pitch, 90))
        tick += length
    return midi_bytes([{"notes": notes}], meta=meta)


# ------------------------------------------------------------------------- era


@pytest.mark.parametrize(
    ("year", "era"),
    [
        (1599, "renaissance"),
        (1600, "baroque"),
        (1749, "baroque"),
        (1750, "classical"),
        (1819.9, "classical"),
        (1820, "romantic"),
        (1899, "romantic"),
        (1900, "modern"),
        (2001, "modern"),
        (math.nan, "unknown"),
        (None, "unknown"),
        ("1838", "romantic"),
        ("", "unknown"),
    ],
)
def test_era_boundaries(year, era):
    assert era_from_year(year) == era


def test_era_is_vectorised_and_keeps_shape():
    years = np.array([[1722.0, np.nan], [1810.0, 1905.0]])
    eras = era_from_year(years)
    assert eras.shape == (2, 2)
    assert eras.tolist() == [["baroque", "unknown"], ["classical", "modern"]]


# ------------------------------------------------------------------------ form


@pytest.mark.parametrize(
    ("title", "form"),
    [
        ("Espana_Opus_165_Prelude", "prelude"),
        ("Sonata_No.14_C#_minor_Moonlight_Opus_27_2_1", "sonata"),
        ("Piano_sonata_No.2_Bb_minor_Opus_35_1", "sonata"),
        ("Sonatina_Opus_36_1_1", "sonatina"),
        ("Etudes_Opus_10_12_Revolutionary", "etude"),
        ("8_Etudes-tableaux_Opus_33_5", "etude"),
        ("53_Studies_on_Etudes_on_Frederic_Chopin", "etude"),
        ("2_Nocturnes_Opus_27_1", "nocturne"),
        ("Grande_Valse_Brillante_Opus_18", "waltz"),
        ("5_Mazurkas_Opus_7_1", "mazurka"),
        ("Polonaise_Ab_major_Opus_53", "polonaise"),
        ("Ballad_G_minor_Opus_23", "ballade"),
        ("Fantaisie_Impromptu_Opus_66", "fantasy"),  # first match wins
        ("4_Impromptus_D_899_Opus_90_1", "impromptu"),
        ("19_Hungarian_Rhapsodies_15_Rakoczy_March", "rhapsody"),
        (
            "Abegg_Variations_Opus_1_Thema_Var_I_II_III_Finale_alla_Fantasia",
            "variations",
        ),
        ("Petite_Suite_Mazurka_Allegro", "mazurka"),  # suite yields
        ("Suite_espanola_Granada", "suite"),
        ("Songs_withoug_Words_Book_1_Opus_19_1", "song"),
        ("Children's_Corner_Jimbo's_Lullaby", "berceuse"),
        ("The_Seasons_Opus_37a_6_June_Barcarolle", "barcarolle"),
        ("Danzas_espanolas_3_Zarabanda", "dance"),
        ("Suite_bergamasque_Menuet", "minuet"),
        ("12 ÉTUDES, Op. 25", "etude"),
        ("Jeux_D'eau", "other"),
        ("Kreisleriana_Opus_16_1", "other"),
    ],
)
def test_form_from_real_titles(title, form):
    assert form_from_title(title) == form


def test_form_is_vectorised_and_handles_missing_titles():
    out = form_from_title(["Toccata in D", None, float("nan"), "Fugue"])
    assert out.tolist() == ["toccata", "other", "other", "fugue"]


def test_forms_of_the_piano_midi_titles(piano_midi_root):
    with open(piano_midi_root / "metadata.csv", newline="") as handle:
        titles = [row["title"] for row in csv.DictReader(handle)]
    counts = Counter(form_from_title(titles).tolist())
    assert set(counts) <= set(FORMS) | {"other"}
    # Sonatas (Beethoven, Haydn, Mozart, Schubert, Brahms, Chopin) and Chopin's
    # 24 preludes dominate; a named form for at least 3 titles in 4.
    assert counts["sonata"] >= 80 and counts["prelude"] >= 24
    assert counts["other"] < len(titles) / 4


# ------------------------------------------------------------------------- key


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("C major", (0, "major")),
        ("F# minor", (6, "minor")),
        ("Gb major", (6, "major")),
        ("f sharp minor", (6, "minor")),
        ("B-flat major", (10, "major")),
        ("Bb_major", (10, "major")),
        ("E- major", (3, "major")),  # music21
        ("e-", (3, "minor")),  # music21: lowercase = minor
        ("c#", (1, "minor")),
        ("Db Major", (1, "major")),  # pretty_midi
        ("Ebm", (3, "minor")),
        ("Cb major", (11, "major")),
        ("E#", (5, "major")),
        ("Es-Dur", (3, "major")),
        ("fis-moll", (6, "minor")),
        ("A", (9, "major")),
    ],
)
def test_parse_key_accepts_usual_spellings(name, expected):
    assert parse_key(name) == expected


@pytest.mark.parametrize("bad", ["H major", "C lydian", "", "major", 5])
def test_parse_key_refuses_non_keys(bad):
    with pytest.raises(ValueError, match="not a key name"):
        parse_key(bad)


def test_key_names_are_canonical_and_round_trip():
    names = [key_name(t, m) for m in ("major", "minor") for t in range(12)]
    assert names[:12] == [
        "C major", "Db major", "D major", "Eb major", "E major", "F major",
        "F# major", "G major", "Ab major", "A major", "Bb major", "B major",
    ]  # fmt: skip
    assert names[12:] == [
        "C minor", "C# minor", "D minor", "Eb minor", "E minor", "F minor",
        "F# minor", "G minor", "G# minor", "A minor", "Bb minor", "B minor",
    ]  # fmt: skip
    assert all(key_name(*parse_key(n)) == n for n in names)
    assert key_name(*parse_key("D# minor")) == "Eb minor"


def test_key_from_signature():
    assert key_from_signature(0) == (0, "major")
    assert key_from_signature(3) == (9, "major")
    assert key_from_signature(3, minor=True) == (6, "minor")
    assert key_from_signature(-6) == (6, "major")  # Gb = F#


def test_krumhansl_estimate_of_scales():
    c_major = pitch_class_histogram(read_midi(_melody(C_MAJOR_SCALE)))
    a_minor = pitch_class_histogram(read_midi(_melody(A_HARMONIC_MINOR)))
    assert estimate_key(c_major)[:2] == (0, "major")
    assert estimate_key(a_minor)[:2] == (9, "minor")
    tonic, mode, corr = estimate_key(np.stack([c_major, a_minor]))
    assert tonic.tolist() == [0, 9] and mode.tolist() == ["major", "minor"]
    assert corr.shape == (2,) and np.all(corr > 0.5)


def test_key_of_without_signature_is_estimated():
    assert key_of(_melody(C_MAJOR_SCALE)) == ("C major", 0, "major", "estimated")
    assert key_of(_melody(A_HARMONIC_MINOR)).name == "A minor"


def test_key_of_reads_the_first_key_signature():
    d_major = (0, "key_signature", {"key": "D"})
    b_minor = (0, "key_signature", {"key": "Bm"})
    later = (1920, "key_signature", {"key": "F"})
    # A minor signature is taken as written, whatever the notes say.
    assert key_of(_melody(C_MAJOR_SCALE, meta=[b_minor, later])) == (
        "B minor", 11, "minor", "signature",
    )  # fmt: skip
    # A major signature gives the accidentals; the notes choose major or minor.
    assert key_of(_melody(B_HARMONIC_MINOR, meta=[d_major])) == (
        "B minor", 11, "minor", "signature+profile",
    )  # fmt: skip
    d_scale = [p + 2 for p in C_MAJOR_SCALE]
    assert key_of(_melody(d_scale, meta=[d_major])).name == "D major"
    trusted = key_of(
        _melody(B_HARMONIC_MINOR, meta=[d_major]), trust_signature_mode=True
    )
    assert trusted == ("D major", 2, "major", "signature")


def test_key_of_a_piece_without_notes_or_signature_is_refused():
    with pytest.raises(ValueError, match="no key signature and no pitched notes"):
        key_of(midi_bytes([{"notes": []}]))


def test_pitch_class_histogram_weights_by_duration_in_a_window():
    table = read_midi(_melody((60, 67), lengths=[960, 480]))  # 1.0 s C, 0.5 s G
    hist = pitch_class_histogram(table)
    assert hist[0] == pytest.approx(1.0) and hist[7] == pytest.approx(0.5)
    window = pitch_class_histogram(table, start_s=0.5, end_s=1.25)
    assert window[0] == pytest.approx(0.5) and window[7] == pytest.approx(0.25)


# ----------------------------------------------------------------------- tempo


def test_tempo_is_time_weighted_over_the_excerpt():
    # KNOWN_META: 120 qpm for the first 2 s, then 60 qpm.
    table = read_midi(midi_bytes(KNOWN_TRACKS, meta=KNOWN_META))
    assert tempo_bpm(table, 0.0, 2.0) == pytest.approx(120.0)
    assert tempo_bpm(table, 2.0, 1.0) == pytest.approx(60.0)
    assert tempo_bpm(table, 1.0, 2.0) == pytest.approx(90.0)


def test_tempo_follows_the_tempo_factor():
    table = read_midi(midi_bytes(KNOWN_TRACKS, meta=KNOWN_META))
    # 25% faster: the first 2 s of the file last 1.6 s and read 150 qpm.
    assert tempo_bpm(table, 0.0, 1.6, tempo_factor=1.25) == pytest.approx(150.0)
    # Stretched [1.6, 2.4) is the file's [2, 3) at 60 qpm, played at 75.
    assert tempo_bpm(table, 1.6, 0.8, tempo_factor=1.25) == pytest.approx(75.0)


def test_tempo_of_a_file_without_tempo_events_is_the_midi_default():
    assert tempo_bpm(_melody(C_MAJOR_SCALE)) == pytest.approx(120.0)


def test_tempo_of_an_empty_excerpt_is_refused():
    with pytest.raises(ValueError, match="must last > 0 s"):
        tempo_bpm(_melody(C_MAJOR_SCALE), 0.0, 0.0)
