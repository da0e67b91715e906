"""Load composers from music21's bundled corpus, converted once to MIDI and cached."""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import sys
import tempfile
import warnings
from collections.abc import Iterable
from pathlib import Path

from sklearn.utils import Bunch

from ..utils.cache import cache_root
from ..utils.validation import check_positive_int
from .corpus import _check_errors, _make_bunch, _report_skipped
from .midi import MidiReadError, read_midi
from .notes import NoteTable

__all__ = ["load_music21_corpus"]

#: Environment variable naming the package's cache folder (music21 MIDI files go
#: to its ``music21`` subfolder).

# Roman-numeral analyses (.rntxt) sit in the composer folders next to the scores
# they analyse; they are chord labels, not the music, so they are not loaded.
_EXCLUDED_SUFFIXES = (".rntxt",)
_PREFERRED_SUFFIXES = (".mxl", ".musicxml", ".xml")


def load_music21_corpus(
    composers: str | Iterable[str] = ("bach", "beethoven", "mozart", "haydn"),
    *,
    max_pieces_per_composer: int | None = None,
    cache_dir: str | os.PathLike | None = None,
    errors: str = "skip",
    verbose: bool = False,
) -> Bunch:
    """Load composers from music21's bundled corpus as :class:`NoteTable` objects.

    Each score (MusicXML, Humdrum, ...) is parsed by music21 and converted to
    MIDI once (``music21.midi.translate.streamToMidiFile``, repeats expanded);
    the MIDI bytes are cached on disk and always read back with
    :func:`read_midi`, so pieces from this loader and from
    :func:`load_midi_corpus` are built the same way. A cached load skips
    music21 entirely.

    Parameters
    ----------
    composers : str or iterable of str, default=("bach", "beethoven", "mozart", "haydn")
        Composer folder names of music21's corpus (as accepted by
        ``music21.corpus.getComposer``). Labels are these names as given.
    max_pieces_per_composer : int, optional
        Load only the first N files of each composer, in sorted path order
        (deterministic). A file holding several scores (an Opus) counts once.
    cache_dir : str or path-like, optional
        Folder for the converted MIDI files. Defaults to
        ``$SKLEARN_MUSEMB_CACHE/music21`` when that environment variable is
        set, else ``platformdirs.user_cache_dir("sklearn-musemb")/music21``.
        Entries are keyed by music21's version and the corpus file's path,
        modification time and size, so an upgrade or an edited file converts
        again.
    errors : {"skip", "raise"}, default="skip"
        What to do with a file that music21 cannot parse or convert, or whose
        MIDI cannot be read: record it in ``skipped`` (and warn once) or raise.
        Failures are cached too, so they are not retried. (A score whose repeat
        signs music21 cannot unfold is not a failure: its repeat signs are
        removed and each section is converted once; ``DESCR`` counts them.)
    verbose : bool, default=False
        Print one line per file (converted or cached) and a summary to stderr.

    Returns
    -------
    data : sklearn.utils.Bunch
        Same keys as :func:`load_midi_corpus`: ``pieces``, ``labels``,
        ``titles`` (the file's path in the corpus without suffix, e.g.
        ``"bach/bwv10.7"``; ``"#k"`` is appended for the k-th score of an
        Opus, each of which is a separate piece), ``years`` (all NaN: the
        corpus metadata rarely has them), ``paths`` (the corpus files),
        ``piece_ids``, ``skipped`` and ``DESCR``. Roman-numeral analysis files
        (``.rntxt``) are not loaded, and a piece stored in two formats (e.g.
        ``bwv277.krn`` and ``bwv277.mxl``) is loaded once, from MusicXML.

    Raises
    ------
    ValueError
        When a composer has no scores in the corpus (the message names it),
        ``errors`` is not "skip" or "raise", or ``max_pieces_per_composer``
        is not a positive integer.
    MidiReadError
        With ``errors="raise"``, for the first file that cannot be converted
        or read.

    Examples
    --------
    >>> from sklearn_musemb.io import load_music21_corpus
    >>> data = load_music21_corpus("bach", max_pieces_per_composer=3)  # doctest: +SKIP
    >>> data.titles  # doctest: +SKIP
    ['bach/bwv1.6', 'bach/bwv10.7', 'bach/bwv101.7']
    """
    _check_errors(errors)
    if max_pieces_per_composer is not None:
        max_pieces_per_composer = check_positive_int(
            max_pieces_per_composer, "max_pieces_per_composer", "load_music21_corpus"
        )
    if isinstance(composers, str):
        composers = (composers,)
    cache = _Cache(_cache_folder(cache_dir))

    labels, titles, paths, pieces = [], [], [], []
    skipped: list[tuple[str, str]] = []
    unexpanded = 0
    # All composers are checked before the first (slow) conversion.
    files = {c: _composer_files(c, max_pieces_per_composer) for c in composers}
    for composer, composer_files in files.items():
        for path in composer_files:
            for title, result, expanded in _load_file(path, cache, verbose):
                unexpanded += not expanded
                if isinstance(result, NoteTable):
                    labels.append(composer)
                    titles.append(title)
                    paths.append(path.resolve())
                    pieces.append(result)
                elif errors == "raise":
                    raise result
                else:
                    skipped.append((result.source, result.reason))

    total = len(pieces) + len(skipped)
    _report_skipped(skipped, total, verbose, what="music21 pieces")
    return _make_bunch(
        pieces=pieces,
        labels=labels,
        titles=titles,
        years=[math.nan] * len(pieces),
        paths=paths,
        skipped=skipped,
        origin=(
            "Scores from music21's bundled corpus, converted to MIDI by music21 and "
            "read with read_midi."
        ),
        details=(
            f"{len(skipped)} pieces skipped (see 'skipped'); {unexpanded} converted "
            "without unfolding repeats (repeat signs music21 could not expand).\n"
            f"MIDI cache: {cache.folder}"
        ),
    )


