"""Labelled audio clips rendered from a MIDI corpus (several instruments, tempi)."""

from __future__ import annotations

import hashlib
import math
import os
import re
import sys
import tempfile
import warnings
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.utils import Bunch

from ..io.corpus import _check_errors, _entries_from_csv, _report_skipped
from ..io.midi import MidiReadError, read_midi
from ..io.notes import NoteTable
from ..utils.cache import cache_root
from .datasets import _pandas
from .labels import era_from_year, form_from_title, key_of, tempo_bpm
from .render import (
    FluidSynthError,
    _check_gain,
    _check_sr,
    _performance,
    find_soundfont,
    instrument_name,
    program_number,
    render_excerpts,
)

__all__ = ["CLIP_COLUMNS", "make_rendered_clips"]

#: Columns of ``make_rendered_clips(...).frame``, in order.
CLIP_COLUMNS = (
    "piece_id",
    "path",
    "title",
    "composer",
    "year",
    "era",
    "form",
    "key",
    "mode",
    "key_source",
    "tempo_bpm",
    "instrument",
    "program",
    "tempo_factor",
    "start_s",
)

# Bump when rendering changes, so that old cache entries are not reused.
_CACHE_VERSION = "1"
_MIDI_SUFFIXES = (".mid", ".midi")
_DTYPES = ("float32", "int16")
# Problems of one piece: it is skipped (errors="skip"). A missing FluidSynth or
# SoundFont is not among them: it would fail every piece, so it is raised.
_PIECE_ERRORS = (MidiReadError, ValueError, FluidSynthError)


@dataclass
class _Piece:
    """One piece of the source, before rendering."""

    piece_id: int
    path: Path
    title: str
    composer: str
    year: float
    table: NoteTable | None = None  # given by a Bunch; else read from path
    missing: str | None = None  # why the file cannot be found


