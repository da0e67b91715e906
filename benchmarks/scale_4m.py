"""Four million units: corpus build, memory, one epoch of A-AdjD and of the context AE.

Paper 001 trained on 4.0 M units. This script builds about ``--target`` 40-note
units and ``--target`` 4-beat units from piano-midi plus music21's corpus, and
reports for each: build time, the units' memory, peak host memory (the process's
maximum resident set) and peak GPU memory, one training epoch (A-AdjD on the note
units, the context autoencoder on the beat units) and ``transform`` of all units.

How the units are multiplied:

- **40-note units**: both corpora, 12 transpositions, then tempo copies: each copy
  stretches every (piece, key) by its own random factor in 0.8-1.25
  (:class:`~sklearn_musemb.units.TempoScaler`), as many copies as reach the target.
- **4-beat units** are quantised to the beat, so a tempo change does not alter
  them: both corpora in 12 keys give fewer distinct units than the target, and the
  rest are repeated copies (new variant ids, so adjacency stays within a copy).
  Their speed and memory are those of 4 M units; their content is not 4 M
  distinct units.

With ``--epoch-fraction f`` below 1, each epoch is stopped after that share of its
batches and the full epoch time is extrapolated from its steady-state rate; the
output says so.

Usage (from the repository root; CUDA is used when torch finds it)::

    python benchmarks/scale_4m.py --out-dir benchmarks/results/gpu/scale_4m
    python benchmarks/scale_4m.py --music21-composers bach --epoch-fraction 0.01 \\
        --out-dir benchmarks/results/cpu/scale_4m       # 2-core CPU budget
"""

from __future__ import annotations

import argparse
import json
import time
from functools import partial
from pathlib import Path

import numpy as np
import torch
from _common import (
    DEFAULT_ROOT,
    command,
    device_name,
    markdown_table,
    peak_rss_mib,
    write_results,
)
from skorch.callbacks import Callback

from sklearn_musemb import (
    TempoScaler,
    Transposer,
    Units,
    load_midi_corpus,
    load_music21_corpus,
    segment_beats,
    segment_notes,
)
from sklearn_musemb.embedders import AAdjDEmbedder, ContextRollEmbedder
from sklearn_musemb.utils.torch_utils import resolve_device


class StopAfter(Callback):
    """Time the training batches; end an epoch after a share of them (CPU budget).

    ``rate_`` is the steady-state items per second: from the end of the first
    batch to the end of the last, so setup (moving units to the device, finding
    adjacent pairs, the encoding's statistics) is not in it.
    """

    def __init__(self, fraction: float = 1.0) -> None:
        self.fraction = fraction

    def on_epoch_begin(self, net, dataset_train=None, **kwargs) -> None:
        self.n_items_ = len(dataset_train)
        self.limit_ = max(2, int(self.fraction * self.n_items_ / net.batch_size))
        self.seen_, self.items_, self.first_end_ = 0, 0, None

    def on_batch_end(self, net, batch=None, training=False, **kwargs) -> None:
        if not training:
            return
        self.seen_ += 1
        now = time.perf_counter()
        if self.first_end_ is None:
            self.first_end_ = now
        else:
            self.items_ += len(batch[0])
            self.rate_ = self.items_ / (now - self.first_end_)
        if self.fraction < 1 and self.seen_ >= self.limit_:
            raise KeyboardInterrupt  # skorch ends fit cleanly on it


def peak_host_gib() -> float:
    """Peak resident set of this process so far."""
    return peak_rss_mib() / 2**10


def gpu_peak_gib(device: str) -> float | None:
    if not device.startswith("cuda"):
        return None
    return torch.cuda.max_memory_allocated(device) / 2**30


def units_gib(units: Units) -> float:
    columns = (units.piece, units.position, units.variant, units.n_events)
    return (units.events.nbytes + sum(c.nbytes for c in columns)) / 2**30


def with_variant(units: Units, variant: np.ndarray) -> Units:
    return Units(
        units.events,
        piece=units.piece,
        position=units.position,
        labels=units.labels,
        variant=variant,
        n_events=units.n_events,
        kind=units.kind,
        meta=units.meta,
    )


def load_pieces(root: Path, music21_composers: list[str], n_jobs: int):
    piano = load_midi_corpus(root, n_jobs=n_jobs)
    m21 = load_music21_corpus(composers=music21_composers)
    pieces = list(piano.pieces) + list(m21.pieces)
    return pieces, np.arange(len(pieces)), len(piano.pieces), len(m21.pieces)


def note_units(pieces, piece_ids, target: int, seed: int) -> tuple[Units, dict]:
    base = Transposer().fit_transform(segment_notes(pieces, piece_ids=piece_ids))
    copies = max(1, int(np.ceil(target / len(base))))
    parts = [
        with_variant(
            TempoScaler(0.8, 1.25, random_state=seed + c).fit_transform(base),
            base.variant * copies + c,
        )
        for c in range(copies)
    ]
    units = Units.concatenate(parts)[:target]
    return units, {"units_12_keys": len(base), "tempo_copies": copies}


def beat_units(pieces, piece_ids, target: int) -> tuple[Units, dict]:
    base = Transposer().fit_transform(segment_beats(pieces, piece_ids=piece_ids))
    copies = max(1, int(np.ceil(target / len(base))))
    parts = [with_variant(base, base.variant * copies + c) for c in range(copies)]
    units = Units.concatenate(parts)[:target]
    return units, {"units_12_keys": len(base), "repeated_copies": copies}