# ----------------------------------------------------------------- corpus files


def _composer_files(composer: str, limit: int | None) -> list[Path]:
    from music21 import corpus

    # A few pieces are stored twice, e.g. bach/bwv277.krn and bach/bwv277.mxl:
    # keep one file per path-without-suffix, MusicXML first.
    best: dict[Path, Path] = {}
    for path in map(Path, corpus.getComposer(composer)):
        if path.suffix.lower() in _EXCLUDED_SUFFIXES:
            continue
        stem = path.with_suffix("")
        if stem not in best or _format_rank(path) < _format_rank(best[stem]):
            best[stem] = path
    files = sorted(best.values())
    if not files:
        raise ValueError(
            f"music21's corpus has no scores for composer {composer!r} "
            "(see music21.corpus.getComposer)"
        )
    return files if limit is None else files[:limit]


def _format_rank(path: Path) -> tuple[int, str]:
    suffix = path.suffix.lower()
    rank = _PREFERRED_SUFFIXES.index(suffix) if suffix in _PREFERRED_SUFFIXES else 99
    return rank, suffix


def _corpus_title(path: Path) -> str:
    from music21 import common

    try:
        relative = path.relative_to(common.getCorpusFilePath())
    except ValueError:  # not inside the bundled corpus (e.g. a local corpus)
        return path.stem
    return relative.with_suffix("").as_posix()


# ------------------------------------------------------------------------- cache


def _cache_folder(cache_dir: str | os.PathLike | None) -> Path:
    if cache_dir is not None:
        return Path(cache_dir)
    return cache_root() / "music21"