def make_rendered_clips(
    source: str | os.PathLike | Bunch,
    *,
    programs: Sequence[int | str] = ("piano", "strings", "organ"),
    tempo_factors: Sequence[float] = (0.8, 1.0, 1.25),
    clip_s: float = 15.0,
    start_s: float | None = None,
    sr: int = 22050,
    max_pieces: int | None = None,
    composers: Iterable[str] | None = None,
    soundfont: str | os.PathLike | None = None,
    gain: float = 1.0,
    dtype: str = "float32",
    cache_dir: str | os.PathLike | bool | None = None,
    n_jobs: int | None = None,
    errors: str = "skip",
    verbose: bool = False,
) -> Bunch:
    """Render every piece of a MIDI corpus with several instruments and tempi.

    Each piece gives ``len(programs) * len(tempo_factors)`` clips of
    ``clip_s`` seconds, rendered by FluidSynth (:func:`render_excerpts`, one
    FluidSynth run per piece). All clips of a piece start at the same point
    of the score; a faster tempo covers more of the music. Labels: composer,
    year and era, form (from the title), key and mode (key signature, else
    estimated), tempo in quarter notes per minute over the clip (tempo map
    times the tempo factor), instrument and program.

    Parameters
    ----------
    source : str, path-like or sklearn.utils.Bunch
        A corpus folder holding ``metadata.csv``, or the CSV itself (columns
        ``composer``, ``title``, ``year`` and ``midi``, the file's path
        relative to the CSV's folder, as in piano-midi); or the result of
        :func:`~sklearn_musemb.io.load_midi_corpus` or
        :func:`~sklearn_musemb.io.load_music21_corpus` (labels are the
        composers). Pieces whose path is a MIDI file are rendered from the file
        (with its pedals); others (music21 scores) from their notes.
    programs : sequence of int or str, default=("piano", "strings", "organ")
        General MIDI instruments (see ``program_number``).
    tempo_factors : sequence of float, default=(0.8, 1.0, 1.25)
        Speeds; 1.25 is 25% faster.
    clip_s : float, default=15.0
        Length of each clip in seconds (a piece shorter than that is padded
        with silence).
    start_s : float, optional
        Where clips start, in seconds of the piece at its own tempo. None
        starts at the first note.
    sr : int, default=22050
        Sample rate.
    max_pieces : int, optional
        Keep this many pieces, evenly spaced in source order (so a corpus
        sorted by composer keeps all its composers). Applied after
        ``composers``.
    composers : iterable of str, optional
        Keep only these composers (any letter case).
    soundfont : str or path-like, optional
        See :func:`find_soundfont`.
    gain : float, default=1.0
        FluidSynth's master gain.
    dtype : {"float32", "int16"}, default="float32"
        Type of ``audio``: float32 in [-1, 1], or the 16-bit samples (half
        the memory; divide by 32768 for floats). One hour at 22050 Hz is
        318 MB as float32.
    cache_dir : str, path-like, None or False, default=None
        Folder of rendered clips (16-bit ``.npy`` files keyed by the MIDI
        content, program, tempo factor, start, length, sample rate, gain and
        SoundFont), so that a re-run only renders what is new. None uses
        ``$SKLEARN_MUSEMB_CACHE/rendered`` when that variable is set, else
        the user cache folder (``platformdirs``); False disables the cache.
    n_jobs : int, optional
        Render pieces in parallel with joblib (processes); None renders them
        in this process.
    errors : {"skip", "raise"}, default="skip"
        What to do with a piece that cannot be read or rendered (missing,
        corrupt, no notes after ``start_s``...): record it in ``skipped`` and
        warn once, or raise. A missing FluidSynth or SoundFont always raises.
    verbose : bool, default=False
        Print one line per piece and a summary to stderr.

    Returns
    -------
    data : sklearn.utils.Bunch
        ``audio`` (ndarray, shape (n_clips, round(clip_s * sr))), ``frame``
        (pandas DataFrame, one row per clip, columns :data:`CLIP_COLUMNS`:
        ``piece_id`` is the piece's position in the source, ``start_s`` the
        clip's start in the piece at its own tempo), ``sr``, ``skipped``
        (list of ``(path, reason)``) and ``DESCR``. Clips are ordered by
        piece, then program, then tempo factor.

    Raises
    ------
    ValueError
        For an invalid option (unknown instrument, ``errors``, ``dtype``...),
        a source that is neither a folder, a CSV nor a corpus Bunch, or with
        ``errors="raise"`` a piece without notes to render.
    FluidSynthNotFoundError, SoundFontNotFoundError
        When FluidSynth or the SoundFont is missing.
    MidiReadError, FluidSynthError
        With ``errors="raise"``, for the first piece that fails.

    Examples
    --------
    >>> from sklearn_musemb.audio.clips import make_rendered_clips
    >>> data = make_rendered_clips(  # doctest: +SKIP
    ...     "../shared/data/piano-midi", programs=("piano", "organ"),
    ...     tempo_factors=(1.0,), clip_s=10.0, max_pieces=5)
    >>> data.audio.shape  # doctest: +SKIP
    (10, 220500)
    >>> data.frame.loc[0, ["composer", "form", "key"]].tolist()  # doctest: +SKIP
    ['Albeniz', 'prelude', 'D minor']
    """
    pd = _pandas()

    _check_errors(errors)
    if dtype not in _DTYPES:
        raise ValueError(f"dtype must be one of {_DTYPES}, got {dtype!r}")
    programs = [program_number(p) for p in programs]
    if not programs or None in programs:
        raise ValueError(f"programs must list at least one instrument, got {programs}")
    factors = [_positive(f, "tempo_factors") for f in tempo_factors]
    if not factors:
        raise ValueError("tempo_factors must list at least one tempo factor")
    clip_s = _positive(clip_s, "clip_s")
    if start_s is not None:
        start_s = _positive(start_s, "start_s", strict=False)
    sr, gain = _check_sr(sr), _check_gain(gain)
    n_samples = int(round(clip_s * sr))
    font = find_soundfont(soundfont)

    pieces = _select(_pieces(source), composers, max_pieces)
    cache = _ClipCache(_cache_folder(cache_dir), font, sr, gain, clip_s, n_samples)
    settings = dict(
        programs=programs,
        factors=factors,
        clip_s=clip_s,
        start_s=start_s,
        sr=sr,
        font=font,
        gain=gain,
    )
    results = _map(pieces, cache, settings, n_jobs, verbose)

    rows, clips, skipped = [], [], []
    for piece, result in zip(pieces, results):
        if isinstance(result, Exception):
            if errors == "raise":
                raise result
            skipped.append((str(piece.path), _reason(result)))
            continue
        piece_rows, piece_clips = result
        rows += piece_rows
        clips += piece_clips
    _report_skipped(skipped, len(pieces), verbose, what="pieces")

    audio = np.stack(clips) if clips else np.zeros((0, n_samples), np.int16)
    if dtype == "float32":
        audio = audio.astype(np.float32) / np.float32(32768.0)
    frame = pd.DataFrame(rows, columns=list(CLIP_COLUMNS))
    return Bunch(
        audio=audio,
        frame=frame,
        sr=sr,
        skipped=skipped,
        DESCR=_describe(frame, len(pieces), skipped, clip_s, sr, font, cache.folder),
    )


