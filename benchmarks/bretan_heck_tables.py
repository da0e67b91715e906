"""Tables 2-6 of Bretan & Heck (2019) on piano-midi: six methods, five tasks.

Trains VAE, AAE, DSSM, AdjD, A-DSSM and A-AdjD, each with two-hot and continuous
input, with the paper's protocol: 40-note units; two whole pieces per composer held
out (composers with fewer than 3 pieces left out); training pieces transposed into
all 12 keys and tempo-scaled by a random factor in 0.95-1.05; one seed for
everything. Each model trains for ``--budget`` seconds of wall-clock time and/or
``--steps`` batches (:class:`sklearn_musemb.callbacks.TimeBudget`; ``--max-epochs``
caps it too). A step budget gives the same models on any machine and under any
load; a time budget gives each model the same time on this one.

Every trained embedding, and four references that need no adjacency training
(random vectors, PCA-32 of the two-hot input, the raw standardised continuous
input, :class:`sklearn_musemb.features.HandcraftedFeatures`), is then scored on
the paper's five tasks (section 4.4), all on the held-out pieces:

- Table 2, ranking: every held-out unit with a neighbour ranks it among 99 random
  held-out units (:func:`sklearn_musemb.metrics.adjacency_ranks`; geometric mean,
  lower is better);
- Table 3, composer classification: :func:`sklearn_musemb.tasks.make_composer_probe`
  (macro-F1; micro- and weighted-F1 in the JSON);
- Table 4, chroma: :class:`sklearn_musemb.tasks.ChromaProbe` (geometric-mean
  cosine);
- Table 5, note density: :func:`sklearn_musemb.tasks.make_density_probe` (RMSE of
  the unit duration, seconds);
- Table 6, forward prediction: :class:`sklearn_musemb.tasks.ForwardPredictor`
  (2 x 200 LSTM, 7 units in, rank of the 8th among 100; geometric mean).

The probes train on the embeddings of the training pieces in their original key
and tempo (the augmented copies are for the embedders), so every probe sees the
same units whatever the method.

Writes ``tables.md`` (each table beside the paper's numbers, with device, steps,
epochs and wall time per model, and the rank statistics of Bretan et al. 2017),
``tables.json`` and ``ranks_boxplot.png`` (the ranking distributions) to
``--out-dir``.

Usage (from the repository root; the GPU is used when torch finds one; the plot
needs ``pip install -e ".[bench]"``)::

    python benchmarks/bretan_heck_tables.py --budget 90 \\
        --out-dir benchmarks/results/cpu
    python benchmarks/bretan_heck_tables.py --budget 1800 \\
        --out-dir benchmarks/results/gpu                      # on a GPU
    python benchmarks/bretan_heck_tables.py --methods AdjD A-AdjD \\
        --representations two_hot --steps 500 --out-dir /tmp/t  # a quick look
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
    paper_augmentation,
    paper_split,
    rank_boxplot,
    raw_events,
)
from sklearn.decomposition import PCA
from sklearn.metrics import f1_score, root_mean_squared_error
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_musemb.callbacks import TimeBudget
from sklearn_musemb.embedders import (
    AAdjDEmbedder,
    AAEEmbedder,
    AdjDEmbedder,
    ADSSMEmbedder,
    DSSMEmbedder,
    VAEEmbedder,
)
from sklearn_musemb.encodings import two_hot
from sklearn_musemb.features import HandcraftedFeatures
from sklearn_musemb.metrics import adjacency_ranks, compare_rank_distributions
from sklearn_musemb.tasks import (
    ChromaProbe,
    ForwardPredictor,
    chroma_cosine,
    make_composer_probe,
    make_density_probe,
    unit_chroma,
    unit_duration,
)

METHODS = {
    "VAE": VAEEmbedder,
    "AAE": AAEEmbedder,
    "DSSM": DSSMEmbedder,
    "AdjD": AdjDEmbedder,
    "A-DSSM": ADSSMEmbedder,
    "A-AdjD": AAdjDEmbedder,
}
REPRESENTATIONS = ("two_hot", "continuous")

#: The paper's Tables 2-6, per method: (two-hot, continuous).
PAPER = {
    "ranking": {
        "VAE": (10.8, 12.3),
        "AAE": (9.9, 12.3),
        "DSSM": (11.2, 14.8),
        "AdjD": (5.8, 6.3),
        "A-DSSM": (8.8, 9.2),
        "A-AdjD": (5.1, 5.6),
    },
    "composer_f1_macro": {
        "VAE": (0.11, 0.087),
        "AAE": (0.11, 0.091),
        "DSSM": (0.18, 0.10),
        "AdjD": (0.26, 0.26),
        "A-DSSM": (0.23, 0.19),
        "A-AdjD": (0.27, 0.28),
    },
    "chroma_cosine": {
        "VAE": (0.56, 0.43),
        "AAE": (0.57, 0.44),
        "DSSM": (0.34, 0.27),
        "AdjD": (0.71, 0.68),
        "A-DSSM": (0.72, 0.67),
        "A-AdjD": (0.83, 0.78),
    },
    "density_rmse": {
        "VAE": (0.33, 0.28),
        "AAE": (0.33, 0.29),
        "DSSM": (0.20, 0.18),
        "AdjD": (0.26, 0.20),
        "A-DSSM": (0.21, 0.19),
        "A-AdjD": (0.21, 0.19),
    },
    "forward_rank": {
        "VAE": (5.9, 8.7),
        "AAE": (5.9, 8.6),
        "DSSM": (10.7, 11.5),
        "AdjD": (2.7, 3.0),
        "A-DSSM": (4.8, 5.2),
        "A-AdjD": (2.6, 2.7),
    },
}
#: Table number, title and direction of every task.
TABLES = {
    "ranking": (2, "adjacency ranking, geometric mean rank among 100", "lower"),
    "composer_f1_macro": (3, "composer classification, macro-F1", "higher"),
    "chroma_cosine": (4, "chroma prediction, geometric-mean cosine", "higher"),
    "density_rmse": (5, "note density (unit duration) regression, RMSE s", "lower"),
    "forward_rank": (6, "forward prediction, geometric mean rank among 100", "lower"),
}


# -- features ------------------------------------------------------------------------
def train_embedder(name: str, representation: str, train, args) -> tuple[object, dict]:
    """Fit one method on the augmented training units under the budget."""
    budget = TimeBudget(seconds=args.budget, max_steps=args.steps)
    emb = METHODS[name](
        representation=representation,
        max_epochs=args.max_epochs,
        batch_size=args.batch_size,
        random_state=args.seed,
        callbacks=[budget],
        verbose=0,
    )
    start = time.perf_counter()
    emb.fit(train)
    fit_s = time.perf_counter() - start
    n_items = len(emb._training_data(train)[0])  # pairs or units per epoch
    batches_per_epoch = -(-n_items // args.batch_size)
    # the budget may end fit mid-epoch, leaving a last row without losses
    last = next((row for row in reversed(emb.history_) if "train_loss" in row), {})
    losses = {
        k: round(float(v), 4)
        for k, v in last.items()
        if k.startswith("train_")
        and not k.endswith("_best")
        and k != "train_batch_count"
    }
    return emb, {
        "device": emb.device_,
        "fit_s": round(fit_s, 1),
        "steps": budget.steps_,
        "epochs": round(budget.steps_ / batches_per_epoch, 2),
        "stopped_by_budget": budget.stopped_early_,
        "items_per_s": round(budget.steps_ * args.batch_size / fit_s, 1),
        "last_epoch": losses,
    }


def references(train, probe_train, test, seed: int) -> dict[str, tuple]:
    """Features that need no adjacency training: (probe-train, test) matrices."""
    rng = np.random.default_rng(seed)
    out = {
        "random 32-d vectors": (
            rng.standard_normal((len(probe_train), 32)),
            rng.standard_normal((len(test), 32)),
        )
    }
    # PCA of the two-hot input needs the dense matrix itself: it is built on the
    # host for a sample of 20,000 augmented training units (about 830 MB), once.
    sample = train[rng.choice(len(train), size=min(len(train), 20_000), replace=False)]

    def two_hot_flat(units):
        return two_hot(torch.as_tensor(units.events)).flatten(1).numpy()

    pca = PCA(n_components=32, random_state=seed).fit(two_hot_flat(sample))
    out["PCA-32 of two-hot input"] = (
        pca.transform(two_hot_flat(probe_train)),
        pca.transform(two_hot_flat(test)),
    )
    scaler = StandardScaler().fit(raw_events(sample))
    out["raw continuous input (80-d)"] = (
        scaler.transform(raw_events(probe_train)),
        scaler.transform(raw_events(test)),
    )
    handcrafted = make_pipeline(HandcraftedFeatures(), StandardScaler()).fit(sample)
    out["HandcraftedFeatures (45-d)"] = (
        handcrafted.transform(probe_train),
        handcrafted.transform(test),
    )
    return out


# -- the five tasks ------------------------------------------------------------------
def ranking_task(Z_test: np.ndarray, test, n_candidates: int, seed: int) -> dict:
    """Table 2: rank of every held-out unit's neighbour among ``n_candidates``."""
    ranks = adjacency_ranks(Z_test, test, n_candidates=n_candidates, random_state=seed)
    return {
        "ranking": round(geometric_mean(ranks), 2),
        "ranking_median": float(np.median(ranks)),
        "_ranking_ranks": ranks,
    }


