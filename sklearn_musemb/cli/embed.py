"""``musemb embed``: one embedding per unit of a folder, with where it lies."""

from __future__ import annotations

import argparse
import sys
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from ._common import (
    CLIError,
    add_model_arguments,
    embed_corpus,
    unit_table,
)

#: Output formats by suffix.
FORMATS = (".npz", ".parquet", ".csv")


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "embed",
        help="embed every unit of a MIDI folder with a trained model",
        description=(
            "Cut a MIDI folder (or CSV, or one file) into the model's units and "
            "write one row per unit: file, piece, position, start and end in "
            "seconds, label, title, then the embedding (columns e0, e1, ... in "
            ".parquet/.csv; an 'embeddings' array in .npz)."
        ),
    )
    add_model_arguments(parser)
    parser.add_argument("data", help="MIDI folder, corpus CSV or MIDI file")
    parser.add_argument(
        "--out", required=True, help="output: embeddings.npz, .parquet or .csv"
    )
    parser.set_defaults(func=run_embed)


def load_trained(path: str, device: str | None) -> tuple[Any, dict]:
    """A model file and its unit settings (files of other tools are refused)."""
    from ..persistence import load_model

    model, metadata = load_model(path, device=device, return_metadata=True)
    if "units" not in metadata:
        raise CLIError(
            f"{path} was not written by musemb fit: it does not say how to cut units"
        )
    return model, metadata


def run_embed(args: argparse.Namespace) -> int:
    out = Path(args.out)
    if out.suffix.lower() not in FORMATS:
        raise CLIError(f"--out {out}: the suffix must be one of {', '.join(FORMATS)}")
    _check_writer(out)
    model, metadata = load_trained(args.model, args.device)
    Z, units, start, end, corpus = embed_corpus(
        model, metadata, args.data, n_jobs=args.n_jobs
    )
    table = unit_table(corpus, units, start, end)
    write_table(out, table, Z)
    print(f"{out}: {len(Z)} rows x {Z.shape[1]} dimensions", file=sys.stderr)
    return 0


def _check_writer(out: Path) -> None:
    """Fail before the work when the output format's library is missing."""
    from importlib.util import find_spec

    suffix = out.suffix.lower()
    if suffix in (".csv", ".parquet") and find_spec("pandas") is None:
        raise CLIError(f"writing {suffix} needs pandas (pip install pandas)")
    if suffix == ".parquet" and not (find_spec("pyarrow") or find_spec("fastparquet")):
        raise CLIError(
            "writing .parquet needs pyarrow: pip install 'sklearn-musemb[parquet]', "
            "or write --out embeddings.npz"
        )


def write_table(out: Path, table: dict[str, np.ndarray], Z: np.ndarray) -> None:
    """Write the unit facts and embeddings in the format ``out``'s suffix names."""
    suffix = out.suffix.lower()
    if suffix == ".npz":
        # np.savez's own first parameter is called ``file``, like our column;
        # writing the members directly also guarantees no array is pickled
        with zipfile.ZipFile(out, "w") as archive:
            for name, values in {"embeddings": Z, **table}.items():
                with archive.open(f"{name}.npy", "w") as member:
                    np.lib.format.write_array(
                        member, np.asarray(values), allow_pickle=False
                    )
        return
    import pandas as pd

    frame = pd.DataFrame(table)
    frame = pd.concat(
        [frame, pd.DataFrame(Z, columns=[f"e{i}" for i in range(Z.shape[1])])],
        axis=1,
    )
    if suffix == ".csv":
        frame.to_csv(out, index=False)
    else:
        frame.to_parquet(out, index=False)
