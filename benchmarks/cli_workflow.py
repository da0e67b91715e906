"""What the README's three commands cost on a real folder: fit, index, search.

Runs the ``musemb`` sub-commands on ``--data`` (default: the piano-midi corpus)
as a user would, each in a fresh process (so interpreter start and imports
count), and once more in-process for the figures without start-up:

1. ``musemb fit --method adjd --epochs E`` (reading + cutting + training + writing);
2. ``musemb search`` with an empty cache: reads and embeds the folder, saves the
   index, answers one query;
3. ``musemb search`` again: loads the saved index, answers one query;
4. ``musemb embed --out x.npz``.

Reports wall seconds per step and units per second for indexing. Writes
``cli_workflow.json`` and ``cli_workflow.md`` to ``--out-dir``.

Usage (from the repository root; on a GPU machine add ``--device cuda``)::

    python benchmarks/cli_workflow.py --out-dir benchmarks/results/cpu/cli
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from _common import cpu_model, device_name

from sklearn_musemb.utils.torch_utils import resolve_device

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared/data/piano-midi"


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, str]:
    """Run ``musemb argv`` in a fresh process; wall seconds and its stdout."""
    t0 = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "sklearn_musemb.cli", *argv],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    seconds = time.perf_counter() - t0
    if done.returncode:
        raise SystemExit(f"musemb {' '.join(argv)} failed:\n{done.stderr}")
    return seconds, done.stdout


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--out-dir", type=Path, required=True)
    args = parser.parse_args(argv)
    if not args.data.is_dir():
        raise SystemExit(f"{args.data} is not a folder")
    queries = sorted(args.data.rglob("*.mid"))
    query = queries[len(queries) // 2]

    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "SKLEARN_MUSEMB_CACHE": str(Path(tmp) / "cache")}
        model = str(Path(tmp) / "model.musemb")
        jobs = ["--n-jobs", str(args.n_jobs)]
        steps = {}
        steps["fit"], _ = timed(
            ["fit", "--method", "adjd", "--data", str(args.data), "--out", model,
             "--epochs", str(args.epochs), "--device", args.device, "--quiet",
             *jobs],
            env,
        )  # fmt: skip
        search = [
            "search", model, "--index", str(args.data), "--query", str(query),
            "--start", "10", "--end", "25", "--device", args.device, *jobs,
        ]  # fmt: skip
        steps["search (builds the index)"], _ = timed(search, env)
        steps["search (saved index)"], hits = timed(search, env)
        steps["embed to .npz"], _ = timed(
            ["embed", model, str(args.data), "--out", str(Path(tmp) / "e.npz"),
             "--device", args.device, *jobs],
            env,
        )  # fmt: skip
        n_units = len(np.load(Path(tmp) / "e.npz")["embeddings"])
        steps["musemb --version (start-up only)"], _ = timed(["--version"], env)

    import torch

    device = resolve_device(args.device)
    result = {
        "device": device_name(device),
        "cpu": cpu_model(),
        "torch_threads": torch.get_num_threads(),
        "data": str(args.data),
        "n_units": n_units,
        "epochs": args.epochs,
        "query": str(query.relative_to(args.data)),
        "seconds": steps,
        "hits": hits,
    }
    args.out_dir.mkdir(parents=True, exist_ok=True)
    (args.out_dir / "cli_workflow.json").write_text(json.dumps(result, indent=1))
    lines = [
        f"# musemb on {args.data.name}: {n_units} 40-note units, {result['device']}",
        "",
        f"`python benchmarks/cli_workflow.py --out-dir {args.out_dir}`"
        f" (AdjD, {args.epochs} epoch(s), --n-jobs {args.n_jobs}); each step is a"
        " fresh process, so start-up counts.",
        "",
        "| step | wall s |",
        "|---|---:|",
        *(f"| {name} | {s:.1f} |" for name, s in steps.items()),
        "",
        "Search output:",
        "",
        "```text",
        hits.rstrip(),
        "```",
    ]
    (args.out_dir / "cli_workflow.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return result


if __name__ == "__main__":
    main()
