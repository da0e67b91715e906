"""fit and transform throughput of each estimator family against a hand-written loop.

For each family, batch size and precision, the script measures:

- **ours, fit**: items per second of the estimator's best epoch after the first
  (skorch's ``dur``; the first epoch warms up), trained on ``batch_size * --steps``
  items for ``1 + --repeats`` epochs;
- **ceiling, fit**: the same network (a copy of the estimator's ``module_``) and
  loss, trained by a minimal hand-written PyTorch loop: the data already on the
  device, batches drawn with ``torch.randint``, no skorch, no callbacks, no
  history, one device sync at the end (best of ``--repeats`` runs of ``--steps``);
- **ours, transform**: units per second of ``transform`` over ``--transform-units``
  units (the training input repeated; ``--audio-transform-units`` feature maps),
  host arrays in, host array out, best of ``--repeats``;
- **ceiling, transform**: the encoder alone over the same input, compact and
  already on the device, embeddings left there; timed alternately with ours.

The ratio columns are ours / ceiling: 1.0 means the estimator costs nothing over
the bare loop. Items are adjacent pairs (AdjD, A-AdjD, DSSM, and the contrastive
embedder, which also plays every unit of a batch through its performance model
on the device, in its ceiling too), units (VAE, the
piano-roll models) or feature maps (the audio models). The symbolic families train
on piano-midi units (``--root``); the audio families on random feature maps of the
shape the audio benchmark uses, as their speed does not depend on the content.

Usage (from the repository root; CUDA is used when torch finds it)::

    python benchmarks/speed.py                        # every family, 256/1024/4096
    python benchmarks/speed.py --families AdjD --batch-sizes 256 --precisions fp32

Results go to ``benchmarks/results/speed_<device>.json``; ``benchmarks/results/
speed.md`` is rebuilt from every ``speed_*.json`` there, so a GPU run adds its
table beside the CPU one.
"""

from __future__ import annotations

import argparse
import copy
import functools
import json
import os
import shlex
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from _common import DEFAULT_ROOT, command, device_name, markdown_table

from sklearn_musemb import Units, load_midi_corpus, segment_beats, segment_notes
from sklearn_musemb.embedders import (
    AAdjDEmbedder,
    AdjDEmbedder,
    ConditionalSimilarityEmbedder,
    ContextRollEmbedder,
    ContrastiveEmbedder,
    DenoisingRollEmbedder,
    DSSMEmbedder,
    TagTripletEmbedder,
    VAEEmbedder,
)
from sklearn_musemb.encodings import group_chords, piano_roll, relative, two_hot
from sklearn_musemb.encodings.corruption import note_drop
from sklearn_musemb.nn.losses import (
    dssm_logits,
    kl_to_standard_normal,
    nt_xent_loss,
    prior_discriminator_loss,
    prior_generator_loss,
    reconstruction_loss,
)
from sklearn_musemb.nn.triplet import (
    batch_hard_triplet_loss,
    cosine_distances,
    semihard_triplet_loss,
    squared_euclidean,
)
from sklearn_musemb.units.performance import (
    extended_windows,
    notes_after_needed,
    perform_unit_events,
    successor_rows,
)
from sklearn_musemb.utils.torch_utils import autocast, resolve_device

RESULTS = Path(__file__).resolve().parent / "results"
#: Feature maps of the audio families: the multi-input conditional network of
#: ``audio_similarity.py`` (mel 128 + tempogram 30 + CENS 12 bins, 259 frames
#: pooled by 4) and the 80 x 130 log-mel of Schindler & Knees.
CSN_SHAPE, CSN_INPUTS = (170, 64), (128, 30, 12)
TAG_SHAPE = (80, 130)
#: Rows measured while the 1-minute load average exceeded the core count by more
#: than this are flagged as contended in the markdown.
CONTENDED_LOAD = 0.5


@dataclass
class Workload:
    """What a hand-written loop trains on and embeds, already on the device."""

    #: training units (adjacent pairs and items come from them); None for maps
    units: Units | None
    #: compact events of ``units``, or the feature maps
    train: torch.Tensor
    #: targets of the audio families (labels or relatedness vectors)
    y: torch.Tensor | None
    #: what the transform ceiling embeds (events or maps)
    embed: torch.Tensor

    @property
    def device(self) -> str:
        return str(self.train.device)


# -- hand-written loops -------------------------------------------------------------
def _adam(module: torch.nn.Module, lr: float) -> torch.optim.Optimizer:
    return torch.optim.Adam(module.parameters(), lr=lr)


