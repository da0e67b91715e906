"""What the sub-commands share: errors, progress, corpora, units, parameters."""

from __future__ import annotations

import ast
import sys
import time
import warnings
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

#: Suffixes of the MIDI files a folder is scanned for.
MIDI_SUFFIXES = (".mid", ".midi")
#: Skipped files listed by name (the rest are counted).
_SHOWN_SKIPPED = 5


class CLIError(Exception):
    """A failure the user can fix: printed as one line, exit status 1."""


def stage(message: str) -> float:
    """Print a step of the command and return the time it started."""
    print(f"[musemb] {message}", file=sys.stderr, flush=True)
    return time.perf_counter()


def progress(
    items: Iterable[Any], *, desc: str, total: int | None = None, unit: str = "it"
) -> Iterator[Any]:
    """A tqdm bar on stderr that appears once the loop has run for a second."""
    from tqdm.auto import tqdm

    yield from tqdm(
        items, desc=desc, total=total, unit=unit, delay=1.0, file=sys.stderr,
        leave=False, dynamic_ncols=True,
    )  # fmt: skip


def add_model_arguments(parser: Any) -> None:
    """The arguments of every command that reads a model file and MIDI files."""
    parser.add_argument("model", help="model file written by musemb fit")
    parser.add_argument("--device", help="override the model's device (cpu, cuda...)")
    parser.add_argument("--n-jobs", type=int, help="processes parsing MIDI files")


def parse_params(pairs: Sequence[str]) -> dict[str, Any]:
    """``["lr=0.01", "module__hidden_dim=64"]`` -> ``{"lr": 0.01, ...}``.

    Values are Python literals (numbers, strings, tuples, ``None``, ``True``);
    anything else is kept as a string, so ``representation=continuous`` works
    without quotes.
    """
    params = {}
    for pair in pairs:
        name, sep, text = pair.partition("=")
        name = name.strip()
        if not sep or not name.isidentifier():
            raise CLIError(f"--param takes name=value, got {pair!r}")
        try:
            params[name] = ast.literal_eval(text.strip())
        except (ValueError, SyntaxError):
            params[name] = text.strip()
    return params


def set_params(estimator: Any, params: dict[str, Any]) -> Any:
    """Set ``params`` on ``estimator``, naming the valid ones when one is wrong."""
    valid = set(estimator.get_params(deep=False))
    # skorch routes ``module__x`` to the module: the part before ``__`` must be a
    # parameter (module, optimizer_disc...) or one of skorch's own prefixes
    groups = valid | set(getattr(estimator, "prefixes_", ()))
    for name in params:
        if name not in valid and name.partition("__")[0] not in groups:
            raise CLIError(
                f"{type(estimator).__name__} has no parameter {name!r}; valid: "
                + ", ".join(sorted(p for p in valid if not p.startswith("_")))
            )
    current = estimator.get_params(deep=False)
    for name, value in params.items():
        if isinstance(current.get(name), type) and isinstance(value, str):
            params[name] = _class_named(value, current[name], name)
    try:
        return estimator.set_params(**params)
    except (TypeError, ValueError) as exc:
        raise CLIError(f"bad --param for {type(estimator).__name__}: {exc}") from None


def _class_named(text: str, default: type, param: str) -> type:
    """``optimizer=SGD`` -> ``torch.optim.SGD``: a class of the default's package."""
    import importlib

    # torch.optim.adam.Adam -> torch.optim
    module_name = default.__module__.rsplit(".", 1)[0]
    module = importlib.import_module(module_name)
    wanted = text.rsplit(".", 1)[-1].lower()
    for name in dir(module):
        candidate = getattr(module, name)
        if (
            name.lower() == wanted
            and isinstance(candidate, type)
            and issubclass(candidate, default.__mro__[-2])
        ):
            return candidate
    raise CLIError(
        f"{param}={text!r}: expected the name of a class of {module_name} "
        f"(the default is {default.__name__})"
    )


