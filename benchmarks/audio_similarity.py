"""Papers 002 and 004 on audio rendered from piano-midi: CSN triplet scores and
tag-triplet precision@100.

The clips come from :func:`sklearn_musemb.audio.make_rendered_clips` (every piece
rendered by FluidSynth with several General MIDI instruments and tempo factors,
labelled with composer, era, form, key, tempo and instrument). Pieces, not clips,
are split: about a fifth of each composer's pieces are test pieces.

1. Conditional similarity network (paper 002): single-input (log-mel) vs
   multi-input (log-mel + cyclic tempogram + CENS chroma), 4 dimensions (composer,
   era, form, instrument) vs 6 (+ tempo, key), against an MFCC/chroma-statistics
   baseline. Triplet score per dimension on test triplets drawn from the labels
   (positive and negative from other pieces than the anchor's), track embedding =
   mean of the 3 s segment embeddings. Sub-space combination table and a radar
   chart of the single dimensions for the 6-dimension multi-input model.
2. Tag triplets (paper 004): a DPNN on 6 s of 80-band log-mel (read from a 3 s
   offset) trained with triplets selected by LSI relatedness of the combined tag
   sets (composer, era, form, key, instrument), over the number of LSI topics, vs
   triplets of plain label equality (all five tags equal), vs the baseline.
   Precision@100 per facet on the test clips, never retrieving the query's piece.

Runs on CPU in about 40 minutes with the defaults; ``--device cuda`` (or "auto" on
a GPU machine) runs the same thing on a GPU, where the budget flags can grow.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from _common import DEFAULT_ROOT, device_name

from sklearn_musemb.audio import (
    LogMelSpectrogram,
    MultiInputFeatures,
    aggregate_segments,
    frame_grid,
    make_rendered_clips,
)
from sklearn_musemb.embedders import ConditionalSimilarityEmbedder, TagTripletEmbedder
from sklearn_musemb.metrics import (
    precision_at_k,
    sample_dimension_triplets,
    subspace_scores,
    triplet_score,
)

DIMENSIONS_4 = ["composer", "era", "form", "instrument"]
DIMENSIONS_6 = [*DIMENSIONS_4, "tempo_bpm", "key"]
RULES = {"tempo_bpm": "tempo", "key": "key"}
FACETS = ["composer", "era", "form", "key", "instrument"]


# -- data -------------------------------------------------------
def piece_split(frame: pd.DataFrame, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Clip indices of train and test: a fifth of each composer's pieces is test.

    Composers with fewer than 3 pieces keep them all in train.
    """
    rng = np.random.default_rng(seed)
    pieces = frame.drop_duplicates("piece_id")
    test_ids = []
    for _, group in pieces.groupby("composer"):
        ids = rng.permutation(group["piece_id"].to_numpy())
        if len(ids) >= 3:
            test_ids.extend(ids[: max(1, round(len(ids) / 5))])
    is_test = frame["piece_id"].isin(test_ids).to_numpy()
    return np.flatnonzero(~is_test), np.flatnonzero(is_test)


def pool_frames(maps: np.ndarray, factor: int) -> np.ndarray:
    """Mean over runs of ``factor`` frames (the CPU budget's coarser time grid)."""
    if factor == 1:
        return maps
    n_frames = maps.shape[-1] // factor * factor
    pooled = maps[..., :n_frames].reshape(*maps.shape[:-1], -1, factor)
    return pooled.mean(axis=-1)


def cut_segments(
    maps: np.ndarray, frames_per_segment: int
) -> tuple[np.ndarray, np.ndarray]:
    """Non-overlapping segments of every clip's maps, and the clip of each."""
    n_segments = maps.shape[-1] // frames_per_segment
    cut = maps[..., : n_segments * frames_per_segment]
    cut = cut.reshape(len(maps), maps.shape[1], n_segments, frames_per_segment)
    segments = cut.transpose(0, 2, 1, 3).reshape(-1, maps.shape[1], frames_per_segment)
    return np.ascontiguousarray(segments), np.repeat(np.arange(len(maps)), n_segments)


def baseline_statistics(audio: np.ndarray, sr: int, train: np.ndarray) -> np.ndarray:
    """What a user tries first: mean and std of 20 MFCCs and 12 chroma, z-scored."""
    import librosa

    rows = []
    for clip in audio:
        clip = np.asarray(clip, dtype=np.float32)
        mfcc = librosa.feature.mfcc(y=clip, sr=sr, n_mfcc=20)
        chroma = librosa.feature.chroma_stft(y=clip, sr=sr)
        rows.append(
            np.concatenate([mfcc.mean(1), mfcc.std(1), chroma.mean(1), chroma.std(1)])
        )
    stats = np.asarray(rows)
    mean, std = stats[train].mean(0), stats[train].std(0)
    return (stats - mean) / np.where(std > 0, std, 1.0)