def _update(opt: torch.optim.Optimizer, loss: torch.Tensor) -> None:
    """One optimizer step on ``loss``."""
    opt.zero_grad()
    loss.backward()
    opt.step()


def _trainable(est) -> tuple[torch.nn.Module, torch.optim.Optimizer]:
    """A copy of the estimator's network, in training mode, and its optimizer."""
    net = copy.deepcopy(est.module_).train()
    return net, _adam(net, est.lr)


def _embed_all(
    encode: Callable,
    embed: Callable,
    net: torch.nn.Module,
    data: torch.Tensor,
    batch: int,
    precision: str,
):
    """The transform ceiling: encode and embed every row, results stay on device."""
    device = str(data.device)

    def run() -> int:
        net.eval()
        with torch.inference_mode(), autocast(device, precision):
            for start in range(0, len(data), batch):
                embed(encode(data[start : start + batch]))
        net.train()
        return len(data)

    return run


def _pairs_on(work: Workload) -> tuple[torch.Tensor, torch.Tensor]:
    first, second = work.units.adjacent_pairs()
    return tuple(torch.as_tensor(a, device=work.device) for a in (first, second))


def adjacency_ceiling(est, work: Workload, batch: int, precision: str):
    """AdjD / A-AdjD: encoder + pair classifier (+ discriminator and generator)."""
    device = work.device
    net, opt = _trainable(est)
    events = work.train
    first, second = _pairs_on(work)
    k = est.n_negatives
    target = torch.zeros(batch * (1 + k), dtype=torch.long, device=device)
    target[:batch] = 1
    if est.adversarial:
        disc = copy.deepcopy(est.discriminator_).train()
        opt_disc, opt_gen = _adam(disc, 1e-4), _adam(net.encoder, 1e-4)

    def step() -> None:
        i = torch.randint(len(first), (batch,), device=device)
        neg = torch.randint(len(events), (batch * k,), device=device)
        with autocast(device, precision):
            emb = net.encoder(two_hot(events[torch.cat([first[i], second[i], neg])]))
            a, rest = emb[:batch], emb[batch:]
            left = torch.cat([a, a.repeat_interleave(k, dim=0)])
            loss = F.cross_entropy(net.classifier(left, rest).float(), target)
        _update(opt, loss)
        if est.adversarial:
            with autocast(device, precision):
                z = net.encoder(two_hot(events[first[i]]))
                d_loss = prior_discriminator_loss(
                    disc(torch.randn(z.shape, device=device)), disc(z.detach())
                )
            _update(opt_disc, d_loss)
            with autocast(device, precision):
                g_loss = prior_generator_loss(disc(z))
            _update(opt_gen, g_loss)

    return step, _embed_all(two_hot, net.encoder, net, work.embed, batch, precision)


def dssm_ceiling(est, work: Workload, batch: int, precision: str):
    """DSSM: query, positive and negatives through one encoder, softmax over cosines."""
    device = work.device
    net, opt = _trainable(est)
    events = work.train
    first, second = _pairs_on(work)
    k = est.n_negatives
    target = torch.zeros(batch, dtype=torch.long, device=device)

    def step() -> None:
        i = torch.randint(len(first), (batch,), device=device)
        neg = torch.randint(len(events), (batch * k,), device=device)
        with autocast(device, precision):
            emb = net(two_hot(events[torch.cat([first[i], second[i], neg])]))
            q, p, n = emb[:batch], emb[batch : 2 * batch], emb[2 * batch :]
            logits = dssm_logits(q, p, n.view(batch, k, -1), scale=est.similarity_scale)
            loss = F.cross_entropy(logits.float(), target)
        _update(opt, loss)

    return step, _embed_all(two_hot, net, net, work.embed, batch, precision)


def vae_ceiling(est, work: Workload, batch: int, precision: str):
    """VAE: encode, reparameterise, decode, reconstruction + KL."""
    device = work.device
    net, opt = _trainable(est)
    events = work.train

    def step() -> None:
        rows = torch.randint(len(events), (batch,), device=device)
        with autocast(device, precision):
            x = two_hot(events[rows])
            mean, log_var = net.encode(x)
            code = mean + (0.5 * log_var).exp() * torch.randn_like(mean)
            out = net.decode(code)
            loss = reconstruction_loss(out.float(), x) + est.kl_weight * (
                kl_to_standard_normal(mean.float(), log_var.float())
            )
        _update(opt, loss)

    return step, _embed_all(two_hot, net.embed, net, work.embed, batch, precision)


