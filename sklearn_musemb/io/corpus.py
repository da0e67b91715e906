"""Load a labelled folder of MIDI files (a metadata CSV, or one folder per label)."""

from __future__ import annotations

import csv
import math
import os
import sys
import warnings
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

from ..utils.validation import check_positive_int
from .midi import MAX_MIDI_BYTES, MidiReadError, read_midi
from .notes import NoteTable

__all__ = ["load_midi_corpus"]

_ERRORS_OPTIONS = ("skip", "raise")
_MIDI_SUFFIXES = (".mid", ".midi")


@dataclass
class _Entry:
    """One piece to load: where it is and what the metadata says about it."""

    path: Path
    label: str
    title: str
    year: float
    missing: str | None = None  # why the file cannot be found, if it cannot


def load_midi_corpus(
    root: str | os.PathLike,
    metadata: str | os.PathLike | None = "metadata.csv",
    label: str = "composer",
    *,
    errors: str = "skip",
    n_jobs: int | None = None,
    path_column: str = "midi",
    title_column: str | None = "title",
    year_column: str | None = "year",
    verbose: bool = False,
    max_bytes: int | None = MAX_MIDI_BYTES,
    progress: bool = False,
    include: Collection[str] | None = None,
) -> Bunch:
    """Load every MIDI file of a labelled corpus into :class:`NoteTable` objects.

    Either a metadata CSV lists the files (one row per piece, with a path column
    relative to ``root`` and a label column), or, with ``metadata=None``, every
    ``*.mid``/``*.midi`` file under ``root`` is loaded and labelled by the name
    of the folder that holds it. Files are parsed with :func:`read_midi`.

    Parameters
    ----------
    root : str or path-like
        Folder of the corpus.
    metadata : str, path-like or None, default="metadata.csv"
        CSV file (relative to ``root``, or absolute) with a header row. ``None``
        loads all MIDI files under ``root`` (recursively, any letter case of the
        suffix), sorted by path, labelled by their parent folder's name.
    label : str, default="composer"
        CSV column used as the label. Ignored when ``metadata`` is None.
    errors : {"skip", "raise"}, default="skip"
        What to do with a row whose file does not exist or cannot be parsed:
        record it in ``skipped`` (and warn once), or raise.
    n_jobs : int, optional
        Parse files in parallel with joblib (processes by default). ``None``
        means 1 (this process, one file after the other) unless inside a
        :func:`joblib.parallel_config` context, which then decides: under
        ``joblib.parallel_config(backend="dask")`` and a ``distributed.Client``
        the files are parsed by the Dask workers, which must see ``root``
        (see ``docs/dask.md``).
    path_column : str, default="midi"
        CSV column holding each file's path. A path that matches no file
        exactly is looked up case-insensitively in ``root`` (the folder is
        listed once), so ``D850`` finds ``d850``.
    title_column, year_column : str or None, default="title", "year"
        CSV columns for titles and years. A missing column, or None, gives the
        file name's stem as title and NaN as year; an empty or non-numeric year
        is NaN.
    verbose : bool, default=False
        Print skipped files and a summary to stderr (and joblib progress).
    max_bytes : int or None, default=MAX_MIDI_BYTES
        Files larger than this (32 MiB by default) are not read: they are
        skipped (or raise, with ``errors="raise"``). ``None``: no limit. See
        :func:`read_midi`.
    progress : bool, default=False
        Show a progress bar (tqdm, on stderr) while files are parsed, once
        parsing has taken more than a second.
    include : collection of str, default=None
        Load only these files, given as paths relative to ``root`` with ``/``
        separators (``"chopin/op10.mid"``); the others are left out (not
        skipped). ``None`` loads all. Labels, titles and years are those the
        whole corpus would give them (used to update a saved index with the
        files that changed).

    Returns
    -------
    data : sklearn.utils.Bunch
        With keys ``pieces`` (list of NoteTable), ``labels`` (str ndarray),
        ``titles`` (list of str), ``years`` (float ndarray, NaN where
        unknown), ``paths`` (list of resolved Path), ``piece_ids`` (int64
        ndarray ``0..n-1``, the position in ``pieces``), ``skipped`` (list of
        ``(path, reason)`` string pairs) and ``DESCR``. All are in metadata row
        order, without the skipped rows.

    Raises
    ------
    ValueError
        When ``errors`` is not "skip" or "raise", ``max_bytes`` is neither None
        nor a positive integer, or ``label`` or ``path_column`` is not a column
        of the CSV (the message lists them).
    FileNotFoundError
        When ``root`` is not a folder or the metadata file does not exist.
    MidiReadError
        With ``errors="raise"``, for the first row whose file is missing or
        cannot be parsed.

    Examples
    --------
    >>> from sklearn_musemb.io import load_midi_corpus
    >>> data = load_midi_corpus("../shared/data/piano-midi")  # doctest: +SKIP
    >>> len(data.pieces), data.labels[:2]  # doctest: +SKIP
    (337, array(['Albeniz', 'Albeniz'], dtype='<U12'))
    """
    _check_errors(errors)
    if max_bytes is not None:
        max_bytes = check_positive_int(max_bytes, "max_bytes", "load_midi_corpus")
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"corpus root {str(root)!r} is not a folder")

    if metadata is None:
        entries = _entries_from_folders(root)
    else:
        entries = _entries_from_csv(
            root, Path(metadata), label, path_column, title_column, year_column
        )

    if include is not None:
        wanted = set(include)
        entries = [e for e in entries if _relative_key(e.path, root) in wanted]

    skipped: list[tuple[str, str]] = []
    found = []
    for entry in entries:
        if entry.missing is None:
            found.append(entry)
        elif errors == "raise":
            raise MidiReadError(str(entry.path), entry.missing)
        else:
            skipped.append((str(entry.path), entry.missing))

    results = _parse_all(
        [e.path for e in found], n_jobs, verbose, max_bytes, progress=progress
    )
    kept, pieces = [], []
    for entry, result in zip(found, results):
        if isinstance(result, MidiReadError):
            if errors == "raise":
                raise result
            skipped.append((str(entry.path), result.reason))
        else:
            kept.append(entry)
            pieces.append(result)

    _report_skipped(skipped, len(entries), verbose)
    source = (
        f"metadata file {metadata}" if metadata is not None else "one folder per label"
    )
    return _make_bunch(
        pieces=pieces,
        labels=[e.label for e in kept],
        titles=[e.title for e in kept],
        years=[e.year for e in kept],
        paths=[e.path.resolve() for e in kept],
        skipped=skipped,
        origin=f"MIDI corpus loaded from {root} ({source}).",
        details=f"{len(skipped)} files skipped (see 'skipped').",
    )


