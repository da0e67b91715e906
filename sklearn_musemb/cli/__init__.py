"""The ``musemb`` command: train, embed, search and evaluate from the shell.

Sub-commands (``musemb <command> --help`` for each):

- ``demo``: fit AdjD on music21's bundled corpus and show what it learned;
- ``fit``: train any method on a MIDI folder or corpus CSV, write a model file;
- ``embed``: one embedding per unit of a folder (parquet, npz or csv);
- ``search``: query by example, the passages of a folder nearest a query passage;
- ``evaluate``: the papers' tasks (adjacency rank, composer F1) on a corpus;
- ``info``: what a model file holds (class, units, training run, versions).

Every error ends the command with one line, ``musemb: error: <reason>``, on
stderr and exit status 1 (2 for bad command lines, 130 on Ctrl-C);
``musemb --traceback <command>`` shows the full Python traceback instead.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from .. import __version__
from . import demo, embed, evaluate, fit, info, search
from ._common import CLIError


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``musemb`` and its sub-commands."""
    parser = argparse.ArgumentParser(
        prog="musemb",
        description="Music embeddings as scikit-learn estimators: train, embed, "
        "search and evaluate MIDI corpora.",
    )
    parser.add_argument("--version", action="version", version=__version__)
    parser.add_argument(
        "--traceback", action="store_true", help="show Python tracebacks on errors"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in (demo, fit, embed, search, evaluate, info):
        command.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``musemb`` console script; returns the exit status."""
    from ..io import MidiReadError
    from ..persistence import ModelFileError

    args = build_parser().parse_args(argv)
    expected = (CLIError, ModelFileError, MidiReadError, OSError, ValueError)
    try:
        return args.func(args)
    except BrokenPipeError:
        # the reader went away (musemb info model | head): not an error of ours
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115
        return 141
    except KeyboardInterrupt:
        print("musemb: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if args.traceback:
            raise
        reason = " ".join(str(exc).split()) or type(exc).__name__
        if not isinstance(exc, expected):
            # not a mistake the message was written for: say what broke, in one line
            reason = f"{type(exc).__name__}: {reason} (--traceback shows where)"
        print(f"musemb: error: {reason}", file=sys.stderr)
        return 1


__all__ = ["build_parser", "main"]