def contrastive_ceiling(est, work: Workload, batch: int, precision: str):
    """Contrastive: performed anchors, second performances, neighbours; NT-Xent."""
    device = work.device
    net, opt = _trainable(est)
    events = work.train
    first, second = _pairs_on(work)
    units, n_notes = work.units, events.shape[1]
    hop = int(units.meta.get("hop", n_notes))
    successor = torch.as_tensor(successor_rows(units), device=device)
    model = est._augmentation()
    strengths = model.strengths()
    n_after = notes_after_needed(n_notes, model.deletion_rate)
    chord_ms, temperature = float(est.chord_ms), float(est.temperature)
    cut_chord_ms = float(units.meta.get("chord_ms", 0.0) or chord_ms)
    generator = torch.Generator(device=device).manual_seed(0)

    def encode(ev: torch.Tensor) -> torch.Tensor:
        return relative(group_chords(ev, chord_ms))

    def project(rows: torch.Tensor) -> torch.Tensor:
        """Play ``rows`` (with the notes after them), encode, embed and project."""
        windows, final_zero, n_real = extended_windows(
            events, rows, successor, hop, n_after
        )
        played, ok = perform_unit_events(
            windows, n_notes, strengths, generator=generator,
            final_zero=final_zero, chord_ms=cut_chord_ms, n_real=n_real,
        )  # fmt: skip
        played = torch.where(ok[:, None, None], played, events[rows].to(torch.int32))
        return net(encode(played))

    def step() -> None:
        i = torch.randint(len(first), (batch,), device=device)
        swap = torch.rand(batch, generator=generator, device=device) < 0.5
        anchor = torch.where(swap, second[i], first[i])
        with autocast(device, precision):
            z = project(anchor)
            views = []
            if est.positives in ("perturbed", "both"):
                views.append(project(anchor))  # a second, independent performance
            if est.positives in ("adjacent", "both"):
                views.append(project(torch.where(swap, first[i], second[i])))
            loss = sum(nt_xent_loss(z, v, temperature) for v in views) / len(views)
        _update(opt, loss)

    return step, _embed_all(encode, net.embed, net, work.embed, batch, precision)


def roll_ceiling(est, work: Workload, batch: int, precision: str):
    """Tied conv autoencoder on 60 x 96 rolls built on the device, in-batch softmax."""
    device = work.device
    net, opt = _trainable(est)
    events = work.train
    items = torch.as_tensor(est._training_data(work.units)[0], device=device)
    n_ticks, pitch_range = est.roll_shape_[1], tuple(est.pitch_range_)
    k = est.n_negatives
    rows = torch.arange(batch, device=device)[:, None]
    zero = torch.zeros(batch, dtype=torch.long, device=device)
    corrupt = est.corruption == "note_drop" if hasattr(est, "corruption") else False
    generator = torch.Generator(device=device).manual_seed(0)

    def roll(ev: torch.Tensor) -> torch.Tensor:
        return piano_roll(
            ev, n_ticks=n_ticks, pitch_range=pitch_range, check_ticks=False
        )

    def step() -> None:
        picked = items[torch.randint(len(items), (batch,), device=device)]
        rolls = roll(events[picked.flatten()]).view(*picked.shape, *est.roll_shape_)
        source = rolls[:, 0]
        target = rolls[:, 1:].sum(1) if picked.shape[1] > 1 else source
        if corrupt:
            source = note_drop(source, generator)
        with autocast(device, precision):
            recon = net.decode(net.embed(source))
            cos = (
                F.normalize(target.flatten(1), dim=1)
                @ F.normalize(recon.float().flatten(1), dim=1).T
            )
            offset = torch.randint(1, batch, (batch, k), device=device)
            logits = est.similarity_scale * cos.gather(
                1, torch.cat([rows, (rows + offset) % batch], dim=1)
            )
            loss = F.cross_entropy(logits, zero)
        _update(opt, loss)

    return step, _embed_all(roll, net.embed, net, work.embed, batch, precision)


