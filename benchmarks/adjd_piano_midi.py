"""AdjD on the piano-midi corpus: training throughput and composer macro-F1.

Runs the design card's used-by line verbatim,
``Pipeline([("emb", ADjDEmbedder()), ("clf", MLPClassifier())]).fit(X, y)``, on 40-note
units of the training pieces (two pieces per composer held out), and compares its
macro-F1 on the held-out pieces with the same ``MLPClassifier()`` on the raw
continuous inputs (standardised flattened (pitch, interval) events). Also times
training (epochs, adjacent pairs/s, units encoded/s) on the device it runs on.

Usage (from the repository root; GPU used when present)::

    python benchmarks/adjd_piano_midi.py --out benchmarks/results/adjd_cpu.json
    python benchmarks/adjd_piano_midi.py --transpose --representation continuous
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import sklearn
import torch
from _common import DEFAULT_ROOT, device_name, paper_split, raw_events
from sklearn.metrics import f1_score
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from sklearn_musemb import ADjDEmbedder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT)
    parser.add_argument(
        "--representation", default="two_hot", choices=["two_hot", "continuous"]
    )
    parser.add_argument(
        "--epochs",
        type=int,
        default=None,
        help="override ADjDEmbedder's default max_epochs (10)",
    )
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument(
        "--transpose",
        action="store_true",
        help="augment training pieces into 12 keys + tempo 0.95-1.05",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()

    t0 = time.perf_counter()
    X_train, X_test, dropped, n_pieces = paper_split(
        args.root, args.seed, augment=args.transpose
    )
    load_s = time.perf_counter() - t0
    n_units = len(X_test) + len(X_train) // (12 if args.transpose else 1)
    y_train, y_test = X_train.labels, X_test.labels
    print(
        f"{n_pieces} pieces loaded and split in {load_s:.2f} s; units: "
        f"{n_units} ({len(X_train)} train incl. augmentation, {len(X_test)} test)"
    )

    emb_params = {
        "representation": args.representation,
        "random_state": args.seed,
        "verbose": 1,
    }
    if args.epochs is not None:
        emb_params["max_epochs"] = args.epochs
    if args.batch_size is not None:
        emb_params["batch_size"] = args.batch_size
    # The used-by line, with only reproducibility/representation set on the embedder.
    pipe = Pipeline([("emb", ADjDEmbedder(**emb_params)), ("clf", MLPClassifier())])
    t0 = time.perf_counter()
    pipe.fit(X_train, y_train)
    fit_s = time.perf_counter() - t0
    emb = pipe.named_steps["emb"]
    epoch_s = [row["dur"] for row in emb.history_]
    n_pairs = len(X_train.adjacent_pairs()[0])
    units_per_step = 2 + emb.n_negatives
    f1_emb = f1_score(y_test, pipe.predict(X_test), average="macro")

    raw = make_pipeline(
        FunctionTransformer(raw_events), StandardScaler(), MLPClassifier()
    )
    raw.fit(X_train, y_train)
    f1_raw = f1_score(y_test, raw.predict(X_test), average="macro")

    t0 = time.perf_counter()
    emb.transform(X_test)
    transform_s = time.perf_counter() - t0

    result = {
        "command": "python " + " ".join(sys.argv),
        "device": emb.device_,
        "device_name": device_name(emb.device_),
        "torch": torch.__version__,
        "sklearn": sklearn.__version__,
        "n_pieces": n_pieces,
        "n_composers": int(len(np.unique(X_test.labels))),
        "composers_dropped_too_few_pieces": dropped,
        "n_units": n_units,
        "n_train_units": len(X_train),
        "n_test_units": len(X_test),
        "n_train_pairs": n_pairs,
        "representation": args.representation,
        "max_epochs": emb.max_epochs,
        "batch_size": emb.batch_size,
        "fit_pipeline_s": round(fit_s, 2),
        "epoch_s_median": round(float(np.median(epoch_s)), 3),
        "pairs_per_s": round(n_pairs / float(np.median(epoch_s)), 1),
        "units_encoded_per_s": round(
            units_per_step * n_pairs / float(np.median(epoch_s)), 1
        ),
        "transform_units_per_s": round(len(X_test) / transform_s, 1),
        "final_train_loss": round(float(emb.history_[-1, "train_loss"]), 4),
        "final_pair_accuracy": round(float(emb.history_[-1, "train_pair_accuracy"]), 4),
        "macro_f1_embedding_mlp": round(float(f1_emb), 4),
        "macro_f1_raw_continuous_mlp": round(float(f1_raw), 4),
        "chance_macro_f1_approx": round(1 / len(np.unique(X_test.labels)), 4),
    }
    print(json.dumps(result, indent=2))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
