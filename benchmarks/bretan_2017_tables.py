"""Tables 2 and 3 of Bretan et al. (2017) on piano-midi: seven piano-roll models.

The paper's protocol (sections 3 and 5): 4-beat units (60 x 96 onset piano rolls,
24 ticks per beat, only x/4 stretches of each piece); two whole pieces per
composer held out (composers with fewer than 3 pieces left out, as in
``bretan_heck_tables.py``); every piece transposed into all 12 keys; duplicate
units removed from the training items. The seven models
(:mod:`sklearn_musemb.embedders.piano_roll`) each train for ``--budget`` seconds
and/or ``--steps`` batches (:class:`sklearn_musemb.callbacks.TimeBudget`), then
every embedding is scored on the held-out pieces:

- Table 2, forward prediction: :class:`sklearn_musemb.tasks.ForwardPredictor`
  with the paper's 3 stacked LSTMs of 400 (cosine loss) reads 7 embeddings and
  predicts the 8th; the true 8th is ranked among 1000 (999 random held-out units
  of other pieces/positions) by cosine similarity. Median, IQR, standard
  deviation and skew of the ranks; pairwise Welch t-tests with Bonferroni
  correction and Levene's test (:func:`sklearn_musemb.metrics.
  compare_rank_distributions`); a box plot. The LSTM trains on the training
  pieces in their original key for ``--lstm-budget`` seconds / ``--lstm-steps``
  batches; it is scored on the held-out pieces in all 12 keys (the paper's
  325,219 test sequences imply transposed test pieces too).
- Table 3, composer classification: :func:`sklearn_musemb.tasks.
  make_composer_probe` (one hidden layer of 50; ReLU, as scikit-learn has no
  ELU) trained on the training pieces' embeddings in the original key, scored
  on the held-out pieces in the original key: micro-, weighted- and macro-F1
  (the paper's "Macro-F1" is described as support-weighted).
- Paper 000's adjacency ranking (true neighbour among 100, geometric mean), on
  the held-out pieces in the original key, so the two model families share a
  table with ``bretan_heck_tables.py``.

Writes ``tables_2017.md``, ``tables_2017.json`` and ``ranks_2017_boxplot.png`` to
``--out-dir`` after every model (a stopped run keeps what it finished), and, with
``--embeddings-dir``, each model's embeddings (``.npz``).

Usage (from the repository root; the GPU is used when torch finds one)::

    python benchmarks/bretan_2017_tables.py --budget 200 --lstm-budget 90 \\
        --out-dir benchmarks/results/cpu/bretan_2017
    python benchmarks/bretan_2017_tables.py --budget 3600 --lstm-budget 1200 \\
        --out-dir benchmarks/results/gpu/bretan_2017            # on a GPU
    python benchmarks/bretan_2017_tables.py --models context note_drop \\
        --steps 50 --lstm-steps 20 --out-dir /tmp/t2017       # a quick look
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
from _common import (
    DEFAULT_ROOT,
    device_name,
    geometric_mean,
    paper_split,
    rank_boxplot,
)
from bretan_heck_tables import rank_statistics
from sklearn.decomposition import PCA
from sklearn.metrics import f1_score
from sklearn.utils import get_tags

from sklearn_musemb import (
    Transposer,
    segment_beats,
)
from sklearn_musemb.callbacks import TimeBudget
from sklearn_musemb.embedders import (
    ComposerRollEmbedder,
    ContextRollEmbedder,
    DenoisingRollEmbedder,
    RegularizedRollEmbedder,
)
from sklearn_musemb.encodings import piano_roll
from sklearn_musemb.metrics import adjacency_ranks
from sklearn_musemb.nn import CosineDistanceLoss
from sklearn_musemb.tasks import ForwardPredictor, make_composer_probe
from sklearn_musemb.units import unit_content_ids

#: The seven models of the paper, in its order: (class, parameters).
MODELS = {
    "note_drop": (DenoisingRollEmbedder, {"corruption": "note_drop"}),
    "beat_drop": (DenoisingRollEmbedder, {"corruption": "beat_drop"}),
    "octave_split": (DenoisingRollEmbedder, {"corruption": "octave_split"}),
    "next": (ContextRollEmbedder, {"target": "next"}),
    "context": (ContextRollEmbedder, {"target": "context"}),
    "composer": (ComposerRollEmbedder, {}),
    "regularized": (RegularizedRollEmbedder, {}),
}
TITLES = {
    "pca": "reference: PCA-100 of the roll",
    "random": "reference: random 100-d vectors",
    "note_drop": "Autoencoder - Note Drop",
    "beat_drop": "Autoencoder - Beat Drop",
    "octave_split": "Autoencoder - Octave Split",
    "next": "Predict Forward",
    "context": "Predict Context",
    "composer": "Composer Discrimination",
    "regularized": "Regularized",
}
#: Paper Table 2 (median Rank@1000, spread, skew) and Table 3 (micro-F1, "macro"-F1).
PAPER_T2 = {
    "note_drop": (32, 120, 2.18),
    "beat_drop": (32, 106, 2.51),
    "octave_split": (52, 131, 2.22),
    "next": (17, 47, 4.0),
    "context": (15, 43, 3.98),
    "composer": (50, 129, 1.92),
    "regularized": (30, 87, 2.31),
}
PAPER_T3 = {
    "note_drop": (0.14, 0.48),
    "beat_drop": (0.13, 0.47),
    "octave_split": (0.12, 0.43),
    "next": (0.14, 0.52),
    "context": (0.14, 0.53),
    "composer": (0.29, 0.76),
    "regularized": (0.21, 0.66),
}
PAPER_UNITS = (4_682_293, 3_997_873)
NO_PAPER = ("-", "-", "-")
#: Embeddings that need no training on adjacency, to read the figures against.
REFERENCES = {
    "pca": "PCA-100 of the flattened roll",
    "random": "random 100-d vectors",
}


def load_split(root: Path, seed: int, validation: bool = False) -> dict:
    """Beat units of the corpus, split by piece, both sides in all 12 keys.

    With ``validation``, the test pieces are set aside unread and one more piece
    per composer is taken out of the training pieces to score on instead.
    """
    train, test, dropped, n_pieces = paper_split(
        root, seed, augment=False, segment=segment_beats, validation=validation
    )
    train12 = Transposer().fit_transform(train)
    test12 = Transposer().fit_transform(test)
    return {
        "train": train,
        "test": test,
        "train12": train12,
        "test12": test12,
        "dropped": dropped,
        "n_pieces": n_pieces,
        "n_train_units_12": len(train12),
        "n_train_distinct_12": int(unit_content_ids(train12).max() + 1),
    }


def train_model(name: str, data: dict, args) -> tuple[object, dict]:
    cls, params = MODELS[name]
    budget = TimeBudget(args.budget, max_steps=args.steps)
    emb = cls(
        **params,
        embedding_dim=args.embedding_dim,
        batch_size=args.batch_size,
        max_epochs=args.max_epochs,
        similarity_scale=args.similarity_scale,
        random_state=args.seed,
        callbacks=[budget],
    )
    train = data["train12"]
    y = train.labels if get_tags(emb).target_tags.required else None
    start = time.perf_counter()
    emb.fit(train, y)
    seconds = time.perf_counter() - start
    batches = [b for epoch in emb.history_ for b in epoch["batches"]]
    last = batches[-50:]  # the budget may stop fit mid-epoch: average batches

    def recent(key: str) -> float | None:
        values = [b[key] for b in last if key in b]
        return round(float(np.mean(values)), 4) if values else None

    info = {
        "seconds": round(seconds, 1),
        "steps": budget.steps_,
        "epochs": round(budget.steps_ * args.batch_size / emb.n_items_, 2),
        "items": emb.n_items_,
        "duplicate_items": emb.n_duplicate_items_,
        "items_per_s": round(budget.steps_ * args.batch_size / seconds, 1),
        "final_loss": recent("train_loss"),
    }
    for key in ("train_reconstruction_accuracy", "train_composer_accuracy"):
        if recent(key) is not None:
            info[key.removeprefix("train_")] = recent(key)
    return emb, info


def dense_rolls(units, batch: int = 4096) -> np.ndarray:
    """Flattened float32 rolls of ``units`` (host memory: 23 KB per unit)."""
    pitch_range = tuple(units.meta["pitch_range"])
    n_ticks = units.meta["beats"] * units.meta["ticks_per_beat"]
    return np.concatenate(
        [
            piano_roll(
                torch.as_tensor(units.events[i : i + batch]),
                n_ticks=n_ticks,
                pitch_range=pitch_range,
            )
            .flatten(1)
            .numpy()
            for i in range(0, len(units), batch)
        ]
    )


def reference_embeddings(name: str, data: dict, args) -> tuple[list, dict]:
    """Train/test/test12 embeddings of a reference (see :data:`REFERENCES`)."""
    sets = [data["train"], data["test"], data["test12"]]
    start = time.perf_counter()
    if name == "random":
        rng = np.random.default_rng(args.seed)
        Z = [
            rng.normal(size=(len(u), args.embedding_dim)).astype(np.float32)
            for u in sets
        ]
    else:
        pca = PCA(args.embedding_dim, svd_solver="randomized", random_state=args.seed)
        pca.fit(dense_rolls(data["train"]))
        Z = [pca.transform(dense_rolls(u)).astype(np.float32) for u in sets]
    return Z, {"seconds": round(time.perf_counter() - start, 1), "reference": True}


def forward_ranks(Z_train, Z_test12, data, args) -> tuple[np.ndarray, dict]:
    fwd = ForwardPredictor(
        n_context=7,
        metric="cosine",
        n_candidates=args.candidates,
        statistic="median",
        criterion=CosineDistanceLoss,
        module__hidden_dim=args.lstm_hidden,
        module__n_layers=args.lstm_layers,
        max_epochs=args.lstm_max_epochs,
        random_state=args.seed,
        callbacks=[TimeBudget(args.lstm_budget, max_steps=args.lstm_steps)],
    )
    start = time.perf_counter()
    fwd.fit(Z_train, data["train"])
    seconds = time.perf_counter() - start
    start = time.perf_counter()
    ranks = fwd.ranks(Z_test12, data["test12"])
    return ranks, {
        "rank_seconds": round(time.perf_counter() - start, 1),
        "lstm_seconds": round(seconds, 1),
        "lstm_steps": fwd.callbacks[0].steps_,
        "lstm_windows": int(fwd.n_windows_),
    }


def composer_scores(Z_train, Z_test, data, seed: int) -> dict:
    probe = make_composer_probe(max_iter=300, early_stopping=True, random_state=seed)
    probe.fit(Z_train, data["train"].labels)
    predicted = probe.predict(Z_test)
    truth = data["test"].labels
    return {
        f"f1_{average}": round(
            float(f1_score(truth, predicted, average=average, zero_division=0)), 4
        )
        for average in ("micro", "weighted", "macro")
    }


def markdown(result: dict) -> str:
    meta, rows = result["meta"], result["models"]
    lines = [
        "# Bretan et al. (2017), Tables 2 and 3, on piano-midi",
        "",
        f"Command: `{meta['command']}`",
        "",
        f"Scored on: {meta.get('scored_on', 'test pieces')}; similarity_scale "
        f"{meta.get('similarity_scale', 1.0)}.",
        "",
        f"Device: {meta['device']}; torch {meta['torch']}, scikit-learn "
        f"{meta['sklearn']}; seed {meta['seed']}.",
        "",
        f"Corpus: {meta['n_pieces']} pieces read; composers left out (< 3 pieces): "
        f"{', '.join(meta['dropped'])}. Training pieces in 12 keys: "
        f"{meta['n_train_units_12']:,} units, {meta['n_train_distinct_12']:,} "
        f"distinct ({meta['duplicate_share']:.1%} duplicates); the paper: "
        f"{PAPER_UNITS[0]:,} / {PAPER_UNITS[1]:,} (14.6% duplicates). Held-out: "
        f"{meta['n_test']:,} units in the original key, {meta['n_test12']:,} in "
        "12 keys.",
        "",
        "## Table 2: forward prediction, Rank@1000 (lower is better)",
        "",
        f"3 x {meta['lstm_hidden']} LSTM, 7 embeddings in, the 8th ranked among "
        f"{meta['candidates']} by cosine; held-out pieces in 12 keys.",
        "",
        "| model | median (paper) | IQR | std (paper spread) | skew (paper) | "
        "windows | LSTM steps |",
        "|---|---|---|---|---|---|---|",
    ]
    stats = {m: i for i, m in enumerate(result["statistics"]["methods"]["method"])}
    methods = result["statistics"]["methods"]
    for name, row in rows.items():
        i = stats[name]
        p_med, p_spread, p_skew = PAPER_T2.get(name, NO_PAPER)
        lines.append(
            f"| {TITLES[name]} | **{methods['median'][i]:.0f}** ({p_med}) | "
            f"{methods['iqr'][i]:.0f} | {methods['std'][i]:.0f} ({p_spread}) | "
            f"{methods['skew'][i]:.2f} ({p_skew}) | {methods['n'][i]:,} | "
            f"{row['lstm_steps']} |"
        )
    lev = result["statistics"]["levene"]
    sig = result["statistics"]["pairwise"]["significant"]
    lines += [
        "",
        f"Pairwise Welch t-tests, Bonferroni over "
        f"{result['statistics']['n_comparisons']} comparisons: "
        f"{sum(sig)} of {len(sig)} significant at 0.05 (the paper: all 21). "
        f"Levene (median-centred): W = {lev['statistic']:.1f}, p = "
        f"{lev['p_value']:.2g} (the paper: W = 7398.17, p < .001).",
        "",
        "## Table 3: composer classification (held-out pieces, original key)",
        "",
        "| model | micro-F1 (paper) | weighted-F1 (paper 'Macro-F1') | macro-F1 |",
        "|---|---|---|---|",
    ]
    for name, row in rows.items():
        p_micro, p_macro = PAPER_T3.get(name, NO_PAPER[:2])
        lines.append(
            f"| {TITLES[name]} | {row['f1_micro']:.3f} ({p_micro}) | "
            f"{row['f1_weighted']:.3f} ({p_macro}) | {row['f1_macro']:.3f} |"
        )
    lines += [
        "",
        "## Paper 000's adjacency ranking for these models",
        "",
        "True neighbour among 100 held-out units (original key), geometric mean "
        "rank (lower is better). Compare with `../tables.md` (40-note units).",
        "",
        "| model | adjacency rank |",
        "|---|---|",
    ]
    for name, row in rows.items():
        lines.append(f"| {TITLES[name]} | {row['adjacency_rank']:.2f} |")
    lines += [
        "",
        "## Training",
        "",
        "| model | steps | epochs | s | items/s | distinct items (dropped) | "
        "final loss | reconstruction acc. | composer acc. |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, row in rows.items():
        if row.get("reference"):
            continue
        lines.append(
            f"| {TITLES[name]} | {row['steps']} | {row['epochs']} | "
            f"{row['seconds']} | {row['items_per_s']} | {row['items']:,} "
            f"({row['duplicate_items']:,}) | {row['final_loss']} | "
            f"{row.get('reconstruction_accuracy', '-')} | "
            f"{row.get('composer_accuracy', '-')} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT)
    parser.add_argument(
        "--models", nargs="+", choices=list(MODELS), default=list(MODELS)
    )
    parser.add_argument("--references", nargs="*", choices=list(REFERENCES), default=[])
    parser.add_argument("--budget", type=float, default=200.0, help="s per model")
    parser.add_argument("--steps", type=int, default=None, help="batches per model")
    parser.add_argument("--max-epochs", type=int, default=1000)
    parser.add_argument("--embedding-dim", type=int, default=100)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument(
        "--similarity-scale",
        type=float,
        default=1.0,
        help="multiplies the cosines of the reconstruction softmax (paper: 1)",
    )
    parser.add_argument(
        "--validation",
        action="store_true",
        help="score on one more piece per composer taken from the training pieces "
        "(for choosing settings; the test pieces are not read)",
    )
    parser.add_argument("--lstm-budget", type=float, default=90.0)
    parser.add_argument("--lstm-steps", type=int, default=None)
    parser.add_argument("--lstm-max-epochs", type=int, default=100)
    parser.add_argument("--lstm-hidden", type=int, default=400)
    parser.add_argument("--lstm-layers", type=int, default=3)
    parser.add_argument("--candidates", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out-dir", type=Path, required=True)
    parser.add_argument("--embeddings-dir", type=Path, default=None)
    args = parser.parse_args()
    args.out_dir.mkdir(parents=True, exist_ok=True)
    if args.embeddings_dir:
        args.embeddings_dir.mkdir(parents=True, exist_ok=True)

    data = load_split(args.root, args.seed, validation=args.validation)
    test, test12 = data["test"], data["test12"]
    device = "cuda" if torch.cuda.is_available() else "cpu"
    meta = {
        "command": "python " + " ".join(sys.argv),
        "device": device_name(device),
        "torch": torch.__version__,
        "sklearn": sklearn.__version__,
        "seed": args.seed,
        "dropped": data["dropped"],
        "n_pieces": data["n_pieces"],
        "n_train_units_12": data["n_train_units_12"],
        "n_train_distinct_12": data["n_train_distinct_12"],
        "duplicate_share": 1 - data["n_train_distinct_12"] / data["n_train_units_12"],
        "n_test": len(test),
        "n_test12": len(test12),
        "lstm_hidden": args.lstm_hidden,
        "candidates": args.candidates,
        "budget_s": args.budget,
        "steps": args.steps,
        "lstm_budget_s": args.lstm_budget,
        "lstm_steps": args.lstm_steps,
        "similarity_scale": args.similarity_scale,
        "scored_on": "validation pieces" if args.validation else "test pieces",
    }
    print(json.dumps(meta, indent=1), flush=True)
    rows: dict[str, dict] = {}
    all_ranks: dict[str, np.ndarray] = {}
    for name in [*args.references, *args.models]:
        if name in REFERENCES:
            (Z_train, Z_test, Z_test12), info = reference_embeddings(name, data, args)
        else:
            emb, info = train_model(name, data, args)
            print(name, info, flush=True)
            start = time.perf_counter()
            Z_train, Z_test, Z_test12 = (
                emb.transform(units) for units in (data["train"], test, test12)
            )
            info["transform_units_per_s"] = round(
                (len(data["train"]) + len(test) + len(test12))
                / (time.perf_counter() - start),
                1,
            )
        if args.embeddings_dir:
            np.savez_compressed(
                args.embeddings_dir / f"{name}.npz",
                train=Z_train,
                test=Z_test,
                test12=Z_test12,
            )
        ranks, lstm_info = forward_ranks(Z_train, Z_test12, data, args)
        info.update(lstm_info)
        start = time.perf_counter()
        info.update(composer_scores(Z_train, Z_test, data, args.seed))
        info["probe_seconds"] = round(time.perf_counter() - start, 1)
        info["adjacency_rank"] = round(
            geometric_mean(adjacency_ranks(Z_test, test, random_state=args.seed)), 3
        )
        info["rank_median"] = float(np.median(ranks))
        rows[name] = info
        all_ranks[name] = ranks
        print(name, info, flush=True)
        if len(all_ranks) >= 2:
            result = {
                "meta": meta,
                "models": rows,
                "statistics": rank_statistics(all_ranks, reference=next(iter(rows))),
            }
            (args.out_dir / "tables_2017.json").write_text(json.dumps(result, indent=1))
            (args.out_dir / "tables_2017.md").write_text(markdown(result))
            rank_boxplot(
                {TITLES[m]: r for m, r in all_ranks.items()},
                args.out_dir / "ranks_2017_boxplot.png",
                xlabel=f"rank of the true 8th unit among {args.candidates} "
                "(log scale; lower is better)",
                title="Forward prediction on held-out piano-midi pieces "
                "(Bretan et al. 2017)",
            )


if __name__ == "__main__":
    main()