def conditional_ceiling(est, work: Workload, batch: int, precision: str):
    """Conditional similarity network: masked sub-spaces, semi-hard triplets."""
    device = work.device
    net, opt = _trainable(est)
    maps = work.train
    codes = work.y
    others = ~torch.eye(batch, dtype=torch.bool, device=device)

    def step() -> None:
        rows = torch.randint(len(maps), (batch,), device=device)
        c = codes[rows]
        with autocast(device, precision):
            emb = net(maps[rows]).float()
            masks = net.dimension_masks()
            losses = []
            for s in range(c.shape[1]):
                same = c[:, None, s] == c[None, :, s]
                loss, _ = semihard_triplet_loss(
                    cosine_distances(emb * masks[s]),
                    same & others,
                    ~same & others,
                    est.margin,
                )
                losses.append(loss)
            loss = torch.stack(losses).mean()
        _update(opt, loss)

    return step, _embed_all(lambda m: m, net, net, work.embed, batch, precision)


def tag_triplet_ceiling(est, work: Workload, batch: int, precision: str):
    """Tag-triplet network: DPNN, batch-hard triplets from relatedness thresholds."""
    device = work.device
    net, opt = _trainable(est)
    maps = work.train
    vectors = work.y.float()

    def embed(m: torch.Tensor) -> torch.Tensor:
        return F.normalize(net(m).float(), dim=1)

    def step() -> None:
        rows = torch.randint(len(maps), (batch,), device=device)
        v = vectors[rows]
        related = v @ v.T
        off_diagonal = ~torch.eye(batch, dtype=torch.bool, device=device)
        with autocast(device, precision):
            loss, _ = batch_hard_triplet_loss(
                squared_euclidean(embed(maps[rows])),
                (related >= est.positive_threshold) & off_diagonal,
                (related < est.negative_threshold) & off_diagonal,
                est.margin,
            )
        _update(opt, loss)

    return step, _embed_all(lambda m: m, embed, net, work.embed, batch, precision)


# -- families -------------------------------------------------------------------------
@functools.cache
def _corpus(root: Path):
    """The corpus at ``root``, parsed once per run (every batch size reuses it)."""
    return load_midi_corpus(root)


def _units(root: Path, n: int, segment: Callable[..., Units]) -> Units:
    corpus = _corpus(root)
    return segment(corpus.pieces, piece_ids=corpus.piece_ids)[:n]


#: Data kinds of the audio families (random feature maps, not units).
AUDIO_KINDS = ("csn", "tags")

FAMILIES: dict[str, tuple[Callable, str, Callable]] = {
    # name: (estimator factory, data kind, hand-written loop)
    "AdjD": (AdjDEmbedder, "notes", adjacency_ceiling),
    "A-AdjD": (AAdjDEmbedder, "notes", adjacency_ceiling),
    "DSSM": (DSSMEmbedder, "notes", dssm_ceiling),
    "VAE": (VAEEmbedder, "notes", vae_ceiling),
    "contrastive (NT-Xent, performed)": (
        ContrastiveEmbedder,
        "notes",
        contrastive_ceiling,
    ),
    "DAE (tied conv, note drop)": (
        partial(DenoisingRollEmbedder, corruption="note_drop"),
        "beats",
        roll_ceiling,
    ),
    "context (tied conv)": (
        partial(ContextRollEmbedder, target="context"),
        "beats",
        roll_ceiling,
    ),
    "CSN (multi-input)": (
        partial(
            ConditionalSimilarityEmbedder,
            rules=["equal"] * 4,
            inputs=CSN_INPUTS,
            embedding_dim=120,
            module__width=8,
            module__n_blocks=2,
            module__branch_blocks=1,
        ),
        "csn",
        conditional_ceiling,
    ),
    "tag triplets (DPNN)": (
        partial(TagTripletEmbedder, embedding_dim=128),
        "tags",
        tag_triplet_ceiling,
    ),
}