class _Cache:
    """Converted MIDI files plus one JSON manifest per corpus file.

    The manifest lists the pieces of a corpus file (one per score) with either
    the name of its MIDI file or the reason it failed; it is written last and
    atomically, so a manifest on disk always describes complete entries.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._write_failed = False

    @staticmethod
    def key(path: Path) -> str:
        import music21

        stat = path.stat()
        text = f"{music21.__version__}\0{path}\0{stat.st_mtime_ns}\0{stat.st_size}"
        slug = re.sub(r"[^A-Za-z0-9._-]+", "_", _corpus_title(path))
        return f"{slug}-{hashlib.sha256(text.encode()).hexdigest()[:16]}"

    def load(self, key: str) -> list[dict] | None:
        """The manifest's pieces with their MIDI bytes, or None when not cached."""
        try:
            manifest = json.loads((self.folder / f"{key}.json").read_text())
            for piece in manifest["pieces"]:
                if "midi" in piece:
                    piece["data"] = (self.folder / piece["midi"]).read_bytes()
        except (OSError, ValueError, KeyError, TypeError):
            return None  # absent, partial or unreadable: convert again
        return manifest["pieces"]

    def store(self, key: str, pieces: list[dict]) -> None:
        """Write MIDI files, then the manifest; warn once if the folder is read-only."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            manifest = []
            for piece in pieces:
                entry = {k: v for k, v in piece.items() if k != "data"}
                if "data" in piece:
                    entry["midi"] = f"{key}-{piece['index']}.mid"
                    self._write(entry["midi"], piece["data"])
                manifest.append(entry)
            self._write(f"{key}.json", json.dumps({"pieces": manifest}).encode())
        except OSError as exc:
            if not self._write_failed:
                warnings.warn(
                    f"cannot write the music21 MIDI cache in {self.folder} ({exc}); "
                    "pieces will be converted again next time",
                    UserWarning,
                    stacklevel=4,
                )
            self._write_failed = True

    def _write(self, name: str, data: bytes) -> None:
        handle, tmp = tempfile.mkstemp(dir=self.folder, prefix=".tmp-")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            os.replace(tmp, self.folder / name)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


# -------------------------------------------------------------------- conversion


def _load_file(
    path: Path, cache: _Cache, verbose: bool
) -> list[tuple[str, NoteTable | MidiReadError, bool]]:
    """``(title, table or error, repeats expanded)`` for each score of a file."""
    key = cache.key(path)
    pieces = cache.load(key)
    if pieces is None:
        pieces = _convert(path)
        cache.store(key, pieces)
        action = "converted"
    else:
        action = "cached"
    if verbose:
        print(f"{action} {path} ({len(pieces)} piece(s))", file=sys.stderr)

    out = []
    for piece in pieces:
        name = str(path) if len(pieces) == 1 else f"{path}#{piece['index']}"
        expanded = piece.get("repeats_expanded", True)
        if "data" not in piece:
            out.append((piece["title"], MidiReadError(name, piece["error"]), expanded))
            continue
        try:
            table = read_midi(piece["data"], path_hint=name)
        except MidiReadError as exc:
            table = exc
        out.append((piece["title"], table, expanded))
    return out


def _convert(path: Path) -> list[dict]:
    """Parse one corpus file with music21; one dict per score, MIDI bytes or error."""
    from music21 import converter, stream

    title = _corpus_title(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # music21 warns freely about notation
        try:
            # music21's own pickle cache is bypassed: this module caches MIDI.
            parsed = converter.parse(path, forceSource=True, storePickle=False)
        except Exception as exc:  # music21 raises many unrelated exception types
            return [{"index": 1, "title": title, "error": _failure("parse", exc)}]
        if isinstance(parsed, stream.Opus):
            scores = list(parsed.scores)
            if not scores:
                return [{"index": 1, "title": title, "error": "Opus without scores"}]
            return [
                _to_midi(score, f"{title}#{i}", i) for i, score in enumerate(scores, 1)
            ]
        return [_to_midi(parsed, title, 1)]


def _to_midi(score: object, title: str, index: int) -> dict:
    from music21.midi import translate
    from music21.repeat import ExpanderException

    piece: dict = {"index": index, "title": title}
    try:
        try:
            data = translate.streamToMidiFile(score).writestr()
        except ExpanderException:
            # Repeat signs music21 cannot unfold (badly formed in the source):
            # keep the notes, each section played once.
            _remove_repeat_signs(score)
            data = translate.streamToMidiFile(score).writestr()
            piece["repeats_expanded"] = False
    except Exception as exc:  # music21 raises many unrelated exception types
        return {**piece, "error": _failure("convert", exc)}
    return {**piece, "data": bytes(data)}


def _remove_repeat_signs(score: object) -> None:
    from music21 import bar, repeat

    for mark in list(
        score.recurse().getElementsByClass((repeat.RepeatMark, repeat.RepeatExpression))
    ):
        mark.activeSite.remove(mark)
    for measure in score.recurse().getElementsByClass("Measure"):
        for side in ("leftBarline", "rightBarline"):
            if isinstance(getattr(measure, side), bar.Repeat):
                setattr(measure, side, bar.Barline("regular"))


def _failure(step: str, exc: Exception) -> str:
    return f"music21 could not {step} it ({type(exc).__name__}: {exc})"