# -- paper 002 --------------------------------------------------
def run_csn(args, clips, train, test, baseline) -> dict:
    sr = clips.sr
    _, hop = frame_grid(sr)
    frames_per_segment = int(round(args.segment_s * sr / hop)) // args.frame_pool
    t0 = time.perf_counter()
    features = MultiInputFeatures().fit(clips.audio[train])
    maps = features.transform(clips.audio).astype(np.float32)
    feature_s = time.perf_counter() - t0
    maps = pool_frames(maps, args.frame_pool)
    segments, clip_of = cut_segments(maps, frames_per_segment)
    n_mel = features.input_bands_[0]
    train_rows = np.flatnonzero(np.isin(clip_of, train))
    test_rows = np.flatnonzero(np.isin(clip_of, test))
    frame = clips.frame
    test_frame = frame.iloc[test].reset_index(drop=True)
    triplets = sample_dimension_triplets(
        test_frame[DIMENSIONS_6],
        RULES,
        n_triplets=args.n_triplets,
        groups=test_frame["piece_id"],
        random_state=args.seed,
    )
    result = {
        "feature_seconds": feature_s,
        "feature_ms_per_segment": 1000 * feature_s / len(segments),
        "segments": {"train": len(train_rows), "test": len(test_rows)},
        "segment_shape": list(segments.shape[1:]),
        "input_bands": list(features.input_bands_),
        "n_triplets_per_dimension": args.n_triplets,
        "models": {},
    }

    def scores(track_embeddings: np.ndarray) -> dict:
        out = {d: triplet_score(track_embeddings, t) for d, t in triplets.items()}
        out["overall"] = triplet_score(
            track_embeddings, np.concatenate(list(triplets.values()))
        )
        return out

    result["models"]["MFCC/chroma statistics"] = {"scores": scores(baseline[test])}
    best = None
    for multi in (False, True):
        for dims in (DIMENSIONS_4, DIMENSIONS_6):
            name = f"{'multi' if multi else 'single'}-input, {len(dims)} dims"
            X = segments if multi else segments[:, :n_mel]
            y = frame.iloc[clip_of[train_rows]][dims].reset_index(drop=True)
            model = ConditionalSimilarityEmbedder(
                rules={k: v for k, v in RULES.items() if k in dims},
                inputs=tuple(features.input_bands_) if multi else None,
                embedding_dim=args.csn_dim,
                module__width=args.csn_width,
                module__n_blocks=args.csn_blocks,
                module__branch_blocks=1,
                max_epochs=args.csn_epochs,
                batch_size=args.csn_batch,
                lr=args.csn_lr,
                device=args.device,
                random_state=args.seed,
            )
            t0 = time.perf_counter()
            model.fit(X[train_rows], y)
            train_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            seg_emb = model.transform(X[test_rows])
            transform_s = time.perf_counter() - t0
            tracks = aggregate_segments(
                seg_emb, np.searchsorted(test, clip_of[test_rows])
            )
            result["models"][name] = {
                "scores": scores(tracks),
                "train_seconds": train_s,
                "train_segments_per_s": len(train_rows) * args.csn_epochs / train_s,
                "transform_segments_per_s": len(test_rows) / transform_s,
                "final_train_loss": float(model.history_[-1, "train_loss"]),
                "pair_fraction": float(model.history_[-1, "train_pair_fraction"]),
            }
            print(name, json.dumps(result["models"][name]), flush=True)
            if multi and len(dims) == 6:
                best = (model, tracks)
    model, tracks = best
    result["subspaces"] = [
        {**row, "dimensions": list(row["dimensions"])}
        for row in subspace_scores(
            model,
            tracks,
            {**triplets, "all": np.concatenate(list(triplets.values()))},
        )
    ]
    return result


