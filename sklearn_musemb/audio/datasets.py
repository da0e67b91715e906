"""Readers for the papers' own annotations, from local files (nothing is downloaded).

* Dim-Sim (Lee et al. 2020): about 4,000 triplets of 3-second excerpts of Million
  Song Dataset tracks, each with the human choice of which of two songs sounds
  more like the anchor; 426 of them have an agreement of 90% or more.
* MSD tag sets (Schindler & Knees 2019): AllMusic genre, style, mood and theme
  tags per MSD track, one file per tag set.
"""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["TRIPLET_COLUMNS", "load_dimsim_triplets", "load_msd_tag_sets"]

#: Columns of :func:`load_dimsim_triplets`'s result, in order.
TRIPLET_COLUMNS = (
    "anchor",
    "positive",
    "negative",
    "anchor_start_s",
    "positive_start_s",
    "negative_start_s",
    "agreement",
)

# Roles of the Dim-Sim CSV and the column names tried for each, in order. The
# first names are those of the published file (read by public evaluation code
# as anchor_id, anchor_start_seconds, song1_id, ..., song1_vote).
_DIMSIM_NAMES: dict[str, tuple[str, ...]] = {
    "anchor": ("anchor_id", "anchor"),
    "song1": ("song1_id", "song1"),
    "song2": ("song2_id", "song2"),
    "positive": ("positive_id", "positive"),
    "negative": ("negative_id", "negative"),
    "anchor_start": ("anchor_start_seconds", "anchor_start"),
    "song1_start": ("song1_start_seconds", "song1_start"),
    "song2_start": ("song2_start_seconds", "song2_start"),
    "positive_start": ("positive_start_seconds", "positive_start"),
    "negative_start": ("negative_start_seconds", "negative_start"),
    "song1_vote": ("song1_vote", "song1_votes"),
    "song2_vote": ("song2_vote", "song2_votes"),
    "agreement": ("agreement", "agreement_rate", "agreement_score"),
}
_TAG_SUFFIXES = (".cls", ".tsv", ".txt")
_HEADER_WORDS = frozenset({"track_id", "trackid", "track", "tid", "msd_track_id"})


def load_dimsim_triplets(
    path: str | os.PathLike,
    *,
    min_agreement: float | None = None,
    columns: Mapping[str, str] | None = None,
) -> Any:
    """Read Dim-Sim similarity triplets as (anchor, positive, negative) rows.

    The published CSV has one row per triplet: ``anchor_id``,
    ``anchor_start_seconds``, ``song1_id``, ``song1_start_seconds``,
    ``song2_id``, ``song2_start_seconds`` and ``song1_vote`` (1 when listeners
    found song 1 closer to the anchor, else 0). The positive is the song the
    listeners chose and the negative the other one. Agreement is read from an
    ``agreement`` column when there is one (a fraction, or a percentage above
    1), else computed from vote counts when both ``song1_vote`` and
    ``song2_vote`` are present (majority share; a tie gives 0.5 and song 1 as
    positive); a file with only a 0/1 ``song1_vote`` has no agreement (NaN).
    Files already in anchor/positive/negative form (columns ``anchor``,
    ``positive``, ``negative``) are read as they are.

    Parameters
    ----------
    path : str or path-like
        The CSV file (header row, comma-separated).
    min_agreement : float, optional
        Keep only triplets with at least this agreement, in [0.5, 1] (0.9
        gives Dim-Sim's 426 high-agreement triplets).
    columns : mapping, optional
        File column for a role when it is named otherwise: roles ``anchor``,
        ``song1``, ``song2``, ``positive``, ``negative``, ``anchor_start``,
        ``song1_start``, ``song2_start``, ``positive_start``,
        ``negative_start``, ``song1_vote``, ``song2_vote``, ``agreement``.

    Returns
    -------
    triplets : pandas.DataFrame
        Columns ``TRIPLET_COLUMNS``: track ids (str), excerpt starts in
        seconds (NaN when the file has none) and agreement (NaN when unknown),
        in file order, index reset.

    Raises
    ------
    FileNotFoundError
        When the file does not exist.
    ValueError
        When a needed column is missing (the message lists the file's columns),
        a vote or agreement is not a number, ``columns`` names an unknown role
        or column, or ``min_agreement`` is asked of a file without agreement.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> tmp = tempfile.TemporaryDirectory()
    >>> folder = pathlib.Path(tmp.name)
    >>> _ = (folder / "dim-sim.csv").write_text(
    ...     "anchor_id,anchor_start_seconds,song1_id,song1_start_seconds,"
    ...     "song2_id,song2_start_seconds,song1_vote,song2_vote\\n"
    ...     "TRA,10,TRB,20,TRC,30,9,1\\n"
    ...     "TRD,0,TRE,5,TRF,5,2,3\\n")
    >>> triplets = load_dimsim_triplets(folder / "dim-sim.csv")
    >>> triplets[["anchor", "positive", "negative", "agreement"]].values.tolist()
    [['TRA', 'TRB', 'TRC', 0.9], ['TRD', 'TRF', 'TRE', 0.6]]
    >>> len(load_dimsim_triplets(folder / "dim-sim.csv", min_agreement=0.9))
    1
    >>> tmp.cleanup()
    """
    pd = _pandas()

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Dim-Sim triplet file {str(path)!r} not found")
    table = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    role = _dimsim_roles(table.columns, columns or {}, path)

    def column(name: str) -> np.ndarray:
        return table[role[name]].str.strip().to_numpy(dtype=object)

    def number(name: str) -> np.ndarray:
        if name not in role:
            return np.full(len(table), np.nan)
        return _numbers(table[role[name]], role[name], path)

    anchor = column("anchor")
    agreement = number("agreement")
    if np.nanmax(agreement, initial=0.0) > 1:  # percentages
        agreement = agreement / 100.0
    if "positive" in role:
        positive, negative = column("positive"), column("negative")
        starts = number("positive_start"), number("negative_start")
    else:
        first_wins, vote_agreement = _votes(number, role, path)
        agreement = np.where(np.isnan(agreement), vote_agreement, agreement)
        song1, song2 = column("song1"), column("song2")
        positive = np.where(first_wins, song1, song2)
        negative = np.where(first_wins, song2, song1)
        start1, start2 = number("song1_start"), number("song2_start")
        starts = (
            np.where(first_wins, start1, start2),
            np.where(first_wins, start2, start1),
        )
    out = pd.DataFrame(
        {
            "anchor": anchor,
            "positive": positive,
            "negative": negative,
            "anchor_start_s": number("anchor_start"),
            "positive_start_s": starts[0],
            "negative_start_s": starts[1],
            "agreement": agreement,
        },
        columns=list(TRIPLET_COLUMNS),
    )
    if min_agreement is not None:
        if not 0 <= min_agreement <= 1:
            raise ValueError(f"min_agreement must be in [0, 1], got {min_agreement}")
        if out["agreement"].isna().all():
            raise ValueError(
                f"{path.name} has no agreement information (no agreement column, "
                "no song1_vote/song2_vote counts): min_agreement cannot filter it"
            )
        out = out[out["agreement"] >= min_agreement].reset_index(drop=True)
    return out