def make_data(kind: str, n_items: int, root: Path, seed: int):
    """Training input and target of ``n_items`` items of one data kind."""
    rng = np.random.default_rng(seed)
    if kind == "notes":
        return _units(root, n_items + n_items // 50 + 10, segment_notes), None
    if kind == "beats":
        return _units(root, n_items + n_items // 20 + 10, segment_beats), None
    if kind == "csn":
        X = rng.standard_normal((n_items, *CSN_SHAPE), dtype=np.float32)
        return X, rng.integers(0, 5, (n_items, 4))
    X = rng.standard_normal((n_items, *TAG_SHAPE), dtype=np.float32)
    return X, np.eye(10)[rng.integers(0, 10, n_items)]


def tiled(X, n: int):
    """``X`` repeated to at least ``n`` rows (Units or arrays), cut to ``n``."""
    copies = -(-n // len(X))
    if isinstance(X, Units):
        return Units.concatenate([X] * copies)[:n] if copies > 1 else X
    return np.concatenate([X] * copies)[:n] if copies > 1 else X


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize(device)


def _timed(run: Callable[[], object], device: str) -> float:
    _sync(device)
    start = time.perf_counter()
    run()
    _sync(device)
    return time.perf_counter() - start


def measure(name: str, batch: int, precision: str, args, data_cache: dict) -> dict:
    factory, kind, ceiling = FAMILIES[name]
    key = (kind, batch)
    if key not in data_cache:
        data_cache.clear()  # one workload in memory at a time
        data_cache[key] = make_data(kind, batch * args.steps, args.root, args.seed)
    X, y = data_cache[key]
    device = resolve_device(args.device)
    load_before = os.getloadavg()[0]
    est = factory(
        batch_size=batch,
        max_epochs=1 + args.repeats,
        precision=precision,
        device=device,
        random_state=args.seed,
    ).fit(X, y)
    n_items = sum(est.history_[-1, "batches", :, "train_batch_size"])
    # best epoch after the first (warm-up), like timeit's best of repeats
    fit_ours = n_items / min(est.history_[1:, "dur"])

    # the hand-written loop trains on what fit saw, already on the device, and
    # embeds the same (larger) input as our transform, timed alternately with it
    audio = kind in AUDIO_KINDS
    Xt = tiled(X, args.audio_transform_units if audio else args.transform_units)
    units = None if audio else est._validate_units(X, reset=False)
    work = Workload(
        units=units,
        train=torch.as_tensor(np.asarray(X) if audio else units.events, device=device),
        y=None if y is None else torch.as_tensor(np.asarray(y), device=device),
        embed=torch.as_tensor(
            np.asarray(Xt) if audio else est._validate_units(Xt, reset=False).events,
            device=device,
        ),
    )
    with torch.random.fork_rng(devices=[device] if device.startswith("cuda") else []):
        torch.manual_seed(args.seed)
        step, embed_all = ceiling(est, work, batch, precision)
        for _ in range(args.warmup):
            step()
        steps_s = min(
            _timed(lambda: [step() for _ in range(args.steps)], device)
            for _ in range(args.repeats)
        )
        embed_all()
        est.transform(Xt)
        ours_s, embed_s = [], []
        for _ in range(args.repeats):
            ours_s.append(_timed(lambda: est.transform(Xt), device))
            embed_s.append(_timed(embed_all, device))
    fit_ceiling = batch * args.steps / steps_s
    transform_ours = len(Xt) / min(ours_s)
    transform_ceiling = len(Xt) / min(embed_s)
    row = {
        "family": name,
        "batch_size": batch,
        "precision": precision,
        "device": device,
        "items": n_items,
        "fit_items_per_s": round(fit_ours, 1),
        "fit_ceiling_items_per_s": round(fit_ceiling, 1),
        "fit_ratio": round(fit_ours / fit_ceiling, 3),
        "transform_units_per_s": round(transform_ours, 1),
        "transform_ceiling_units_per_s": round(transform_ceiling, 1),
        "transform_ratio": round(transform_ours / transform_ceiling, 3),
        # 1-minute load average before and after: other processes on the machine
        # slow ours and the ceiling unequally (see ``markdown``)
        "load": [round(load_before, 2), round(os.getloadavg()[0], 2)],
    }
    print(json.dumps(row), flush=True)
    return row


def markdown(results: list[dict]) -> str:
    lines = [
        "# fit and transform throughput against a hand-written ceiling",
        "",
        "Made by `benchmarks/speed.py` (see its docstring for what is timed). "
        "Ratios are ours / ceiling; the targets are fit >= 0.80 and transform "
        ">= 0.90.",
    ]
    for result in results:
        lines += [
            "",
            f"## {result['device_name']}",
            "",
            f"Command: `{result['command']}`; torch {result['torch']}; "
            f"{result['steps']} timed steps per fit ceiling.",
            "",
        ]
        lines += markdown_table(
            [
                "family", "batch", "precision", "fit items/s", "ceiling", "ratio",
                "transform units/s", "ceiling", "ratio",
            ],
            (
                [
                    r["family"], r["batch_size"], r["precision"],
                    f"{r['fit_items_per_s']:,.0f}",
                    f"{r['fit_ceiling_items_per_s']:,.0f}",
                    f"{r['fit_ratio']:.2f}",
                    f"{r['transform_units_per_s']:,.0f}",
                    f"{r['transform_ceiling_units_per_s']:,.0f}",
                    f"{r['transform_ratio']:.2f}",
                ]
                for r in result["rows"]
            ),
        )  # fmt: skip
        cores = result.get("cpu_count")
        busy = [
            f"{r['family']} {r['batch_size']} {r['precision']} "
            f"({r['load'][0]:.1f} -> {r['load'][1]:.1f})"
            for r in result["rows"]
            if cores and max(r.get("load", [0])) > cores + CONTENDED_LOAD
        ]
        if busy:
            lines += [
                "",
                f"Contended: other processes shared the {cores} cores while these "
                "rows ran (1-minute load average before -> after, above "
                f"{cores} + {CONTENDED_LOAD}); their timings are noisy: "
                + "; ".join(busy)
                + ".",
            ]
    return "\n".join(lines) + "\n"


#: Options that choose which rows are measured, not how: a ``--resume`` run may
#: differ from the run that made the file in these only.
ROW_SELECTION = ("--families", "--batch-sizes", "--precisions", "--audio-batch-sizes")


def settings(cmd: str) -> str:
    """``cmd`` without ``--resume`` and the options of :data:`ROW_SELECTION`.

    What every row of one results file shares.
    """
    kept, selecting = [], False
    for word in shlex.split(cmd):
        if word.startswith("--"):
            selecting = word.split("=")[0] in ROW_SELECTION
            if word == "--resume" or ("=" in word and selecting):
                continue
        if not selecting:
            kept.append(word)
    return shlex.join(kept)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--families", nargs="+", default=list(FAMILIES))
    parser.add_argument("--batch-sizes", nargs="+", type=int, default=[256, 1024, 4096])
    parser.add_argument("--precisions", nargs="+", default=["fp32", "bf16"])
    parser.add_argument(
        "--audio-batch-sizes",
        nargs="+",
        type=int,
        default=None,
        help="batch sizes of the audio families (default: --batch-sizes)",
    )
    parser.add_argument("--steps", type=int, default=8, help="batches per epoch")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument(
        "--repeats", type=int, default=3, help="timed repeats; the best is kept"
    )
    parser.add_argument("--transform-units", type=int, default=65_536)
    parser.add_argument("--audio-transform-units", type=int, default=1024)
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out-dir", type=Path, default=RESULTS)
    parser.add_argument(
        "--resume",
        action="store_true",
        help="keep the rows already in speed_<device>.json and measure the rest",
    )
    args = parser.parse_args(argv)
    unknown = set(args.families) - set(FAMILIES)
    if unknown:
        parser.error(f"unknown families {sorted(unknown)}; choose from {[*FAMILIES]}")

    device = resolve_device(args.device)
    tag = "gpu" if device.startswith("cuda") else "cpu"
    path = args.out_dir / f"speed_{tag}.json"
    result = {
        # --resume does not change what is measured, so the command omits it
        "command": command(drop=["--resume"]),
        "device_name": device_name(device),
        "torch": torch.__version__,
        "steps": args.steps,
        "cpu_count": os.cpu_count(),
        "rows": [],
    }
    if args.resume and path.exists():
        before = json.loads(path.read_text())
        # the rows added are measured as the file's command measures its rows
        # (and would measure these: a family added to FAMILIES, say), so the
        # file keeps its command
        if settings(before["command"]) != settings(result["command"]):
            parser.error(
                f"--resume: {path} was measured by `{before['command']}`, with other "
                f"settings than `{result['command']}`; use another --out-dir"
            )
        result["command"] = before["command"]
        result["rows"] = before["rows"]
    done = {(r["family"], r["batch_size"], r["precision"]) for r in result["rows"]}
    args.out_dir.mkdir(parents=True, exist_ok=True)
    cache = {}
    for name in args.families:
        audio = FAMILIES[name][1] in AUDIO_KINDS
        sizes = args.audio_batch_sizes if audio and args.audio_batch_sizes else None
        for batch in sizes or args.batch_sizes:
            for precision in args.precisions:
                if (name, batch, precision) in done:
                    continue
                result["rows"].append(measure(name, batch, precision, args, cache))
                # saved after every row, so an interrupted run can --resume
                path.write_text(json.dumps(result, indent=1) + "\n")
    everything = [
        json.loads(p.read_text()) for p in sorted(args.out_dir.glob("speed_*.json"))
    ]
    (args.out_dir / "speed.md").write_text(markdown(everything))
    print(markdown([result]))


if __name__ == "__main__":
    main()