# -- paper 004 --------------------------------------------------
def run_tag_triplets(args, clips, train, test, baseline) -> dict:
    sr = clips.sr
    window = clips.audio[:, int(3 * sr) : int(9 * sr)]
    mel = LogMelSpectrogram.schindler_knees_2019().fit(window[train])
    maps = mel.transform(window).astype(np.float32)
    frame = clips.frame
    tags = pd.DataFrame({f: [[str(v)] for v in frame[f]] for f in FACETS})
    exact = frame[FACETS].astype(str).agg("|".join, axis=1).to_numpy()
    pieces = frame["piece_id"].to_numpy()
    test_frame = frame.iloc[test]

    def precision(track_embeddings: np.ndarray) -> dict:
        out = {
            f: precision_at_k(
                track_embeddings,
                test_frame[f].astype(str).to_numpy(),
                k=args.k,
                groups=pieces[test],
            )
            for f in FACETS
        }
        out["mean"] = float(np.mean([out[f] for f in FACETS]))
        return out

    result = {"map_shape": list(maps.shape[1:]), "k": args.k, "models": {}}
    result["models"]["MFCC/chroma statistics"] = {
        "precision": precision(baseline[test])
    }
    runs = [(f"LSI relatedness, {n} topics", n) for n in args.topics]
    runs.append(("label equality (all five tags equal)", None))
    for name, n_topics in runs:
        from sklearn_musemb.tags import LSITagTransformer

        model = TagTripletEmbedder(
            tag_model=None
            if n_topics is None
            else LSITagTransformer(n_topics=n_topics, random_state=args.seed),
            embedding_dim=args.tag_dim,
            module__channels=tuple(args.tag_channels),
            max_epochs=args.tag_epochs,
            batch_size=args.tag_batch,
            lr=args.tag_lr,
            device=args.device,
            random_state=args.seed,
        )
        y = tags.iloc[train] if n_topics is not None else exact[train]
        t0 = time.perf_counter()
        model.fit(maps[train], y, groups=pieces[train])
        train_s = time.perf_counter() - t0
        result["models"][name] = {
            "precision": precision(model.transform(maps[test])),
            "train_seconds": train_s,
            "train_clips_per_s": len(train) * args.tag_epochs / train_s,
            "final_train_loss": float(model.history_[-1, "train_loss"]),
            "triplet_fraction": float(model.history_[-1, "train_triplet_fraction"]),
        }
        print(name, json.dumps(result["models"][name]), flush=True)
    return result


# -- reports ----------------------------------------------------
def csn_markdown(meta: dict, csn: dict) -> str:
    dims = [*DIMENSIONS_6, "overall"]
    lines = [
        "# Conditional similarity networks on rendered piano-midi (paper 002)",
        "",
        f"Command: `{meta['command']}`",
        "",
        f"Device: {meta['device']}. Clips: {meta['clips']} ({meta['pieces']} pieces), "
        f"train/test clips {meta['train_clips']}/{meta['test_clips']} (split by "
        f"piece). Segments {csn['segments']}, map {csn['segment_shape']} "
        f"(bins x frames, frames pooled by {meta['args']['frame_pool']}), inputs "
        f"{csn['input_bands']}. Features: {csn['feature_ms_per_segment']:.1f} ms "
        f"per 3 s segment (librosa, CPU). {csn['n_triplets_per_dimension']} test "
        "triplets per dimension, positives and negatives from other pieces.",
        "",
        "Triplet score (share of triplets with d(a, p) < d(a, n), Euclidean, track ="
        " mean of segment embeddings):",
        "",
        "| model | " + " | ".join(dims) + " | train s | segments/s |",
        "|---|" + "---|" * (len(dims) + 2),
    ]
    for name, model in csn["models"].items():
        s = model["scores"]
        lines.append(
            f"| {name} | "
            + " | ".join(f"{s.get(d, float('nan')):.3f}" for d in dims)
            + f" | {model.get('train_seconds', 0):.0f} | "
            + f"{model.get('train_segments_per_s', float('nan')):.0f} |"
        )
    lines += [
        "",
        "Sub-spaces of the 6-dimension multi-input model (paper 002, Table 2): top 8"
        " combinations by mean score, then the single dimensions.",
        "",
        "| sub-spaces | " + " | ".join(DIMENSIONS_6) + " | all |",
        "|---|" + "---|" * (len(DIMENSIONS_6) + 1),
    ]
    rows = csn["subspaces"]
    singles = [r for r in rows if len(r["dimensions"]) == 1]
    for row in rows[:8] + singles:
        lines.append(
            f"| {' + '.join(row['dimensions'])} | "
            + " | ".join(
                f"{row.get(d, float('nan')):.3f}" for d in [*DIMENSIONS_6, "all"]
            )
            + " |"
        )
    return "\n".join(lines) + "\n"


def tag_markdown(meta: dict, tag: dict) -> str:
    cols = [*FACETS, "mean"]
    lines = [
        "# Tag-triplet embeddings on rendered piano-midi (Schindler & Knees 2019)",
        "",
        f"Command: `{meta['command']}`",
        "",
        f"Device: {meta['device']}. Input {tag['map_shape']} log-mel (6 s from a 3 s "
        f"offset). Precision@{tag['k']} per facet on the {meta['test_clips']} test "
        "clips, never retrieving clips of the query's piece.",
        "",
        "| triplets | " + " | ".join(cols) + " | train s | triplet fraction |",
        "|---|" + "---|" * (len(cols) + 2),
    ]
    for name, model in tag["models"].items():
        p = model["precision"]
        lines.append(
            f"| {name} | "
            + " | ".join(f"{p[c]:.3f}" for c in cols)
            + f" | {model.get('train_seconds', 0):.0f} | "
            + f"{model.get('triplet_fraction', float('nan')):.2f} |"
        )
    return "\n".join(lines) + "\n"