def _positive(value: Any, name: str, *, strict: bool = True) -> float:
    """``value`` as a float; refuses non-numbers, NaN, infinities and values
    below 0 (or equal to 0 when ``strict``)."""
    bound = "> 0" if strict else ">= 0"
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float | np.integer | np.floating)
        or not math.isfinite(value)
        or value < 0
        or (strict and value == 0)
    ):
        raise ValueError(f"{name} must be finite number(s) {bound}, got {value!r}")
    return float(value)


def _reason(error: Exception) -> str:
    return error.reason if isinstance(error, MidiReadError) else str(error)


# ---------------------------------------------------------------- the pieces


def _pieces(source: Any) -> list[_Piece]:
    if isinstance(source, Bunch) or (
        isinstance(source, dict) and {"pieces", "labels", "paths"} <= set(source)
    ):
        return _pieces_from_bunch(source)
    if not isinstance(source, str | os.PathLike):
        raise ValueError(
            "source must be a corpus folder, its metadata CSV, or a Bunch from "
            f"load_midi_corpus / load_music21_corpus, got {type(source).__name__}"
        )
    path = Path(source)
    if path.is_dir():
        root, metadata = path, Path("metadata.csv")
    elif path.is_file():
        root, metadata = path.parent, Path(path.name)
    else:
        raise FileNotFoundError(f"corpus {str(path)!r} is neither a folder nor a CSV")
    entries = _entries_from_csv(root, metadata, "composer", "midi", "title", "year")
    return [
        _Piece(i, e.path, e.title, e.label, e.year, missing=e.missing)
        for i, e in enumerate(entries)
    ]


def _pieces_from_bunch(data: Any) -> list[_Piece]:
    n = len(data["pieces"])
    titles = data.get("titles") or [Path(p).stem for p in data["paths"]]
    years = data.get("years")
    years = np.full(n, np.nan) if years is None else np.asarray(years, np.float64)
    pieces = [
        _Piece(i, Path(path), str(title), str(label), float(year), table=table)
        for i, (path, title, label, year, table) in enumerate(
            zip(data["paths"], titles, data["labels"], years, data["pieces"])
        )
    ]
    _add_music21_years(pieces)
    return pieces


def _add_music21_years(pieces: list[_Piece]) -> None:
    """Years from music21's corpus metadata, for its scores that lack one."""
    todo = [p for p in pieces if math.isnan(p.year) and not _is_midi_file(p.path)]
    if not todo:
        return
    try:
        from music21 import common, corpus
    except ImportError:  # pragma: no cover - music21 is a dependency
        return
    base = Path(common.getCorpusFilePath())
    inside = [p for p in todo if base in p.path.parents]
    if not inside:
        return
    dates = {}
    # A slice, not iteration: the bundle's __getitem__ copies all its entries.
    for entry in corpus.corpora.CoreCorpus().metadataBundle[:]:
        date = getattr(entry.metadata, "date", None)
        found = re.search(r"\d{4}", str(date)) if date else None
        if found:
            dates[Path(str(entry.sourcePath)).with_suffix("").as_posix()] = found[0]
    for piece in inside:
        key = piece.path.relative_to(base).with_suffix("").as_posix()
        if key in dates:
            piece.year = float(dates[key])


def _is_midi_file(path: Path) -> bool:
    return path.suffix.lower() in _MIDI_SUFFIXES and path.is_file()