def composer_task(Z_train: np.ndarray, Z_test: np.ndarray, probe_train, test, seed):
    """Table 3: the paper's composer probe, trained on the training pieces."""
    probe = make_composer_probe(random_state=seed, early_stopping=True)
    predicted = probe.fit(Z_train, probe_train.labels).predict(Z_test)
    return {
        f"composer_f1_{average}": round(
            float(f1_score(test.labels, predicted, average=average)), 3
        )
        for average in ("macro", "micro", "weighted")
    }


def evaluate(Z_train: np.ndarray, Z_test: np.ndarray, probe_train, test, args) -> dict:
    """Tables 2-6 for one embedding; rank arrays under ``"_ranks"``."""
    seed = args.seed
    timings = {}
    out: dict = {}

    start = time.perf_counter()
    out.update(ranking_task(Z_test, test, args.n_candidates, seed))
    ranks = out.pop("_ranking_ranks")
    timings["ranking"] = time.perf_counter() - start

    start = time.perf_counter()
    out.update(composer_task(Z_train, Z_test, probe_train, test, seed))
    timings["composer"] = time.perf_counter() - start

    start = time.perf_counter()
    chroma = make_pipeline(
        StandardScaler(),
        ChromaProbe(
            random_state=seed,
            max_epochs=args.probe_epochs,
            similarity_scale=args.chroma_scale,
        ),
    )
    chroma.fit(Z_train.astype(np.float32), unit_chroma(probe_train))
    out["chroma_cosine"] = round(
        chroma_cosine(unit_chroma(test), chroma.predict(Z_test.astype(np.float32))), 3
    )
    timings["chroma"] = time.perf_counter() - start

    start = time.perf_counter()
    density = make_density_probe(random_state=seed, early_stopping=True)
    density.fit(Z_train, unit_duration(probe_train))
    out["density_rmse"] = round(
        float(root_mean_squared_error(unit_duration(test), density.predict(Z_test))),
        3,
    )
    timings["density"] = time.perf_counter() - start

    start = time.perf_counter()
    forward = ForwardPredictor(
        random_state=seed,
        max_epochs=args.forward_epochs,
        n_candidates=args.n_candidates,
    )
    forward.fit(Z_train.astype(np.float32), probe_train)
    forward_ranks = forward.ranks(Z_test.astype(np.float32), test, random_state=seed)
    out["forward_rank"] = round(geometric_mean(forward_ranks), 2)
    out["forward_rank_median"] = float(np.median(forward_ranks))
    timings["forward"] = time.perf_counter() - start

    out["task_seconds"] = {k: round(v, 1) for k, v in timings.items()}
    out["_ranks"] = {"ranking": ranks, "forward": forward_ranks}
    return out