def radar_chart(rows: list[dict], path: Path) -> None:
    """Kiviat diagram of the single-dimension sub-spaces (paper 002, Fig. 3)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sklearn_musemb.plotting import plot_dimension_radar

    singles = {r["dimensions"][0]: r for r in rows if len(r["dimensions"]) == 1}
    scores = {
        "its own dimension's triplets": {d: singles[d][d] for d in DIMENSIONS_6},
        "all triplets": {d: singles[d]["all"] for d in DIMENSIONS_6},
    }
    fig, ax = plt.subplots(figsize=(6, 6), subplot_kw={"polar": True})
    plot_dimension_radar(
        scores,
        ax=ax,
        ylim=(0.4, 1.0),
        title="Triplet score of each single sub-space\n(6-dim multi-input CSN)",
    )
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT)
    parser.add_argument("--programs", nargs="+", default=["piano", "strings", "organ"])
    parser.add_argument("--tempo-factors", nargs="+", type=float, default=[0.8, 1.25])
    parser.add_argument("--clip-s", type=float, default=12.0)
    parser.add_argument("--max-pieces", type=int, default=None)
    parser.add_argument("--cache-dir", type=Path, default=None)
    parser.add_argument("--segment-s", type=float, default=3.0)
    parser.add_argument("--frame-pool", type=int, default=4)
    parser.add_argument("--n-triplets", type=int, default=2000)
    parser.add_argument("--csn-epochs", type=int, default=5)
    parser.add_argument("--csn-dim", type=int, default=120)
    parser.add_argument("--csn-width", type=int, default=8)
    parser.add_argument("--csn-blocks", type=int, default=2)
    parser.add_argument("--csn-batch", type=int, default=128)
    parser.add_argument("--csn-lr", type=float, default=1e-3)
    parser.add_argument("--topics", nargs="+", type=int, default=[8, 64])
    parser.add_argument("--k", type=int, default=100)
    parser.add_argument("--tag-epochs", type=int, default=15)
    parser.add_argument("--tag-dim", type=int, default=128)
    parser.add_argument("--tag-channels", nargs="+", type=int, default=[8, 16, 32])
    parser.add_argument("--tag-batch", type=int, default=600)
    parser.add_argument("--tag-lr", type=float, default=1e-3)
    parser.add_argument("--skip", nargs="*", default=[], choices=["csn", "tags"])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out-dir", type=Path, required=True)
    args = parser.parse_args()
    args.out_dir.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(args.seed)

    t0 = time.perf_counter()
    clips = make_rendered_clips(
        args.root,
        programs=args.programs,
        tempo_factors=args.tempo_factors,
        clip_s=args.clip_s,
        max_pieces=args.max_pieces,
        cache_dir=args.cache_dir,
    )
    render_s = time.perf_counter() - t0
    train, test = piece_split(clips.frame, args.seed)
    device = (
        "cuda" if args.device == "auto" and torch.cuda.is_available() else args.device
    )
    meta = {
        "command": "python " + " ".join(sys.argv),
        "device": device_name("cpu" if device == "auto" else device),
        "clips": len(clips.frame),
        "pieces": int(clips.frame["piece_id"].nunique()),
        "skipped": [list(map(str, s)) for s in clips.skipped],
        "render_or_cache_seconds": render_s,
        "train_clips": len(train),
        "test_clips": len(test),
        "args": {
            k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()
        },
    }
    print(json.dumps(meta, indent=1), flush=True)
    baseline = baseline_statistics(clips.audio, clips.sr, train)
    if "csn" not in args.skip:
        csn = run_csn(args, clips, train, test, baseline)
        (args.out_dir / "csn.json").write_text(json.dumps({**meta, **csn}, indent=1))
        (args.out_dir / "csn.md").write_text(csn_markdown(meta, csn))
        radar_chart(csn["subspaces"], args.out_dir / "csn_radar.png")
    if "tags" not in args.skip:
        tag = run_tag_triplets(args, clips, train, test, baseline)
        (args.out_dir / "tag_triplets.json").write_text(
            json.dumps({**meta, **tag}, indent=1)
        )
        (args.out_dir / "tag_triplets.md").write_text(tag_markdown(meta, tag))


if __name__ == "__main__":
    main()