# -- corpora ---------------------------------------------------------------------
def load_corpus(
    data: str | Path,
    *,
    n_jobs: int | None = None,
    label: str = "composer",
    include: list[str] | None = None,
):
    """Load a folder of MIDI files, a corpus CSV, or one MIDI file.

    A folder with a ``metadata.csv`` is read through it (labels from its
    ``label`` column); any other folder is scanned for MIDI files, labelled by
    their parent folder. ``include`` loads only those files (paths relative to
    the corpus folder), and then finding none readable is not an error.
    Returns :func:`~sklearn_musemb.io.load_midi_corpus`'s Bunch plus ``root``
    (what ``files``, the relative paths, are relative to).
    """
    from ..io import load_midi_corpus

    path = Path(data).expanduser()
    if not path.exists():
        raise CLIError(f"{path}: no such file or folder")
    allow_empty = include is not None
    if path.is_file() and path.suffix.lower() in MIDI_SUFFIXES:
        # one file: its folder, without metadata, restricted to it
        root, metadata, include = path.parent, None, [path.name]
    elif path.is_file():
        if path.suffix.lower() != ".csv":
            raise CLIError(
                f"{path}: expected a folder, a .csv corpus file or a MIDI file"
            )
        root, metadata = path.parent, path.name
    else:
        root = path
        metadata = "metadata.csv" if (path / "metadata.csv").is_file() else None
    with warnings.catch_warnings():
        # reported below, one line per file, instead of as a Python warning
        warnings.simplefilter("ignore", UserWarning)
        corpus = load_midi_corpus(
            root, metadata, label=label, n_jobs=n_jobs, progress=True,
            include=include,
        )  # fmt: skip
    for skipped_path, why in corpus.skipped[:_SHOWN_SKIPPED]:
        print(f"          skipped {skipped_path}: {why}", file=sys.stderr)
    if len(corpus.skipped) > _SHOWN_SKIPPED:
        more = len(corpus.skipped) - _SHOWN_SKIPPED
        print(f"          ... and {more} more skipped files", file=sys.stderr)
    if not corpus.pieces and not allow_empty:
        reasons = "; ".join(f"{p}: {why}" for p, why in corpus.skipped[:3])
        raise CLIError(f"{path}: no readable MIDI file ({reasons or 'none found'})")
    corpus.root = root
    corpus.files = [_relative(p, root) for p in corpus.paths]
    return corpus


def _relative(path: Path, root: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(Path(root).resolve()))
    except ValueError:
        return str(path)


# -- units -----------------------------------------------------------------------
def unit_settings(kind: str, args: Any) -> dict[str, Any]:
    """The segmentation a model is trained with, as recorded in its file."""
    if kind == "notes":
        hop = args.hop if args.hop is not None else args.n_notes
        settings = {"kind": "notes", "n_notes": args.n_notes, "hop": hop}
        chord_ms = getattr(args, "chord_ms", None)
        if chord_ms:  # recorded only when used: older model files have none
            settings["chord_ms"] = float(chord_ms)
        return settings
    return {"kind": "beats", "beats": args.beats}


def cut_units(corpus: Any, settings: dict[str, Any]):
    """Units of ``corpus`` cut as ``settings`` say, with their spans in seconds."""
    from ..units import segment_beats, segment_notes
    from ..units.timing import unit_time_spans

    common = {"labels": corpus.labels, "piece_ids": corpus.piece_ids}
    try:
        if settings["kind"] == "notes":
            units = segment_notes(
                corpus.pieces, n_notes=settings["n_notes"], hop=settings["hop"],
                chord_ms=settings.get("chord_ms", 0.0), **common,
            )  # fmt: skip
        else:
            units = segment_beats(corpus.pieces, beats=settings["beats"], **common)
    except ValueError as exc:
        raise CLIError(f"cannot cut units: {exc}") from None
    start, end = unit_time_spans(units, corpus.pieces, piece_ids=corpus.piece_ids)
    return units, start, end


def unit_table(corpus: Any, units: Any, start: np.ndarray, end: np.ndarray):
    """One row of facts per unit: file, piece, position, time span, label, title."""
    files = np.asarray(corpus.files, dtype=str)
    titles = np.asarray(corpus.titles, dtype=str)
    labels = np.asarray(corpus.labels, dtype=str)
    # piece ids are positions in the corpus lists (load_midi_corpus numbers them)
    row = units.piece
    return {
        "file": files[row],
        "piece": units.piece.astype(np.int64),
        "position": units.position.astype(np.int64),
        "start": start.astype(np.float64),
        "end": end.astype(np.float64),
        "label": labels[row],
        "title": titles[row],
    }


def embed_corpus(
    model: Any,
    metadata: dict,
    data: str | Path,
    *,
    n_jobs: int | None = None,
    include: list[str] | None = None,
):
    """Read ``data``, cut it as the model file says and embed every unit.

    Returns ``(Z, units, start, end, corpus)``; ``Z`` is None when ``include``
    names no readable file.
    """
    stage(f"reading {data}")
    corpus = load_corpus(
        data, n_jobs=n_jobs, label=metadata.get("label_column", "composer"),
        include=include,
    )  # fmt: skip
    if not corpus.pieces:
        return None, None, None, None, corpus
    units, start, end = cut_units(corpus, metadata["units"])
    stage(f"embedding {len(units)} units of {len(corpus.pieces)} pieces")
    return embed_units(model, units), units, start, end, corpus


def embed_units(model: Any, units: Any, *, block: int = 16384) -> np.ndarray:
    """``model.transform`` in blocks, with a progress bar on long runs."""
    blocks = range(0, len(units), block)
    parts = [
        model.transform(units[i : i + block])
        for i in progress(blocks, desc="embedding", total=len(blocks), unit="block")
    ]
    return np.concatenate(parts) if parts else np.empty((0, 0), np.float32)


def format_time(seconds: float) -> str:
    """``83.25`` -> ``"1:23.2"``."""
    minutes, rest = divmod(max(float(seconds), 0.0), 60.0)
    return f"{int(minutes)}:{rest:04.1f}"
