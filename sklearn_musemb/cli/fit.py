"""``musemb fit``: train any method on a MIDI folder or corpus CSV."""

from __future__ import annotations

import argparse
import math
import sys
import textwrap
import time
from pathlib import Path

import numpy as np

from . import methods
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
    default = get_method(methods.DEFAULT_METHOD)
    listing = "\n".join(
        f"  {m.name:17s} {m.class_name:24s} {m.summary}"
        + ("  [default]" if m is default else "")
        for m in METHODS.values()
    )
    why = f"default: {default.name}, {methods.DEFAULT_METHOD_REASON}"
    parser = sub.add_parser(
        "fit",
        help="train an embedding method on a MIDI folder or corpus CSV",
        description=(
            "Cut the corpus into units, train the method and write a safe model "
            "file (.musemb: weights as safetensors plus JSON, no pickle) that "
            "embed, search and evaluate read.\n\n"
            + textwrap.fill(f"methods ({why}):", width=79)
            + "\n"
            + listing
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--method", help=f"a method name (see above; {why})")
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
    parser.add_argument(
        "--max-time", type=float, metavar="SECONDS",
        help="wall-clock budget of the training loop: when it runs out, training stops "
        "at the end of the current batch and the model trained so far is written "
        "(with --checkpoint-dir, re-running the command trains on from the last "
        "finished epoch)",
    )  # fmt: skip
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1...")
    parser.add_argument("--seed", type=int, default=0, help="random_state")
    parser.add_argument(
        "--checkpoint-dir",
        help="save a checkpoint after every epoch there; re-running the same "
        "command after an interruption resumes from the last one",
    )
    parser.add_argument("--n-notes", type=int, default=40, help="notes per unit")
    parser.add_argument("--hop", type=int, help="notes between units (default n)")
    parser.add_argument(
        "--chord-ms", type=float, metavar="MS",
        help="cut note units with notes closer than MS ms grouped into chords "
        "(segment_notes(chord_ms=...)); default: the method's chord_ms (35 for "
        "contrastive, 0, the papers' exact onsets, for the others)",
    )  # fmt: skip
    parser.add_argument("--beats", type=int, default=4, help="beats per roll unit")
    parser.add_argument("--label-column", default="composer")
    parser.add_argument("--n-jobs", type=int, help="processes parsing MIDI files")
    parser.add_argument("--quiet", action="store_true", help="no per-epoch table")
    parser.set_defaults(func=run_fit)


def run_fit(args: argparse.Namespace) -> int:
    from ..persistence import save_model

    if args.max_time is not None and not (
        math.isfinite(args.max_time) and args.max_time > 0
    ):
        raise CLIError(
            f"--max-time takes a positive number of seconds, got {args.max_time:g}"
        )
    method = get_method(methods.DEFAULT_METHOD if args.method is None else args.method)
    out = Path(args.out)
    if not out.parent.is_dir():
        raise CLIError(f"--out {out}: folder {out.parent} does not exist")
    if args.method is None:
        stage(f"method {method.name} ({method.class_name}), the default")
    estimator = method.make()
    params = {"device": args.device, "random_state": args.seed}
    params["verbose"] = 0 if args.quiet else 1
    if args.epochs is not None:
        params["max_epochs"] = args.epochs
    params.update(parse_params(args.param))
    set_params(estimator, params)
    callbacks = list(estimator.callbacks or [])
    progress_bar = budget = None
    if not args.quiet:
        from skorch.callbacks import ProgressBar

        progress_bar = ProgressBar()  # batches within an epoch, on stderr
        callbacks.append(progress_bar)
    if args.checkpoint_dir:
        from ..callbacks import TrainingCheckpoint

        callbacks.append(TrainingCheckpoint(args.checkpoint_dir))
    if args.max_time is not None:
        from ..callbacks import TimeBudget

        # last, so the callbacks before it see the batch it stops after
        budget = TimeBudget(args.max_time)
        callbacks.append(budget)
    estimator.set_params(callbacks=callbacks or None)

    t0 = stage(f"reading {args.data}")
    corpus = load_corpus(args.data, n_jobs=args.n_jobs, label=args.label_column)
    if args.chord_ms is None:
        args.chord_ms = float(getattr(estimator, "chord_ms", 0.0))
    elif not (math.isfinite(args.chord_ms) and args.chord_ms >= 0):
        raise CLIError(f"--chord-ms takes a number of ms >= 0, got {args.chord_ms:g}")
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
    limit = "" if budget is None else f", at most {args.max_time:g} s"
    t0 = stage(
        f"fitting {type(estimator).__name__} ({estimator.max_epochs} epochs"
        f"{limit}, device={args.device})"
    )
    try:
        estimator.fit(units, y)
    finally:
        # a stop in mid-epoch skips the epoch end that closes the bar
        if progress_bar is not None and hasattr(progress_bar, "pbar_"):
            progress_bar.pbar_.close()
    seconds = time.perf_counter() - t0
    stopped = budget is not None and budget.stopped_early_
    if stopped:
        _report_budget_stop(estimator, budget, args)
    stage(f"trained on {estimator.device_} in {seconds:.1f} s; writing {out}")
    # progress bars and checkpoints belong to this run, not to the model
    estimator.set_params(callbacks=None)
    metadata = {
        "method": method.name,
        "units": settings,
        "data": str(Path(args.data).resolve()),
        "n_pieces": len(corpus.pieces),
        "n_units": len(units),
        "fit_seconds": round(seconds, 3),
        "label_column": args.label_column,
    }
    if budget is not None:
        metadata["max_time"] = args.max_time
        metadata["stopped_by_max_time"] = stopped
    save_model(estimator, out, metadata=metadata)
    print(out)
    return 0


def _report_budget_stop(estimator, budget, args: argparse.Namespace) -> None:
    """Say on stderr that ``--max-time`` ended the training, and where."""
    history = estimator.history
    # the budget stops after a training batch, before its epoch ends: the last
    # row of the history is that unfinished epoch
    finished = len(history) - 1
    batches = sum(
        1 for batch in history[-1].get("batches", []) if "train_loss" in batch
    )
    resume = ""
    if args.checkpoint_dir and finished:
        resume = (
            f"; run the command again to train on from the checkpoint of epoch "
            f"{finished} in {args.checkpoint_dir}"
        )
    stage(
        f"--max-time {args.max_time:g} s ran out: training stopped after "
        f"{finished} of {estimator.max_epochs} epochs and {_batches(batches)}"
        f" of epoch {finished + 1} ({_batches(budget.steps_)} in this run)"
        f"{resume}"
    )


def _batches(n: int) -> str:
    return "1 batch" if n == 1 else f"{n} batches"
