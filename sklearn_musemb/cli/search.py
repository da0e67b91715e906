"""``musemb search``: the passages of a folder most like a passage of a query file.

The folder is embedded once per model and its index saved (in the cache folder,
or ``--index-file``) with a fingerprint of the folder's files (path, size,
modification time) and of the model file; a later search reuses it while both
are unchanged and rebuilds it otherwise.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from ._common import (
    MIDI_SUFFIXES,
    CLIError,
    add_model_arguments,
    cut_units,
    embed_corpus,
    format_time,
    load_corpus,
    stage,
    unit_table,
)
from .embed import load_trained


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "search",
        help="find the passages of a MIDI folder most similar to a query passage",
        description=(
            "Query by example: embed the units of QUERY that start between --start "
            "and --end (seconds; default the whole file; a span shorter than a "
            "unit takes the units it overlaps), average them, and list the "
            "nearest units of the indexed folder with file, time span, label "
            "(composer) and distance. The folder's index is built on first use "
            "and reused while the folder and the model are unchanged."
        ),
    )
    add_model_arguments(parser)
    parser.add_argument("--index", required=True, help="MIDI folder (or CSV) to search")
    parser.add_argument("--query", required=True, help="MIDI file of the query")
    parser.add_argument("--start", type=float, default=0.0, help="seconds (default 0)")
    parser.add_argument("--end", type=float, default=math.inf, help="seconds")
    parser.add_argument("-k", "--top", type=int, default=10, help="hits to list")
    parser.add_argument(
        "--exclude-query-file", action="store_true",
        help="leave out hits from the query's own file",
    )  # fmt: skip
    parser.add_argument(
        "--max-per-file", type=int, default=0, metavar="N",
        help="at most N hits from one file (default: no limit)",
    )  # fmt: skip
    parser.add_argument(
        "--index-file", help="where the index is kept (default: the cache folder)"
    )
    parser.add_argument(
        "--rebuild", action="store_true", help="rebuild the index even if current"
    )
    parser.add_argument("--json", action="store_true", help="print hits as JSON")
    parser.set_defaults(func=run_search)


def run_search(args: argparse.Namespace) -> int:
    if args.top < 1:
        raise CLIError(f"-k must be at least 1, got {args.top}")
    if args.max_per_file < 0:
        raise CLIError(f"--max-per-file must be >= 0, got {args.max_per_file}")
    if not args.start < args.end or args.start < 0:
        raise CLIError(f"--start {args.start} must be >= 0 and before --end {args.end}")
    model, metadata = load_trained(args.model, args.device)
    index = folder_index(model, metadata, args)
    query_path = Path(args.query).expanduser()
    if not query_path.is_file():
        raise CLIError(f"--query {query_path}: no such file")
    query = load_corpus(query_path, label=metadata.get("label_column", "composer"))
    units, start, end = cut_units(query, metadata["units"])
    # the passage: units starting inside it, or (shorter than a unit) overlapping it
    inside = (start >= args.start) & (start < args.end)
    if not inside.any():
        inside = (end > args.start) & (start < args.end)
    if not inside.any():
        raise CLIError(
            f"no unit of {query_path.name} lies between {args.start:g} and "
            f"{args.end:g} s (its units span {start.min():.1f}-{end.max():.1f} s)"
        )
    Z = model.transform(units[np.flatnonzero(inside)])
    centroid = Z.mean(axis=0, keepdims=True)
    k = args.top
    if args.exclude_query_file:
        # enough hits to drop every unit of the query's own file and keep top
        k += int(np.sum(index.metadata_["path"] == str(query_path.resolve())))
    while True:
        k = min(k, index.n_samples_fit_)
        distances, rows = index.kneighbors(centroid, n_neighbors=k)
        hits = _hits(index, rows[0], distances[0], query_path, args)
        # with --max-per-file, crowded files can leave fewer than -k hits: ask more
        if len(hits) == args.top or k == index.n_samples_fit_:
            break
        k *= 4
    span = f"{format_time(start[inside].min())}-{format_time(end[inside].max())}"
    query_text = f"{query_path.name} {span} ({int(inside.sum())} units)"
    label_name = metadata.get("label_column", "composer")
    _print(hits, query_text, args.json, label_name)
    return 0


def _hits(index: Any, rows, distances, query_path: Path, args) -> list[dict]:
    meta = index.metadata_
    query_file = str(query_path.resolve())
    hits: list[dict] = []
    per_file: dict[str, int] = {}
    for row, distance in zip(rows, distances, strict=True):
        if row < 0:
            continue
        if args.exclude_query_file and meta["path"][row] == query_file:
            continue
        file = str(meta["file"][row])
        if args.max_per_file and per_file.get(file, 0) >= args.max_per_file:
            continue
        per_file[file] = per_file.get(file, 0) + 1
        hits.append(
            {
                "rank": len(hits) + 1,
                "distance": float(distance),
                "file": file,
                "start": float(meta["start"][row]),
                "end": float(meta["end"][row]),
                "label": str(meta["label"][row]),
                "title": str(meta["title"][row]),
            }
        )
        if len(hits) == args.top:
            break
    return hits


def _print(hits: list[dict], query: str, as_json: bool, label_name: str) -> None:
    if as_json:
        print(json.dumps({"query": query, "hits": hits}, indent=1))
        return
    print(f"query: {query}")
    width = max([len(h["file"]) for h in hits] + [4])
    print(
        f"{'rank':>4}  {'distance':>8}  {'file':{width}s}  {'time':>15}  {label_name}"
    )
    for h in hits:
        span = f"{format_time(h['start'])}-{format_time(h['end'])}"
        print(
            f"{h['rank']:4d}  {h['distance']:8.4f}  {h['file']:{width}s}  "
            f"{span:>15}  {h['label']}"
        )


# -- the saved index ------------------------------------------------------------
def corpus_files(data: Path) -> dict[str, list[int]]:
    """``{relative path: [size, modification time in ns]}`` of a corpus's files.

    For a folder or a corpus CSV: every MIDI and CSV file under the folder; for
    one MIDI file: that file.
    """
    root = data if data.is_dir() else data.parent
    if data.is_file() and data.suffix.lower() in MIDI_SUFFIXES:
        paths = [data]
    else:
        paths = [
            p for p in root.rglob("*")
            if p.suffix.lower() in (*MIDI_SUFFIXES, ".csv") and p.is_file()
        ]  # fmt: skip
    files = {}
    for path in sorted(paths):
        stat = path.stat()
        files[path.relative_to(root).as_posix()] = [stat.st_size, stat.st_mtime_ns]
    return files


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def folder_index(model: Any, metadata: dict, args: argparse.Namespace) -> Any:
    """The saved index of ``args.index`` for this model, updated if stale.

    The sidecar JSON next to the index records what it was built from (the
    corpus, the model file's SHA-256, the unit settings) and every corpus file's
    size and modification time. With the same corpus and model, an unchanged
    folder reuses the index; new, changed and removed MIDI files are embedded or
    dropped and the rest reused; a changed CSV (labels may have changed), another
    model or ``--rebuild`` builds it anew.
    """
    from ..search import EmbeddingIndex
    from ..utils.cache import cache_root

    data = Path(args.index).expanduser().resolve()
    if not data.exists():
        raise CLIError(f"--index {data}: no such folder or file")
    key = {
        "data": str(data),
        "model": _file_digest(Path(args.model)),
        "units": metadata["units"],
        "label_column": metadata.get("label_column", "composer"),
    }
    files = corpus_files(data)
    if args.index_file:
        path = Path(args.index_file)
    else:
        name = hashlib.sha256(f"{data}\0{key['model']}".encode()).hexdigest()[:24]
        path = cache_root() / "indexes" / f"{name}.npz"
    sidecar = path.with_suffix(path.suffix + ".json")
    saved = None if args.rebuild else _saved_index(path, sidecar, key)
    if saved is not None:
        index, saved_files = saved
        if saved_files == files:
            stage(f"using the saved index {path}")
            return index
        changed = [f for f in files if saved_files.get(f) != files[f]]
        removed = [f for f in saved_files if f not in files]
        if not any(f.lower().endswith(".csv") for f in changed + removed):
            stage(
                f"updating the saved index: {len(changed)} new or changed, "
                f"{len(removed)} removed files"
            )
            index = _update_index(index, model, metadata, data, changed + removed, args)
            return _save_index(index, path, sidecar, key, files)
    t0 = stage(f"indexing {data}")
    Z, table, corpus = _embed_corpus(model, metadata, data, None, args)
    index = EmbeddingIndex(device=getattr(model, "device_", "cpu")).fit(Z, table)
    print(
        f"          {len(Z)} units of {len(corpus.pieces)} pieces indexed "
        f"({len(corpus.skipped)} files skipped) in {time.perf_counter() - t0:.1f} s",
        file=sys.stderr,
    )
    return _save_index(index, path, sidecar, key, files)


def _saved_index(path: Path, sidecar: Path, key: dict) -> tuple[Any, dict] | None:
    """The saved index and its file list, if it was built for ``key``."""
    from ..search import EmbeddingIndex

    if not (path.is_file() and sidecar.is_file()):
        return None
    try:
        record = json.loads(sidecar.read_text())
        if record.get("key") != key:
            return None
        return EmbeddingIndex.load(path), record["files"]
    except (ValueError, OSError, KeyError, TypeError) as exc:
        stage(f"rebuilding the index: the saved one is unreadable ({exc})")
        return None


def _save_index(index: Any, path: Path, sidecar: Path, key: dict, files: dict):
    path.parent.mkdir(parents=True, exist_ok=True)
    index.save(path)
    sidecar.write_text(json.dumps({"key": key, "files": files}))
    return index


def _embed_corpus(model: Any, metadata: dict, data: Path, include, args):
    """Embeddings and unit table (with resolved paths) of the corpus at ``data``."""
    Z, units, start, end, corpus = embed_corpus(
        model, metadata, data, n_jobs=args.n_jobs, include=include
    )
    if Z is None:
        return None, None, corpus
    table = unit_table(corpus, units, start, end)
    paths = np.asarray([str(Path(p).resolve()) for p in corpus.paths], dtype=str)
    table["path"] = paths[units.piece]
    return Z, table, corpus


def _update_index(index: Any, model, metadata, data: Path, stale: list[str], args):
    """``index`` without the units of ``stale`` files, plus those that now exist."""
    from ..search import EmbeddingIndex

    keep = ~np.isin(index.metadata_["file"], stale)
    vectors = [index.vectors_[keep]]
    columns = {name: [values[keep]] for name, values in index.metadata_.items()}
    root = data if data.is_dir() else data.parent
    present = [f for f in stale if (root / f).is_file()]
    Z = None
    if present:
        Z, table, _ = _embed_corpus(model, metadata, data, present, args)
    if Z is not None:
        # new piece ids follow the saved ones, so that ids stay unique
        offset = int(index.metadata_["piece"].max()) + 1
        table["piece"] = table["piece"] + offset
        vectors.append(Z)
        for name in columns:
            columns[name].append(table[name])
    merged = {name: np.concatenate(parts) for name, parts in columns.items()}
    if not len(merged["file"]):
        raise CLIError(f"--index {data}: no readable MIDI file left")
    fresh = EmbeddingIndex(**index.get_params())
    return fresh.fit(np.concatenate(vectors), merged)
