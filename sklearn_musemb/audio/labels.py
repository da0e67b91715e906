"""Labels of a piece from its metadata and notes: era, form, key and mode, tempo.

These are the facets of the rendered clips (:func:`make_rendered_clips`): the
conditional similarity dimensions of a CSN and the tag sets of an LSI model.
"""

from __future__ import annotations

import math
import os
import re
import unicodedata
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from ..io.midi import read_midi
from ..io.notes import NoteTable

if TYPE_CHECKING:  # pragma: no cover
    import pretty_midi

__all__ = [
    "ERA_BOUNDARIES",
    "ERAS",
    "FORMS",
    "KeyLabel",
    "era_from_year",
    "estimate_key",
    "form_from_title",
    "key_from_signature",
    "key_name",
    "key_of",
    "parse_key",
    "pitch_class_histogram",
    "tempo_bpm",
]

# ------------------------------------------------------------------------- era

#: Era names, oldest first; :data:`ERA_BOUNDARIES` separates them.
ERAS = ("renaissance", "baroque", "classical", "romantic", "modern")

#: First year of each era after the first: baroque from 1600, classical from
#: 1750, romantic from 1820, modern from 1900 (a boundary year belongs to the
#: later era).
ERA_BOUNDARIES = (1600, 1750, 1820, 1900)


def era_from_year(year: Any) -> str | np.ndarray:
    """Style period of a composition year.

    renaissance: before 1600; baroque: 1600-1749; classical: 1750-1819;
    romantic: 1820-1899; modern: 1900 and later; "unknown" for NaN or None.

    Parameters
    ----------
    year : float, int, None or array-like of them
        Composition (or publication) year.

    Returns
    -------
    str or ndarray of str
        A string for a scalar, else an array of the same shape.

    Examples
    --------
    >>> era_from_year(1722), era_from_year(1750), era_from_year(float("nan"))
    ('baroque', 'classical', 'unknown')
    >>> era_from_year([1598, 1819, 1820, 1900]).tolist()
    ['renaissance', 'classical', 'romantic', 'modern']
    """
    scalar = np.ndim(year) == 0
    values = np.asarray(year, dtype=object)
    numeric = np.array([_to_year(v) for v in values.ravel()], dtype=np.float64)
    numeric = numeric.reshape(values.shape)
    index = np.searchsorted(np.asarray(ERA_BOUNDARIES), numeric, side="right")
    names = np.asarray(ERAS + ("unknown",))
    out = names[
        np.where(np.isnan(numeric), len(ERAS), np.minimum(index, len(ERAS) - 1))
    ]
    return str(out) if scalar else out


def _to_year(value: Any) -> float:
    try:
        return float(value) if value is not None else math.nan
    except (TypeError, ValueError):  # "", "c. 1890"...
        return math.nan


# ------------------------------------------------------------------------ form

#: Form labels and the title words that name them (singular; "s"/"es" plurals
#: match too). Dances without a form of their own are "dance".
FORMS: dict[str, tuple[str, ...]] = {
    "sonata": ("sonata", "sonate", "sonaten"),
    "sonatina": ("sonatina", "sonatine"),
    "etude": ("etude", "study", "studies", "studie"),
    "nocturne": ("nocturne", "notturno"),
    "waltz": ("waltz", "valse", "walzer", "vals"),
    "mazurka": ("mazurka", "mazurek"),
    "prelude": ("prelude", "preludio", "praeludium", "preludium"),
    "fugue": ("fugue", "fuga", "fughetta"),
    "polonaise": ("polonaise", "polacca"),
    "ballade": ("ballade", "ballad", "ballata"),
    "scherzo": ("scherzo", "scherzi"),
    "impromptu": ("impromptu",),
    "rondo": ("rondo", "rondeau"),
    "variations": ("variations", "variation", "variationen", "variazioni"),
    "fantasy": (
        "fantasy", "fantasie", "fantasia", "fantaisie", "fantasien", "phantasie",
    ),
    "march": ("march", "marche", "marcia", "marsch"),
    "minuet": ("minuet", "menuet", "menuetto", "minuetto", "menuett"),
    "toccata": ("toccata",),
    "invention": ("invention", "inventio", "sinfonia"),
    "partita": ("partita",),
    "suite": ("suite",),
    "song": ("song", "lied", "lieder", "chanson", "canzonetta"),
    "barcarolle": ("barcarolle", "barcarola"),
    "berceuse": ("berceuse", "lullaby", "wiegenlied"),
    "romance": ("romance", "romanze", "romanza"),
    "serenade": ("serenade", "serenata", "standchen"),
    "rhapsody": ("rhapsody", "rhapsodie", "rhapsodies", "rapsodie"),
    "intermezzo": ("intermezzo", "intermezzi"),
    "capriccio": ("capriccio", "caprice", "capricho", "capricci"),
    "bagatelle": ("bagatelle",),
    "humoresque": ("humoresque", "humoreske"),
    "reverie": ("reverie", "traumerei"),
    "chorale": ("chorale", "choral"),
    "concerto": ("concerto",),
    "symphony": ("symphony", "sinfonie"),
    "quartet": ("quartet", "quartett"),
    "dance": (
        "dance", "danza", "danse", "tanz", "tango", "polka", "gavotte", "bourree",
        "sarabande", "zarabanda", "gigue", "jig", "allemande", "courante",
        "passepied", "galop", "tarantella", "bolero", "habanera", "halling",
        "landler", "ecossaise", "malaguena", "zortzico", "seguidilla", "fandango",
        "jota", "siciliano", "pavane", "galliard",
    ),
}  # fmt: skip