# -- reporting -----------------------------------------------------------------------
def _cell(value, best: bool) -> str:
    return f"**{value}**" if best else f"{value}"


def markdown(result: dict) -> str:
    rows = [
        "# Tables 2-6 of Bretan & Heck (2019) on piano-midi",
        "",
        f"Command: `{result['command']}`",
        "",
        f"Device: {result['device_name']}; torch {result['torch']}; budget "
        f"{result['budget_s']} s and/or {result['budget_steps']} steps per model; "
        f"batch {result['batch_size']}; seed {result['seed']}; probes: ChromaProbe "
        f"{result['probe_epochs']} epochs with similarity_scale "
        f"{result['chroma_scale']}, ForwardPredictor {result['forward_epochs']} "
        f"epochs, MLP probes with early stopping. Embedders train on "
        f"{result['n_train_units']} units (12 keys x tempo 0.95-1.05) of "
        f"{result['n_train_pieces']} pieces; probes on the {result['n_probe_units']} "
        f"units of those pieces in their original key; held out: "
        f"{result['n_test_units']} units of {result['n_test_pieces']} pieces "
        f"({result['n_composers']} composers, 2 pieces each).",
        "",
        "Ours first, the paper's in brackets. References need no adjacency "
        "training; the paper has none. Predicting the mean training chroma for "
        f"every unit scores {result['mean_chroma_cosine']} on T4.",
        "",
    ]
    rows += [
        "| features | repr. | T2 rank ↓ | T3 macro-F1 ↑ | T4 chroma ↑ | "
        "T5 density RMSE ↓ | T6 forward rank ↓ |",
        "|---|---|---|---|---|---|---|",
    ]
    entries = result["models"] + result["references"]
    best = {}
    for task, (_, _, direction) in TABLES.items():
        values = [e[task] for e in entries]
        best[task] = min(values) if direction == "lower" else max(values)
    for e in entries:
        cells = []
        for task in TABLES:
            text = _cell(e[task], e[task] == best[task])
            if "method" in e:
                paper = PAPER[task][e["method"]]
                text += f" ({paper[REPRESENTATIONS.index(e['representation'])]})"
            cells.append(text)
        name = e.get("method", e.get("name"))
        representation = e.get("representation", "-")
        rows.append(f"| {name} | {representation} | " + " | ".join(cells) + " |")
    rows += [
        "",
        "## Training",
        "",
        "| method | repr. | steps | epochs | fit s | items/s | "
        "emb. mean abs(mean) / mean std |",
        "|---|---|---|---|---|---|---|",
    ]
    for e in result["models"]:
        rows.append(
            f"| {e['method']} | {e['representation']} | {e['steps']} | {e['epochs']} "
            f"| {e['fit_s']} | {e['items_per_s']} | {e['prior']['mean_abs_dim_mean']} "
            f"/ {e['prior']['mean_dim_std']} |"
        )
    rows += [
        "",
        "Items are adjacent pairs (DSSM, AdjD and adversarial variants) or units "
        "(VAE, AAE) per second of training.",
    ]
    stats = result["rank_statistics"]
    if stats is None:
        return "\n".join(rows) + "\n"
    rows += [
        "",
        "## Ranking distributions (Bretan et al. 2017 statistics)",
        "",
        "| features | median | geometric mean | IQR | std | skew |",
        "|---|---|---|---|---|---|",
    ]
    for i, name in enumerate(stats["methods"]["method"]):
        m = stats["methods"]
        rows.append(
            f"| {name} | {m['median'][i]} | {m['geometric_mean'][i]:.2f} | "
            f"{m['iqr'][i]:.1f} | {m['std'][i]:.1f} | {m['skew'][i]:.2f} |"
        )
    rows += [
        "",
        f"Levene's test over all {len(stats['methods']['method'])} distributions: "
        f"W = {stats['levene']['statistic']:.1f}, "
        f"p = {stats['levene']['p_value']:.2g}. "
        f"Welch t-tests against {stats['reference']}, Bonferroni-corrected over "
        f"{stats['n_comparisons']} pairs (all pairs in the JSON):",
        "",
        "| features | mean difference | t | p (Bonferroni) |",
        "|---|---|---|---|",
    ]
    for row in stats["against_reference"]:
        rows.append(
            f"| {row['method']} | {row['mean_difference']:.2f} | "
            f"{row['t_statistic']:.1f} | {row['p_bonferroni']:.2g} |"
        )
    return "\n".join(rows) + "\n"