def _dimsim_roles(
    available: Any, mapping: Mapping[str, str], path: Path
) -> dict[str, str]:
    """Role -> file column, from ``mapping`` first, then the known names."""
    available = [str(c).strip() for c in available]
    unknown = set(mapping) - set(_DIMSIM_NAMES)
    if unknown:
        raise ValueError(
            f"unknown Dim-Sim column role(s) {sorted(unknown)}; roles are "
            f"{sorted(_DIMSIM_NAMES)}"
        )
    role = {}
    for name, candidates in _DIMSIM_NAMES.items():
        if name in mapping:
            if mapping[name] not in available:
                raise ValueError(
                    f"column {mapping[name]!r} (for {name}) is not in {path.name}; "
                    f"its columns are {available}"
                )
            role[name] = mapping[name]
            continue
        found = [c for c in candidates if c in available]
        if found:
            role[name] = found[0]
    oriented = {"anchor", "positive", "negative"} <= set(role)
    paired = {"anchor", "song1", "song2", "song1_vote"} <= set(role)
    if not (oriented or paired):
        raise ValueError(
            f"{path.name} is not a Dim-Sim triplet file: expected columns "
            "anchor_id, song1_id, song2_id and song1_vote (or anchor, positive, "
            f"negative), found {available}; map other names with columns=..."
        )
    if not oriented:  # a file with both layouts is read as the oriented one
        for name in ("positive", "negative", "positive_start", "negative_start"):
            role.pop(name, None)
    return role


def _numbers(values: Any, name: str, path: Path) -> np.ndarray:
    out = np.empty(len(values), dtype=np.float64)
    for i, value in enumerate(values):
        text = str(value).strip()
        try:
            out[i] = float(text) if text else math.nan
        except ValueError:
            raise ValueError(
                f"{path.name}, row {i + 2}: {name} must be a number, got {text!r}"
            ) from None
    return out