def _relative_key(path: Path, root: Path) -> str:
    """``path`` relative to ``root``, with ``/`` separators (as ``include`` has it)."""
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def _check_errors(errors: str) -> None:
    """Refuse an ``errors`` option other than "skip" or "raise" (both loaders)."""
    if errors not in _ERRORS_OPTIONS:
        raise ValueError(f"errors must be one of {_ERRORS_OPTIONS}, got {errors!r}")


# ------------------------------------------------------------------ finding files


def _entries_from_folders(root: Path) -> list[_Entry]:
    paths = sorted(
        (Path(folder) / name)
        for folder, _, names in os.walk(root)
        for name in names
        if name.lower().endswith(_MIDI_SUFFIXES)
    )
    return [_Entry(p, p.parent.name, p.stem, math.nan) for p in paths]


def _entries_from_csv(
    root: Path,
    metadata: Path,
    label: str,
    path_column: str,
    title_column: str | None,
    year_column: str | None,
) -> list[_Entry]:
    csv_path = metadata if metadata.is_absolute() else root / metadata
    if not csv_path.is_file():
        raise FileNotFoundError(f"metadata file {str(csv_path)!r} not found")
    resolver = _CaseInsensitivePaths(root)
    entries = []
    # utf-8-sig: spreadsheets often prepend a byte-order mark to the header.
    with open(csv_path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        columns = list(reader.fieldnames or [])
        for name, role in ((label, "label"), (path_column, "path_column")):
            if name not in columns:
                raise ValueError(
                    f"{role} {name!r} is not a column of {csv_path.name}; "
                    f"available columns: {columns}"
                )
        for row in reader:
            raw = (row[path_column] or "").strip()
            path, missing = resolver.resolve(raw)
            if missing is not None:
                missing = f"{missing} ({csv_path.name} line {reader.line_num})"
            title = row.get(title_column) if title_column else None
            entries.append(
                _Entry(
                    path=path,
                    label=row[label] or "",
                    title=title or path.stem,
                    year=_to_year(row.get(year_column) if year_column else None),
                    missing=missing,
                )
            )
    return entries


def _to_year(value: str | None) -> float:
    try:
        return float(value) if value not in (None, "") else math.nan
    except ValueError:
        return math.nan


class _CaseInsensitivePaths:
    """Resolve metadata paths, falling back to a case-insensitive match.

    The folder is walked once, on the first path that does not exist as written.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self._index: dict[str, list[Path]] | None = None

    def resolve(self, raw: str) -> tuple[Path, str | None]:
        """``(path, None)`` when found, else ``(path as written, reason)``."""
        path = Path(raw) if Path(raw).is_absolute() else self.root / raw
        if not raw:
            return path, "empty path in metadata"
        if path.is_file():
            return path, None
        matches = self._lookup(path)
        if len(matches) == 1:
            return matches[0], None
        if len(matches) > 1:
            names = ", ".join(str(m) for m in matches)
            return path, f"file not found; several case-insensitive matches: {names}"
        return path, "file not found"

    def _lookup(self, path: Path) -> list[Path]:
        try:
            relative = path.relative_to(self.root)
        except ValueError:  # an absolute path outside root
            return []
        if self._index is None:
            self._index = {}
            for folder, _, names in os.walk(self.root):
                for name in names:
                    found = Path(folder) / name
                    key = found.relative_to(self.root).as_posix().casefold()
                    self._index.setdefault(key, []).append(found)
        return self._index.get(relative.as_posix().casefold(), [])


# ------------------------------------------------------------------------ parsing


def _read_or_error(
    path: Path, max_bytes: int | None = MAX_MIDI_BYTES
) -> NoteTable | MidiReadError:
    # Errors are returned, not raised, so that one bad file in a parallel batch
    # does not cancel the others.
    try:
        return read_midi(path, max_bytes=max_bytes)
    except MidiReadError as exc:
        return exc


def _parse_all(
    paths: list[Path],
    n_jobs: int | None,
    verbose: bool,
    max_bytes: int | None = MAX_MIDI_BYTES,
    *,
    progress: bool = False,
) -> list[NoteTable | MidiReadError]:
    from joblib import Parallel, delayed

    # n_jobs=None is joblib's (and scikit-learn's) "1 unless a parallel_config
    # context says otherwise": outside one, joblib runs the calls in this process.
    parallel = Parallel(
        n_jobs=n_jobs,
        verbose=10 if verbose else 0,
        # results as they come, for the bar (only then: not every backend can)
        return_as="generator" if progress else "list",
    )
    results = parallel(delayed(_read_or_error)(p, max_bytes) for p in paths)
    if progress:
        from tqdm.auto import tqdm

        results = tqdm(
            results, total=len(paths), desc="reading MIDI", unit="file",
            delay=1.0, file=sys.stderr, leave=False,
        )  # fmt: skip
    return list(results)


def _report_skipped(
    skipped: list[tuple[str, str]],
    total: int,
    verbose: bool,
    what: str = "MIDI files",
) -> None:
    """Print (when verbose) and warn once about the pieces a loader skipped."""
    if verbose:
        for path, reason in skipped:
            print(f"skipped {path}: {reason}", file=sys.stderr)
        print(
            f"loaded {total - len(skipped)} of {total} pieces, skipped {len(skipped)}",
            file=sys.stderr,
        )
    if skipped:
        first = "; ".join(f"{p}: {r}" for p, r in skipped[:3])
        more = f" (and {len(skipped) - 3} more)" if len(skipped) > 3 else ""
        warnings.warn(
            f"skipped {len(skipped)} of {total} {what} (see the 'skipped' "
            f"key): {first}{more}",
            UserWarning,
            stacklevel=3,
        )


# ------------------------------------------------------------------------- result


def _make_bunch(
    *,
    pieces: list[NoteTable],
    labels: list[str],
    titles: list[str],
    years: list[float],
    paths: list[Path],
    skipped: list[tuple[str, str]],
    origin: str,
    details: str,
) -> Bunch:
    """The result of both loaders, one entry per kept piece.

    ``DESCR`` is ``origin``, a line counting pieces, notes and labels (labels in
    sorted order), then ``details``.
    """
    labels_array = np.array(labels, dtype=str)
    counts = Counter(labels_array.tolist())
    per_label = ", ".join(f"{name} ({n})" for name, n in sorted(counts.items()))
    summary = (
        f"{len(pieces)} pieces, {sum(len(p) for p in pieces)} notes, "
        f"{len(counts)} labels: {per_label or '-'}."
    )
    return Bunch(
        pieces=pieces,
        labels=labels_array,
        titles=titles,
        years=np.array(years, dtype=np.float64),
        paths=paths,
        piece_ids=np.arange(len(pieces), dtype=np.int64),
        skipped=skipped,
        DESCR=f"{origin}\n{summary}\n{details}\n",
    )