def rank_statistics(ranks: dict[str, np.ndarray], reference: str) -> dict:
    """compare_rank_distributions as JSON, with the rows against ``reference``."""
    result = compare_rank_distributions(ranks)

    def plain(table):
        return {k: np.asarray(v).tolist() for k, v in table.items()}

    pairwise = plain(result.pairwise)
    against = []
    for i, (a, b) in enumerate(zip(pairwise["method_a"], pairwise["method_b"])):
        if reference in (a, b):
            sign = 1 if b == reference else -1
            against.append(
                {
                    "method": a if b == reference else b,
                    "mean_difference": sign * pairwise["mean_difference"][i],
                    "t_statistic": sign * pairwise["t_statistic"][i],
                    "p_bonferroni": pairwise["p_bonferroni"][i],
                }
            )
    return {
        "methods": plain(result.methods),
        "pairwise": pairwise,
        "levene": {k: float(v) for k, v in result.levene.items()},
        "n_comparisons": int(result.n_comparisons),
        "reference": reference,
        "against_reference": against,
    }


def prior_fit(embedding: np.ndarray) -> dict[str, float]:
    """How close the embedding's marginals are to N(0, 1)."""
    return {
        "mean_abs_dim_mean": round(float(np.abs(embedding.mean(0)).mean()), 3),
        "mean_dim_std": round(float(embedding.std(0).mean()), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT)
    parser.add_argument(
        "--methods", nargs="*", default=list(METHODS), choices=list(METHODS)
    )
    parser.add_argument(
        "--representations",
        nargs="+",
        default=list(REPRESENTATIONS),
        choices=list(REPRESENTATIONS),
    )
    parser.add_argument(
        "--budget", type=float, default=None, help="wall-clock seconds per model"
    )
    parser.add_argument("--steps", type=int, default=None, help="batches per model")
    parser.add_argument(
        "--max-epochs", type=int, default=1000, help="epoch cap on top of the budget"
    )
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--n-candidates", type=int, default=100)
    parser.add_argument("--probe-epochs", type=int, default=20)
    parser.add_argument("--forward-epochs", type=int, default=10)
    parser.add_argument(
        "--chroma-scale",
        type=float,
        default=10.0,
        help="ChromaProbe similarity_scale (the paper's Eq. 2 has 1; see docs)",
    )
    parser.add_argument(
        "--skip-references",
        action="store_true",
        help="score only the trained methods (the references take minutes)",
    )
    parser.add_argument(
        "--embeddings-dir",
        type=Path,
        default=None,
        help="save every model's probe-train and test embeddings here (.npz)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out-dir", type=Path, default=None)
    args = parser.parse_args()
    if args.budget is None and args.steps is None:
        parser.error("give --budget, --steps or both")

    probe_train, test, dropped, _ = paper_split(args.root, args.seed, augment=False)
    train = paper_augmentation(probe_train, args.seed)
    print(f"train {len(train)} units, test {len(test)} units", flush=True)
    result = {
        "command": "python " + " ".join(sys.argv),
        "torch": torch.__version__,
        "sklearn": sklearn.__version__,
        "device_name": device_name("cuda" if torch.cuda.is_available() else "cpu"),
        "budget_s": args.budget,
        "budget_steps": args.steps,
        "batch_size": args.batch_size,
        "probe_epochs": args.probe_epochs,
        "forward_epochs": args.forward_epochs,
        "chroma_scale": args.chroma_scale,
        "mean_chroma_cosine": round(
            chroma_cosine(
                unit_chroma(test),
                np.tile(unit_chroma(probe_train).mean(0), (len(test), 1)),
            ),
            3,
        ),
        "seed": args.seed,
        "n_candidates": args.n_candidates,
        "n_train_units": len(train),
        "n_train_pieces": int(len(np.unique(train.piece))),
        "n_probe_units": len(probe_train),
        "n_test_units": len(test),
        "n_test_pieces": int(len(np.unique(test.piece))),
        "n_composers": int(len(np.unique(test.labels))),
        "composers_dropped_too_few_pieces": dropped,
        "models": [],
        "references": [],
    }
    ranks: dict[str, np.ndarray] = {}

    def write() -> None:
        # the statistics compare distributions: they need two of them
        result["rank_statistics"] = (
            rank_statistics(ranks, "HandcraftedFeatures (45-d)")
            if len(ranks) >= 2
            else None
        )
        if not args.out_dir:
            return
        args.out_dir.mkdir(parents=True, exist_ok=True)
        (args.out_dir / "tables.json").write_text(json.dumps(result, indent=1) + "\n")
        (args.out_dir / "tables.md").write_text(markdown(result))
        rank_boxplot(
            ranks,
            args.out_dir / "ranks_boxplot.png",
            xlabel="rank of the true neighbour among 100 (log scale; lower is better)",
            title="Adjacency ranking on held-out piano-midi pieces",
        )

    features = (
        {} if args.skip_references else references(train, probe_train, test, args.seed)
    )
    for name, (Z_train, Z_test) in features.items():
        row = {"name": name, **evaluate(Z_train, Z_test, probe_train, test, args)}
        ranks[name] = row.pop("_ranks")["ranking"]
        result["references"].append(row)
        print(json.dumps(row), flush=True)
    for representation in args.representations:
        for name in args.methods:
            emb, info = train_embedder(name, representation, train, args)
            Z_train, Z_test = emb.transform(probe_train), emb.transform(test)
            if args.embeddings_dir:
                args.embeddings_dir.mkdir(parents=True, exist_ok=True)
                np.savez_compressed(
                    args.embeddings_dir / f"{name}_{representation}.npz",
                    train=Z_train,
                    test=Z_test,
                )
            row = {
                "method": name,
                "representation": representation,
                **evaluate(Z_train, Z_test, probe_train, test, args),
                **info,
                "prior": prior_fit(Z_test),
            }
            ranks[f"{name} ({representation})"] = row.pop("_ranks")["ranking"]
            result["models"].append(row)
            print(json.dumps(row), flush=True)
            write()
    write()
    print(markdown(result))


if __name__ == "__main__":
    main()