def _votes(number: Any, role: dict, path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Whether song 1 is the positive, and the agreement the votes imply."""
    votes1 = number("song1_vote")
    if np.isnan(votes1).any():
        raise ValueError(f"{path.name}: song1_vote is empty in some rows")
    if "song2_vote" in role:
        votes2 = number("song2_vote")
        total = votes1 + votes2
        with np.errstate(invalid="ignore", divide="ignore"):
            agreement = np.maximum(votes1, votes2) / total
        return votes1 >= votes2, agreement
    if not np.isin(votes1, (0.0, 1.0)).all():
        raise ValueError(
            f"{path.name}: song1_vote must be 0 or 1 without a song2_vote column"
        )
    return votes1 == 1, np.full(len(votes1), np.nan)


def _pandas() -> Any:
    """pandas, or an ImportError that says how to install it."""
    try:
        import pandas
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError(
            "this function returns a pandas DataFrame and needs pandas: "
            "pip install 'sklearn-musemb[audio]'"
        ) from error
    return pandas


# -------------------------------------------------------------------- MSD tags


def load_msd_tag_sets(
    path: str | os.PathLike | Mapping[str, str | os.PathLike],
    *,
    how: str = "outer",
    sep: str = "\t",
) -> Any:
    """Read MSD tag-set files into one tag-list column per set.

    Each file holds one tag set (genres, styles, moods, themes...) in the
    ``.cls`` layout of the MSD benchmark partitions: one line per track, the
    MSD track id then its tags, separated by ``sep``
    (``TRAAAAK128F9318786<TAB>Pop_Rock<TAB>Dance``). Lines starting with ``#``
    and blank lines are skipped, as is a header line whose first field is
    ``track_id``; a track on several lines gets the tags of all of them
    (duplicates dropped, first-seen order kept).

    Parameters
    ----------
    path : str, path-like or mapping
        A mapping ``{set name: file}``; a folder, whose ``*.cls``, ``*.tsv``
        and ``*.txt`` files are the sets (named by file stem); or one file
        (one set, named by its stem).
    how : {"outer", "inner"}, default="outer"
        Tracks in any set (a set without the track gives an empty list), or
        only tracks in every set.
    sep : str, default="\\t"
        Field separator.

    Returns
    -------
    tags : pandas.DataFrame
        Indexed by track id (sorted), one column per set (in the mapping's
        order, or sorted by name), each cell a list of str. Pass it directly to
        :class:`~sklearn_musemb.tags.LSITagTransformer`, which prefixes each
        tag with its set's name.

    Raises
    ------
    FileNotFoundError
        When a file or the folder does not exist, or a folder has no tag files.
    ValueError
        When a file holds no track, ``how`` is unknown, or a line has a track
        id but an empty tag field.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> tmp = tempfile.TemporaryDirectory()
    >>> folder = pathlib.Path(tmp.name)
    >>> _ = (folder / "genres.cls").write_text("TR1\\tPop_Rock\\nTR2\\tJazz\\tBlues\\n")
    >>> _ = (folder / "moods.cls").write_text("# moods\\nTR1\\tCalm\\n")
    >>> tags = load_msd_tag_sets(folder)
    >>> tags.loc["TR2"].tolist()
    [['Jazz', 'Blues'], []]
    >>> load_msd_tag_sets(folder, how="inner").index.tolist()
    ['TR1']
    >>> tmp.cleanup()
    """
    pd = _pandas()

    if how not in ("outer", "inner"):
        raise ValueError(f"how must be 'outer' or 'inner', got {how!r}")
    files = _tag_files(path)
    sets = {name: _read_tag_file(file, sep) for name, file in files.items()}
    tracks = set.union(*(set(s) for s in sets.values()))
    if how == "inner":
        tracks = set.intersection(*(set(s) for s in sets.values()))
    index = sorted(tracks)
    data = {name: [list(s.get(t, ())) for t in index] for name, s in sets.items()}
    return pd.DataFrame(data, index=pd.Index(index, name="track_id"))


def _tag_files(path: Any) -> dict[str, Path]:
    if isinstance(path, Mapping):
        if not path:
            raise ValueError("load_msd_tag_sets needs at least one tag-set file")
        files = {str(name): Path(file) for name, file in path.items()}
    else:
        folder = Path(path)
        if folder.is_dir():
            found = sorted(
                p
                for p in folder.iterdir()
                if p.is_file() and p.suffix.lower() in _TAG_SUFFIXES
            )
            if not found:
                raise FileNotFoundError(
                    f"no tag-set files ({', '.join(_TAG_SUFFIXES)}) in {folder}"
                )
            files = {p.stem: p for p in found}
        else:
            files = {folder.stem: folder}
    for name, file in files.items():
        if not file.is_file():
            raise FileNotFoundError(f"tag-set file {str(file)!r} ({name}) not found")
    return files


def _read_tag_file(path: Path, sep: str) -> dict[str, list[str]]:
    tags: dict[str, list[str]] = {}
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle, delimiter=sep, quoting=csv.QUOTE_NONE)
        for number, fields in enumerate(reader, 1):
            fields = [f.strip() for f in fields]
            if not fields or not fields[0] or fields[0].startswith("#"):
                continue
            if number == 1 and fields[0].lower() in _HEADER_WORDS:
                continue
            values = [f for f in fields[1:] if f]
            if not values:
                raise ValueError(
                    f"{path.name}, line {number}: track {fields[0]!r} has no tags "
                    f"(fields are separated by {sep!r})"
                )
            known = tags.setdefault(fields[0], [])
            known.extend(v for v in values if v not in known)
    if not tags:
        raise ValueError(f"{path.name} holds no track (empty or only comments)")
    return tags