# A collection word: it labels the piece only when no other form word does
# ("Petite_Suite_Mazurka" is a mazurka, "Suite_espanola_Granada" a suite).
_WEAK_FORMS = frozenset({"suite"})
_FORM_OF_WORD = {word: form for form, words in FORMS.items() for word in words}


def form_from_title(title: Any) -> str | np.ndarray:
    """Musical form named in a title ("sonata", "etude", ...), else "other".

    The title is split into words (letters only, accents removed, any case),
    so ``Espana_Opus_165_Prelude``, ``Sonata_No.14`` and ``12 Études`` all
    work. Each word is looked up in ``FORMS``, as written or without a
    plural "s"/"es"; the first word that names a form, by position, decides,
    except that "suite" yields to any later, more specific form.

    Parameters
    ----------
    title : str or array-like of str
        Titles (None or NaN give "other").

    Returns
    -------
    str or ndarray of str
        A string for a scalar, else an array of the same shape.

    Examples
    --------
    >>> form_from_title("Espana_Opus_165_Prelude")
    'prelude'
    >>> form_from_title("Grande_Valse_Brillante_Opus_18")
    'waltz'
    >>> form_from_title(["Petite_Suite_Mazurka_Allegro", "Jeux_D'eau"]).tolist()
    ['mazurka', 'other']
    """
    if np.ndim(title) == 0:
        return _form_of(title)
    values = np.asarray(title, dtype=object)
    out = np.array([_form_of(t) for t in values.ravel()], dtype=object)
    return out.astype(str).reshape(values.shape)


def _form_of(title: Any) -> str:
    if not isinstance(title, str):
        return "other"
    text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    weak = None
    for word in re.findall(r"[a-z]+", text.lower()):
        form = _word_form(word)
        if form is None:
            continue
        if form not in _WEAK_FORMS:
            return form
        weak = weak or form
    return weak or "other"


def _word_form(word: str) -> str | None:
    for candidate in (
        word,
        word[:-1] if word.endswith("s") else None,
        word[:-2] if word.endswith("es") else None,
    ):
        if candidate and candidate in _FORM_OF_WORD:
            return _FORM_OF_WORD[candidate]
    return None


# ------------------------------------------------------------------------- key

#: Canonical tonic names, by pitch class: the spelling whose key signature has
#: the fewest accidentals (Db major not C# major, C# minor not Db minor); for
#: six accidentals F# major and Eb minor.
MAJOR_TONICS = ("C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
MINOR_TONICS = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "G#", "A", "Bb", "B")

# Krumhansl & Kessler (1982) probe-tone ratings, tonic first.
_KK_MAJOR = np.array(
    [6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88]
)
_KK_MINOR = np.array(
    [6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17]
)
# Rows 0-11: major keys on C..B; rows 12-23: minor keys. Column j: pitch class j.
_KEY_PROFILES = np.stack(
    [np.roll(_KK_MAJOR, k) for k in range(12)]
    + [np.roll(_KK_MINOR, k) for k in range(12)]
)

_LETTERS = {"c": 0, "d": 2, "e": 4, "f": 5, "g": 7, "a": 9, "b": 11}
_KEY_PATTERN = re.compile(
    r"""^\s*(?P<letter>[a-g])
    \s*(?P<accidental>(?:\#|♯|-?\s*sharp|x|\#\#|is)|(?:b|♭|-|-?\s*flat|bb|--|es|s))?
    (?:[\s_-]*(?P<mode>major|minor|maj|min|dur|moll|m))?\s*$""",
    re.IGNORECASE | re.VERBOSE,
)
_ACCIDENTALS = {
    "#": 1, "♯": 1, "sharp": 1, "is": 1, "x": 2, "##": 2,
    "b": -1, "♭": -1, "-": -1, "flat": -1, "es": -1, "s": -1, "bb": -2, "--": -2,
}  # fmt: skip