def _select(
    pieces: list[_Piece], composers: Iterable[str] | None, max_pieces: int | None
) -> list[_Piece]:
    if composers is not None:
        if isinstance(composers, str):
            composers = [composers]
        wanted = {c.casefold() for c in composers}
        known = {p.composer.casefold() for p in pieces}
        unknown = sorted(wanted - known)
        if unknown:
            raise ValueError(
                f"composers {unknown} are not in the corpus; it has "
                f"{sorted({p.composer for p in pieces})}"
            )
        pieces = [p for p in pieces if p.composer.casefold() in wanted]
    if max_pieces is not None:
        if isinstance(max_pieces, bool) or not isinstance(max_pieces, int | np.integer):
            raise ValueError(
                f"max_pieces must be a positive integer, got {max_pieces!r}"
            )
        if max_pieces < 1:
            raise ValueError(f"max_pieces must be a positive integer, got {max_pieces}")
        if max_pieces < len(pieces):
            keep = np.unique(np.linspace(0, len(pieces) - 1, max_pieces).round())
            pieces = [pieces[int(i)] for i in keep]
    return pieces


# ------------------------------------------------------------------- rendering


def _map(
    pieces: list[_Piece],
    cache: _ClipCache,
    settings: dict,
    n_jobs: int | None,
    verbose: bool,
) -> list:
    if n_jobs is None:
        return [_render_piece(p, cache, settings, verbose) for p in pieces]
    from joblib import Parallel, delayed

    return Parallel(n_jobs=n_jobs)(
        delayed(_render_piece)(p, cache, settings, verbose) for p in pieces
    )


def _render_piece(
    piece: _Piece, cache: _ClipCache, settings: dict, verbose: bool
) -> tuple[list[dict], list[np.ndarray]] | Exception:
    # Errors are returned, not raised, so that one bad piece in a parallel
    # batch does not cancel the others.
    try:
        result, rendered = _render_piece_or_raise(piece, cache, settings)
    except _PIECE_ERRORS as exc:
        if verbose:
            print(f"skipped {piece.path}: {_reason(exc)}", file=sys.stderr)
        return exc
    if verbose:
        print(
            f"{piece.path}: {len(result[1])} clips ({rendered} rendered)",
            file=sys.stderr,
        )
    return result


def _render_piece_or_raise(
    piece: _Piece, cache: _ClipCache, settings: dict
) -> tuple[tuple[list[dict], list[np.ndarray]], int]:
    if piece.missing is not None:
        raise MidiReadError(str(piece.path), piece.missing)
    if piece.table is not None and not _is_midi_file(piece.path):
        table, midi = piece.table, piece.table
        content = table.notes.tobytes() + table.tempos.tobytes()
    else:
        try:
            content = piece.path.read_bytes()
        except OSError as exc:
            raise MidiReadError(
                str(piece.path), f"{type(exc).__name__}: {exc}"
            ) from None
        table = piece.table
        if table is None:
            table = read_midi(content, path_hint=str(piece.path))
        midi = content
    name = str(piece.path)
    pitched = table.notes[~table.notes["is_drum"]]
    if len(pitched) == 0:
        raise ValueError(f"nothing to render in {piece.path}: the piece has no notes")
    start = (
        float(pitched["onset"].min())
        if settings["start_s"] is None
        else settings["start_s"]
    )
    if start >= table.duration:
        raise ValueError(
            f"nothing to render in {piece.path}: start_s={start:g} s is past the end "
            f"of the piece ({table.duration:.2f} s)"
        )

    digest = hashlib.sha256(content).hexdigest()
    variants = [(p, f) for p in settings["programs"] for f in settings["factors"]]
    keys = [cache.key(digest, p, f, start, piece.path.stem) for p, f in variants]
    clips = [cache.load(k) for k in keys]
    todo = [i for i, clip in enumerate(clips) if clip is None]
    if todo:
        perf = _performance(midi, name)
        excerpts = [
            {
                "program": variants[i][0],
                "tempo_factor": variants[i][1],
                "start_s": start / variants[i][1],
                "duration_s": settings["clip_s"],
            }
            for i in todo
        ]
        audio = render_excerpts(
            perf,
            excerpts,
            settings["sr"],
            soundfont=settings["font"],
            gain=settings["gain"],
        )
        for i, clip in zip(todo, audio):
            clips[i] = _to_int16(clip)
            cache.store(keys[i], clips[i])

    key = key_of(table)
    labels = {
        "piece_id": piece.piece_id,
        "path": str(piece.path),
        "title": piece.title,
        "composer": piece.composer,
        "year": piece.year,
        "era": era_from_year(piece.year),
        "form": form_from_title(piece.title),
        "key": key.name,
        "mode": key.mode,
        "key_source": key.source,
    }
    rows = [
        {
            **labels,
            "tempo_bpm": tempo_bpm(
                table, start / factor, settings["clip_s"], tempo_factor=factor
            ),
            "instrument": instrument_name(program),
            "program": program,
            "tempo_factor": factor,
            "start_s": start,
        }
        for program, factor in variants
    ]
    return (rows, clips), len(todo)