def run_method(name: str, est, units: Units, device: str) -> dict:
    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats(device)
    start = time.perf_counter()
    est.fit(units)
    fit_s = time.perf_counter() - start
    timer = next(cb for _, cb in est.callbacks_ if isinstance(cb, StopAfter))
    batches = est.history_[-1, "batches"]
    items = sum(b["train_batch_size"] for b in batches)
    n_items = timer.n_items_  # the epoch's training items (pairs, triples...)
    steady_s = items / timer.rate_
    setup_s = max(fit_s - steady_s, 0.0)
    start = time.perf_counter()
    Z = est.transform(units)
    transform_s = time.perf_counter() - start
    row = {
        "method": name,
        "training_items": n_items,
        "items_timed": items,
        "epoch_fraction": round(items / n_items, 4),
        "fit_s": round(fit_s, 1),
        "setup_s": round(setup_s, 1),
        "items_per_s": round(timer.rate_, 1),
        "epoch_s_extrapolated": round(setup_s + n_items / timer.rate_, 1),
        "transform_s": round(transform_s, 1),
        "transform_units_per_s": round(len(units) / transform_s, 1),
        "embeddings_gib": round(Z.nbytes / 2**30, 3),
        "peak_host_gib": round(peak_host_gib(), 2),
        "peak_gpu_gib": gpu_peak_gib(device),
    }
    print(json.dumps(row), flush=True)
    return row


def markdown(result: dict) -> str:
    lines = [
        "# Four million units",
        "",
        f"Command: `{result['command']}`",
        "",
        f"Device: {result['device_name']}; torch {result['torch']}. Pieces: "
        f"{result['pieces']['piano_midi']} piano-midi + {result['pieces']['music21']} "
        f"music21 (composers {', '.join(result['pieces']['music21_composers'])}); "
        f"parsing {result['load_s']} s.",
        "",
    ]
    lines += markdown_table(
        ["units", "count", "from", "build s", "memory GiB"],
        (
            [
                kind, f"{c['units']:,}",
                ", ".join(f"{k} {v:,}" for k, v in c["how"].items()),
                c["build_s"], f"{c['gib']:.2f}",
            ]
            for kind, c in result["corpora"].items()  # notes, then beats
        ),
    )  # fmt: skip
    lines += [""] + markdown_table(
        [
            "method", "training items", "share timed", "setup s", "items/s",
            "one epoch s", "transform units/s", "peak host GiB", "peak GPU GiB",
        ],
        (
            [
                r["method"], f"{r['training_items']:,}", f"{r['epoch_fraction']:.3f}",
                f"{r['setup_s']:,.0f}", f"{r['items_per_s']:,.0f}",
                f"{r['epoch_s_extrapolated']:,.0f}",
                f"{r['transform_units_per_s']:,.0f}", f"{r['peak_host_gib']:.2f}",
                "-" if r["peak_gpu_gib"] is None else f"{r['peak_gpu_gib']:.2f}",
            ]
            for r in result["methods"]
        ),
    )  # fmt: skip
    lines += [
        "",
        "items/s is the steady state, from the end of the first batch to the end "
        "of the last; setup is the rest of fit (units to the device, adjacent "
        "pairs, encoding statistics). One epoch is measured when the share timed "
        "is 1.000, else it is setup + training items / items/s. Peak host memory "
        "is the process's maximum resident set so far, so it grows down the "
        "table.",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT)
    parser.add_argument(
        "--music21-composers",
        nargs="+",
        default=["bach", "beethoven", "mozart", "haydn"],
    )
    parser.add_argument("--target", type=int, default=4_000_000)
    parser.add_argument("--epoch-fraction", type=float, default=1.0)
    parser.add_argument("--batch-size", type=int, default=4096)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out-dir", type=Path, required=True)
    args = parser.parse_args(argv)
    device = resolve_device(args.device)

    start = time.perf_counter()
    pieces, ids, n_piano, n_m21 = load_pieces(
        args.root, args.music21_composers, args.n_jobs
    )
    load_s = time.perf_counter() - start
    corpora, built = {}, {}
    for kind, build in (
        ("notes", partial(note_units, seed=args.seed)),
        ("beats", beat_units),
    ):
        start = time.perf_counter()
        units, how = build(pieces, ids, args.target)
        built[kind] = units
        corpora[kind] = {
            "units": len(units),
            "how": how,
            "build_s": round(time.perf_counter() - start, 1),
            "gib": units_gib(units),
            "peak_host_gib_after": round(peak_host_gib(), 2),
        }
        print(kind, json.dumps(corpora[kind]), flush=True)
    del pieces

    common = {
        "max_epochs": 1,
        "batch_size": args.batch_size,
        "device": device,
        "random_state": args.seed,
        "callbacks": [StopAfter(args.epoch_fraction)],
    }
    methods = [
        run_method(
            "A-AdjD (40-note units)",
            AAdjDEmbedder(**common),
            built.pop("notes"),
            device,
        ),
        run_method(
            "context AE (4-beat units)",
            ContextRollEmbedder(target="context", **common),
            built.pop("beats"),
            device,
        ),
    ]
    result = {
        "command": command(),
        "device_name": device_name(device),
        "torch": torch.__version__,
        "pieces": {
            "piano_midi": n_piano,
            "music21": n_m21,
            "music21_composers": args.music21_composers,
        },
        "load_s": round(load_s, 1),
        "corpora": corpora,
        "methods": methods,
    }
    text = markdown(result)
    write_results(args.out_dir, "scale_4m", result, text)
    print(text)


if __name__ == "__main__":
    main()