class KeyLabel(NamedTuple):
    """The key of a piece and where it came from.

    Attributes
    ----------
    name : str
        Canonical name, e.g. ``"F# minor"`` (see :func:`key_name`).
    tonic : int
        Pitch class of the tonic, C = 0.
    mode : str
        ``"major"`` or ``"minor"``.
    source : str
        ``"signature"`` (tonic and mode from the first key-signature event),
        ``"signature+profile"`` (accidentals from the signature, major or
        minor chosen by the pitch-class profile) or ``"estimated"`` (no key
        signature: Krumhansl-Kessler estimate).
    """

    name: str
    tonic: int
    mode: str
    source: str


def key_name(tonic: int, mode: str) -> str:
    """Canonical name of a key: tonic spelled as in :data:`MAJOR_TONICS` /
    :data:`MINOR_TONICS`, then "major" or "minor".

    Parameters
    ----------
    tonic : int
        Pitch class, C = 0 (taken modulo 12).
    mode : {"major", "minor"}

    Returns
    -------
    str

    Examples
    --------
    >>> key_name(1, "major"), key_name(1, "minor"), key_name(6, "major")
    ('Db major', 'C# minor', 'F# major')
    """
    if mode not in ("major", "minor"):
        raise ValueError(f"mode must be 'major' or 'minor', got {mode!r}")
    names = MAJOR_TONICS if mode == "major" else MINOR_TONICS
    return f"{names[int(tonic) % 12]} {mode}"


def parse_key(name: str) -> tuple[int, str]:
    """Tonic pitch class and mode of a key name, in any usual spelling.

    Accepts "C major", "c# minor", "Db", "Bbm", "F sharp minor", "B-flat
    major", music21's "E- major" / "e-" (lowercase tonic without a mode means
    minor, as in music21), pretty_midi's "Db Major", titles' "Bb_major", and
    German "Es-Dur" / "fis-moll". Enharmonic spellings give the same pitch
    class.

    Parameters
    ----------
    name : str

    Returns
    -------
    tonic : int
        Pitch class, C = 0.
    mode : {"major", "minor"}

    Raises
    ------
    ValueError
        When the name is not a key.

    Examples
    --------
    >>> parse_key("F# minor"), parse_key("Gb major"), parse_key("e-")
    ((6, 'minor'), (6, 'major'), (3, 'minor'))
    >>> parse_key("Bb_major"), parse_key("c#m"), parse_key("A")
    ((10, 'major'), (1, 'minor'), (9, 'major'))
    """
    match = _KEY_PATTERN.match(name) if isinstance(name, str) else None
    if match is None:
        raise ValueError(
            f"not a key name: {name!r} (expected e.g. 'C major', 'F# minor', 'Bbm')"
        )
    letter, accidental, mode = match["letter"], match["accidental"], match["mode"]
    shift = 0
    if accidental:
        accidental = accidental.lower().replace(" ", "")
        if accidental.endswith(("sharp", "flat")):
            accidental = accidental.lstrip("-")
        shift = _ACCIDENTALS[accidental]
    if mode is None:
        mode = "minor" if letter.islower() else "major"
    elif mode.lower() in ("minor", "min", "moll") or mode == "m":
        mode = "minor"
    elif mode == "M" or mode.lower() in ("major", "maj", "dur"):
        mode = "major"
    return (_LETTERS[letter.lower()] + shift) % 12, mode


def key_from_signature(sharps: int, minor: bool | int = False) -> tuple[int, str]:
    """Key of a MIDI key-signature event.

    Parameters
    ----------
    sharps : int
        Number of sharps (negative: flats), -7..7.
    minor : bool or int, default=False
        The event's tonality (0 major, 1 minor).

    Returns
    -------
    tonic : int
    mode : {"major", "minor"}

    Examples
    --------
    >>> key_from_signature(2), key_from_signature(-3, minor=True)
    ((2, 'major'), (0, 'minor'))
    """
    major_tonic = (7 * int(sharps)) % 12
    if minor:
        return (major_tonic + 9) % 12, "minor"
    return major_tonic, "major"