def _to_int16(audio: np.ndarray) -> np.ndarray:
    return np.clip(np.round(audio * 32768.0), -32768, 32767).astype(np.int16)


# ------------------------------------------------------------------------ cache


def _cache_folder(cache_dir: str | os.PathLike | bool | None) -> Path | None:
    if cache_dir is False:
        return None
    if cache_dir is True or cache_dir is None:
        return cache_root() / "rendered"
    return Path(cache_dir)


class _ClipCache:
    """One 16-bit ``.npy`` file per rendered clip; ``folder=None`` caches nothing."""

    def __init__(
        self,
        folder: Path | None,
        font: Path,
        sr: int,
        gain: float,
        clip_s: float,
        n_samples: int,
    ) -> None:
        self.folder = folder
        self.n_samples = n_samples
        stat = font.stat()
        # Everything that changes the audio, apart from the piece and variant.
        self._common = (
            f"{_CACHE_VERSION}|{font}|{stat.st_size}|{stat.st_mtime_ns}|{sr}|"
            f"{float(gain)!r}|{float(clip_s)!r}"
        )
        self._warned = False

    def key(
        self, digest: str, program: int, factor: float, start: float, stem: str
    ) -> str:
        """The clip's file name: the piece's file name, then a hash of the rest."""
        text = f"{self._common}|{digest}|{program}|{factor!r}|{float(start)!r}"
        slug = re.sub(r"[^A-Za-z0-9._-]+", "_", stem)[:40]
        return f"{slug}-{hashlib.sha256(text.encode()).hexdigest()[:24]}.npy"

    def load(self, key: str) -> np.ndarray | None:
        if self.folder is None:
            return None
        try:
            audio = np.load(self.folder / key, allow_pickle=False)
        except (OSError, ValueError):
            return None  # absent, partial or corrupt: render again
        if audio.dtype != np.int16 or audio.shape != (self.n_samples,):
            return None
        return audio

    def store(self, key: str, audio: np.ndarray) -> None:
        if self.folder is None:
            return
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            handle, tmp = tempfile.mkstemp(
                dir=self.folder, prefix=".tmp-", suffix=".npy"
            )
            try:
                with os.fdopen(handle, "wb") as out:
                    np.save(out, audio, allow_pickle=False)
                os.replace(tmp, self.folder / key)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            if not self._warned:
                warnings.warn(
                    f"cannot write the rendered-clip cache in {self.folder} ({exc}); "
                    "clips will be rendered again next time",
                    UserWarning,
                    stacklevel=2,
                )
            self._warned = True


# ------------------------------------------------------------------ description


def _describe(
    frame: Any,
    n_pieces: int,
    skipped: list,
    clip_s: float,
    sr: int,
    font: Path,
    cache: Path | None,
) -> str:
    lines = [
        f"Audio clips rendered with FluidSynth and {font.name}: {len(frame)} clips "
        f"of {clip_s:g} s at {sr} Hz from {n_pieces - len(skipped)} of {n_pieces} "
        f"pieces ({len(skipped)} skipped, see 'skipped').",
    ]
    for column in ("composer", "era", "form", "mode", "instrument", "tempo_factor"):
        counts = Counter(frame[column].tolist()) if len(frame) else Counter()
        listed = ", ".join(f"{k} ({n})" for k, n in sorted(counts.items(), key=str))
        lines.append(f"{column}: {listed or '-'}")
    lines.append(f"Clip cache: {cache if cache is not None else 'disabled'}")
    return "\n".join(lines) + "\n"
