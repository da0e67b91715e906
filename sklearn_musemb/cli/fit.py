"""``musemb fit``: train any method on a MIDI folder or corpus CSV."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from ._common import (
    CLIError,
    cut_units,
    load_corpus,
    parse_params,
    set_params,
    stage,
    unit_settings,
)
from .methods import METHODS, get_method


def add_parser(sub: argparse._SubParsersAction) -> None:
    listing = "\n".join(
        f"  {m.name:17s} {m.class_name:24s} {m.summary}" for m in METHODS.values()
    )
    parser = sub.add_parser(
        "fit",
        help="train an embedding method on a MIDI folder or corpus CSV",
        description=(
            "Cut the corpus into units, train the method and write a safe model "
            "file (.musemb: weights as safetensors plus JSON, no pickle) that "
            "embed, search and evaluate read.\n\nmethods:\n" + listing
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--method", required=True, help="a method name (see above)")
    parser.add_argument(
        "--data", required=True,
        help="folder of MIDI files (labels from metadata.csv if present, else from "
        "sub-folder names), or a corpus CSV with midi and composer columns",
    )  # fmt: skip
    parser.add_argument("--out", required=True, help="model file to write (.musemb)")
    parser.add_argument(
        "--param", action="append", default=[], metavar="NAME=VALUE",
        help="any estimator parameter, repeatable: --param lr=0.01 "
        "--param module__hidden_dim=128",
    )  # fmt: skip
    parser.add_argument("--epochs", type=int, help="max_epochs (default: method's)")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1...")
    parser.add_argument("--seed", type=int, default=0, help="random_state")
    parser.add_argument(
        "--checkpoint-dir",
        help="save a checkpoint after every epoch there; re-running the same "
        "command after an interruption resumes from the last one",
    )
    parser.add_argument("--n-notes", type=int, default=40, help="notes per unit")
    parser.add_argument("--hop", type=int, help="notes between units (default n)")
    parser.add_argument("--beats", type=int, default=4, help="beats per roll unit")
    parser.add_argument("--label-column", default="composer")
    parser.add_argument("--n-jobs", type=int, help="processes parsing MIDI files")
    parser.add_argument("--quiet", action="store_true", help="no per-epoch table")
    parser.set_defaults(func=run_fit)


def run_fit(args: argparse.Namespace) -> int:
    from ..persistence import save_model

    method = get_method(args.method)
    out = Path(args.out)
    if not out.parent.is_dir():
        raise CLIError(f"--out {out}: folder {out.parent} does not exist")
    estimator = method.make()
    params = {"device": args.device, "random_state": args.seed}
    params["verbose"] = 0 if args.quiet else 1
    if args.epochs is not None:
        params["max_epochs"] = args.epochs
    params.update(parse_params(args.param))
    set_params(estimator, params)
    callbacks = list(estimator.callbacks or [])
    if not args.quiet:
        from skorch.callbacks import ProgressBar

        callbacks.append(ProgressBar())  # batches within an epoch, on stderr
    if args.checkpoint_dir:
        from ..callbacks import TrainingCheckpoint

        callbacks.append(TrainingCheckpoint(args.checkpoint_dir))
    estimator.set_params(callbacks=callbacks or None)

    t0 = stage(f"reading {args.data}")
    corpus = load_corpus(args.data, n_jobs=args.n_jobs, label=args.label_column)
    settings = unit_settings(method.units, args)
    units, _, _ = cut_units(corpus, settings)
    print(
        f"          {len(corpus.pieces)} pieces ({len(corpus.skipped)} skipped), "
        f"{len(units)} units ({time.perf_counter() - t0:.1f} s)",
        file=sys.stderr,
    )
    y = None
    if method.supervised:
        if len(np.unique(units.labels)) < 2:
            raise CLIError(
                f"{method.name} learns from labels and {args.data} has one label; "
                "give a CSV with a label column or sub-folders per label"
            )
        y = units.labels
    t0 = stage(
        f"fitting {type(estimator).__name__} ({estimator.max_epochs} epochs, "
        f"device={args.device})"
    )
    estimator.fit(units, y)
    seconds = time.perf_counter() - t0
    stage(f"trained on {estimator.device_} in {seconds:.1f} s; writing {out}")
    # progress bars and checkpoints belong to this run, not to the model
    estimator.set_params(callbacks=None)
    save_model(
        estimator,
        out,
        metadata={
            "method": method.name,
            "units": settings,
            "data": str(Path(args.data).resolve()),
            "n_pieces": len(corpus.pieces),
            "n_units": len(units),
            "fit_seconds": round(seconds, 3),
            "label_column": args.label_column,
        },
    )
    print(out)
    return 0