def pitch_class_histogram(
    notes: Any, start_s: float | None = None, end_s: float | None = None
) -> np.ndarray:
    """Duration-weighted pitch-class histogram (seconds sounding per class).

    Parameters
    ----------
    notes : NoteTable or structured array with onset, offset, pitch, is_drum
        The notes (drums are ignored).
    start_s, end_s : float, optional
        Count only the part of each note inside ``[start_s, end_s)``.

    Returns
    -------
    ndarray of float64, shape (12,)

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_musemb.io import NOTE_DTYPE
    >>> notes = np.zeros(2, dtype=NOTE_DTYPE)
    >>> notes["pitch"], notes["offset"] = [60, 67], [1.0, 0.5]
    >>> pitch_class_histogram(notes)[[0, 7]].tolist()
    [1.0, 0.5]
    """
    notes = notes.notes if isinstance(notes, NoteTable) else notes
    notes = notes[~notes["is_drum"]]
    onset, offset = notes["onset"], notes["offset"]
    if start_s is not None:
        onset = np.maximum(onset, start_s)
    if end_s is not None:
        offset = np.minimum(offset, end_s)
    weight = np.clip(offset - onset, 0.0, None)
    return np.bincount(notes["pitch"] % 12, weights=weight, minlength=12)


def estimate_key(histogram: Any, candidates: Any = None) -> tuple[Any, Any, Any]:
    """Krumhansl-Kessler key estimate: the key profile best correlated with a
    pitch-class histogram.

    Parameters
    ----------
    histogram : array-like, shape (12,) or (n, 12)
        Pitch-class weights, C first (e.g. ``pitch_class_histogram``).
    candidates : array-like of int, optional
        Key indices allowed (0-11 major on C..B, 12-23 minor on C..B), e.g. a
        relative major and minor. All 24 by default.

    Returns
    -------
    tonic : int or ndarray of int
        Pitch class of the best key (one per row for a 2-d input).
    mode : str or ndarray of str
    correlation : float or ndarray of float
        Pearson correlation of the histogram with the chosen profile (NaN for
        a histogram of zeros, whose key is then C major).

    Examples
    --------
    >>> c_major_scale = [1, 0, 1, 0, 1, 1, 0, 1, 0, 1, 0, 1]
    >>> tonic, mode, r = estimate_key(c_major_scale)
    >>> tonic, mode, round(r, 2)
    (0, 'major', 0.76)
    """
    h = np.asarray(histogram, dtype=np.float64)
    single = h.ndim == 1
    h = np.atleast_2d(h)
    if h.shape[-1] != 12:
        raise ValueError(f"histogram must have 12 columns, got shape {h.shape}")
    hc = h - h.mean(axis=1, keepdims=True)
    pc = _KEY_PROFILES - _KEY_PROFILES.mean(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (hc @ pc.T) / (
            np.linalg.norm(hc, axis=1, keepdims=True) * np.linalg.norm(pc, axis=1)
        )
    allowed = np.arange(24) if candidates is None else np.asarray(candidates)
    scores = np.where(np.isnan(r[:, allowed]), -np.inf, r[:, allowed])
    best = allowed[np.argmax(scores, axis=1)]
    tonic = best % 12
    mode = np.where(best < 12, "major", "minor")
    corr = r[np.arange(len(best)), best]
    if single:
        return int(tonic[0]), str(mode[0]), float(corr[0])
    return tonic, mode, corr


def key_of(
    midi: NoteTable | str | os.PathLike | bytes | pretty_midi.PrettyMIDI,
    *,
    trust_signature_mode: bool = False,
) -> KeyLabel:
    """Key and mode of a piece, from its first key signature or its notes.

    With a key-signature event, its accidentals fix the key up to the relative
    major/minor pair. A signature that says minor is taken as written; one
    that says major is, by default, only taken for its accidentals, and the
    Krumhansl-Kessler profile of the notes picks major or minor, because many
    MIDI writers store every key as major (all 337 piano-midi files do,
    including the minor-key pieces). Without a signature the key is estimated
    from the duration-weighted pitch-class histogram among all 24 keys.

    Parameters
    ----------
    midi : NoteTable, str, path-like, bytes or pretty_midi.PrettyMIDI
        The piece (anything :func:`sklearn_musemb.io.read_midi` reads).
    trust_signature_mode : bool, default=False
        Take a major signature as major too (source "signature").

    Returns
    -------
    KeyLabel
        ``(name, tonic, mode, source)``.

    Raises
    ------
    ValueError
        When the piece has no (non-drum) notes and no key signature.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_musemb.io import NOTE_DTYPE, NoteTable
    >>> notes = np.zeros(8, dtype=NOTE_DTYPE)
    >>> notes["pitch"] = [57, 59, 60, 62, 64, 65, 68, 69]  # A harmonic minor
    >>> notes["onset"] = np.arange(8.0)
    >>> notes["offset"] = notes["onset"] + [3, 1, 1, 1, 2, 1, 1, 3]
    >>> key_of(NoteTable(notes=notes))
    KeyLabel(name='A minor', tonic=9, mode='minor', source='estimated')
    """
    table = midi if isinstance(midi, NoteTable) else read_midi(midi)
    signatures = table.key_signatures
    histogram = pitch_class_histogram(table)
    if len(signatures):
        sharps, tonality = int(signatures[0]["key"]), int(signatures[0]["tonality"])
        if tonality or trust_signature_mode or not histogram.any():
            tonic, mode = key_from_signature(sharps, tonality)
            return KeyLabel(key_name(tonic, mode), tonic, mode, "signature")
        major, _ = key_from_signature(sharps)
        tonic, mode, _ = estimate_key(
            histogram, candidates=[major, 12 + (major + 9) % 12]
        )
        return KeyLabel(key_name(tonic, mode), tonic, mode, "signature+profile")
    if not histogram.any():
        raise ValueError(
            f"cannot estimate the key of {table.source}: no key signature and no "
            "pitched notes"
        )
    tonic, mode, _ = estimate_key(histogram)
    return KeyLabel(key_name(tonic, mode), tonic, mode, "estimated")


# ----------------------------------------------------------------------- tempo


def tempo_bpm(
    midi: NoteTable | str | os.PathLike | bytes | pretty_midi.PrettyMIDI,
    start_s: float = 0.0,
    duration_s: float | None = None,
    *,
    tempo_factor: float = 1.0,
) -> float:
    """Average tempo (quarter notes per minute) of an excerpt, from the tempo map.

    The average is weighted by time: quarter notes played in the excerpt
    divided by its length in minutes. Times are those of the performance
    played ``tempo_factor`` times faster (as in
    :func:`~sklearn_musemb.audio.render_midi`), so the result is the file's
    tempo times ``tempo_factor``. Tempo is counted in quarter notes whatever
    the time signature (a 6/8 piece at 60 dotted quarters reads 90).

    Parameters
    ----------
    midi : NoteTable, str, path-like, bytes or pretty_midi.PrettyMIDI
        The piece.
    start_s : float, default=0.0
        Start of the excerpt, in seconds of the stretched performance.
    duration_s : float, optional
        Its length; None runs to the end of the last note.
    tempo_factor : float, default=1.0
        Speed-up of the performance.

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_musemb.io import TEMPO_DTYPE, NOTE_DTYPE, NoteTable
    >>> tempos = np.array([(0, 0.0, 120.0), (960, 1.0, 60.0)], dtype=TEMPO_DTYPE)
    >>> table = NoteTable(notes=np.zeros(0, NOTE_DTYPE), tempos=tempos)
    >>> tempo_bpm(table, 0.0, 2.0)  # 1 s at 120 qpm, 1 s at 60
    90.0
    >>> tempo_bpm(table, 0.0, 0.8, tempo_factor=1.25)  # 120 qpm, 25% faster
    150.0
    """
    table = midi if isinstance(midi, NoteTable) else read_midi(midi)
    if not tempo_factor > 0 or not math.isfinite(tempo_factor):
        raise ValueError(
            f"tempo_factor must be a finite number > 0, got {tempo_factor}"
        )
    if duration_s is None:
        duration_s = table.duration / tempo_factor - start_s
    if not duration_s > 0:
        raise ValueError(
            f"tempo_bpm of {table.source}: the excerpt must last > 0 s, "
            f"got {duration_s}"
        )
    # Back to the file's own time, where the tempo map lives.
    a, b = start_s * tempo_factor, (start_s + duration_s) * tempo_factor
    beats = _beats_at(table, np.array([a, b]))
    return float((beats[1] - beats[0]) / ((b - a) / 60.0) * tempo_factor)


def _beats_at(table: NoteTable, times: np.ndarray) -> np.ndarray:
    """Quarter notes elapsed at each time (piecewise linear in the tempo map)."""
    tempos = table.tempos
    if len(tempos) == 0:
        return times * 2.0  # MIDI default: 120 qpm
    i = np.maximum(np.searchsorted(tempos["time"], times, side="right") - 1, 0)
    return (
        tempos["tick"][i] / table.ticks_per_beat
        + (times - tempos["time"][i]) * tempos["qpm"][i] / 60.0
    )
