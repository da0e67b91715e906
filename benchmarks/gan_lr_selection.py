"""Choose the GAN learning rates of the adversarial methods on validation pieces.

Model selection without the test pieces: the training pieces of the paper's split
(:func:`_common.paper_split`, seed 0) lose one more piece per composer (composers
with one training piece keep it), which becomes the validation set; the rest is
augmented as in the paper (12 keys, tempo 0.95-1.05). Each configuration trains
for the same number of batches (``--steps``, a
:class:`~sklearn_musemb.callbacks.TimeBudget` step budget, so the machine's load
does not change the result) and is scored by the geometric mean adjacency rank
among 100 on the validation units.

A configuration is a JSON object of estimator parameters; ``"method"`` names the
class (default ``AdjDEmbedder``). Prints one JSON line per configuration and, with
``--out``, appends it to that file.

Usage (from the repository root)::

    python benchmarks/gan_lr_selection.py --steps 1000 --configs \\
        '[{"adversarial": false},
          {"adversarial": true, "optimizer_gen__lr": 1e-4, "optimizer_disc__lr": 1e-4}]'
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch
from _common import (
    DEFAULT_ROOT,
    device_name,
    geometric_mean,
    paper_split,
)

from sklearn_musemb import embedders
from sklearn_musemb.callbacks import TimeBudget
from sklearn_musemb.metrics import adjacency_ranks


def validation_split(root: Path, seed: int):
    """(augmented fitting units, validation units) from the paper's training pieces."""
    fit, val, _, _ = paper_split(root, seed, augment=True, validation=True)
    return fit, val


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT)
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--configs", type=json.loads, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()

    fit, val = validation_split(args.root, args.seed)
    print(f"fit {len(fit)} units, validation {len(val)} units", flush=True)
    for config in args.configs:
        params = dict(config)
        cls = getattr(embedders, params.pop("method", "AdjDEmbedder"))
        budget = TimeBudget(seconds=None, max_steps=args.steps)
        emb = cls(max_epochs=50, random_state=args.seed, callbacks=[budget], **params)
        start = time.perf_counter()
        emb.fit(fit)
        embedding = emb.transform(val)
        ranks = adjacency_ranks(embedding, val, random_state=args.seed)
        row = {
            "command": "python " + " ".join(sys.argv),
            "method": cls.__name__,
            "params": params,
            "steps": budget.steps_,
            "validation_rank": round(geometric_mean(ranks), 2),
            "embedding_mean_std": round(float(embedding.std(0).mean()), 3),
            "fit_s": round(time.perf_counter() - start),
            "device": device_name(emb.device_),
            "torch": torch.__version__,
        }
        print(json.dumps(row), flush=True)
        if args.out:
            with args.out.open("a") as f:
                f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
