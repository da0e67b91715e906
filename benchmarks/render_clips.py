"""Render labelled audio clips from piano-midi (and music21) with FluidSynth.

Each piece is rendered with several General MIDI instruments and tempo factors
by ``make_rendered_clips``; the clips (16-bit, ``clips.npy``), their labels
(``labels.csv``), the skipped files (``skipped.csv``) and a summary
(``summary.md``) go to ``--out``. Audio stays out of the repository: write it
under /tmp, and copy only the summary into ``benchmarks/results``.

Usage (from the repository root)::

    python benchmarks/render_clips.py --out /tmp/clips_piano_midi \\
        --programs piano strings organ --tempo-factors 0.8 1.25 --clip-s 12 \\
        --summary benchmarks/results/cpu/rendered_clips/summary.md
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from pathlib import Path

import numpy as np

from sklearn_musemb.audio.clips import make_rendered_clips
from sklearn_musemb.audio.render import find_soundfont

#: The piano-midi corpus next to the checkout (``../shared/data/piano-midi``).
DEFAULT_ROOT = Path(__file__).resolve().parents[1].parent / "shared/data/piano-midi"
FACETS = ("composer", "era", "form", "key", "mode", "key_source", "instrument")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT)
    parser.add_argument("--out", type=Path, default=Path("/tmp/clips_piano_midi"))
    parser.add_argument("--programs", nargs="+", default=["piano", "strings", "organ"])
    parser.add_argument("--tempo-factors", nargs="+", type=float, default=[0.8, 1.25])
    parser.add_argument("--clip-s", type=float, default=12.0)
    parser.add_argument("--sr", type=int, default=22050)
    parser.add_argument("--max-pieces", type=int, default=None)
    parser.add_argument(
        "--music21",
        nargs="*",
        default=None,
        metavar="COMPOSER",
        help="also render these composers of music21's corpus",
    )
    parser.add_argument("--music21-max-pieces", type=int, default=10)
    parser.add_argument("--soundfont", default=None)
    parser.add_argument("--n-jobs", type=int, default=None)
    parser.add_argument(
        "--cache-dir",
        default=None,
        help="clip cache (default: OUT/cache); 'none' renders everything again",
    )
    parser.add_argument("--summary", type=Path, default=None)
    args = parser.parse_args()

    cache = args.out / "cache" if args.cache_dir is None else args.cache_dir
    cache = False if str(cache).lower() == "none" else cache
    options = dict(
        programs=args.programs,
        tempo_factors=args.tempo_factors,
        clip_s=args.clip_s,
        sr=args.sr,
        soundfont=args.soundfont,
        cache_dir=cache,
        n_jobs=args.n_jobs,
        dtype="int16",
    )
    timings = {}
    start = time.perf_counter()
    parts = [make_rendered_clips(args.root, max_pieces=args.max_pieces, **options)]
    timings["piano-midi"] = time.perf_counter() - start
    if args.music21 is not None:
        from sklearn_musemb.io import load_music21_corpus

        start = time.perf_counter()
        scores = load_music21_corpus(
            args.music21 or ("bach", "beethoven", "mozart", "haydn"),
            max_pieces_per_composer=args.music21_max_pieces,
        )
        timings["music21 loading"] = time.perf_counter() - start
        start = time.perf_counter()
        parts.append(make_rendered_clips(scores, **options))
        timings["music21"] = time.perf_counter() - start

    audio = np.concatenate([p.audio for p in parts])
    frame = _concat_frames([p.frame for p in parts], ["piano-midi", "music21"])
    skipped = [s for p in parts for s in p.skipped]
    args.out.mkdir(parents=True, exist_ok=True)
    np.save(args.out / "clips.npy", audio)
    frame.to_csv(args.out / "labels.csv", index=False)
    (args.out / "skipped.csv").write_text(
        "path,reason\n" + "".join(f'"{p}","{r}"\n' for p, r in skipped)
    )
    command = "python " + shlex.join(sys.argv)
    text = _summary(command, frame, skipped, audio, args, timings)
    print(text)
    (args.out / "summary.md").write_text(text)
    if args.summary:
        args.summary.parent.mkdir(parents=True, exist_ok=True)
        args.summary.write_text(text)


def _concat_frames(frames: list, sources: list[str]):
    import pandas as pd

    tagged = [f.assign(source=s) for f, s in zip(frames, sources)]
    return pd.concat(tagged, ignore_index=True)


def _summary(command, frame, skipped, audio, args, timings) -> str:
    pieces = frame.drop_duplicates(["source", "piece_id"])
    lines = [
        "# Rendered clips",
        "",
        "```",
        command,
        "```",
        "",
        f"- SoundFont: {find_soundfont(args.soundfont)}; sample rate {args.sr} Hz; "
        f"clips of {args.clip_s:g} s; programs {', '.join(args.programs)}; tempo "
        f"factors {', '.join(f'{f:g}' for f in args.tempo_factors)}",
        f"- clips: {len(frame)} from {len(pieces)} pieces; skipped: {len(skipped)}",
        f"- audio: {len(frame) * args.clip_s / 3600:.2f} h, "
        f"{audio.nbytes / 2**20:.0f} MiB as int16",
    ]
    for source, seconds in timings.items():
        clips = int((frame["source"] == source).sum())
        if source not in set(frame["source"]):  # a loading step
            lines.append(f"- {source}: {seconds:.1f} s")
            continue
        audio_s = clips * args.clip_s
        lines.append(
            f"- {source}: {clips} clips in {seconds:.1f} s wall time "
            f"({audio_s / seconds:.0f}x realtime, {seconds / max(clips, 1) * 1000:.0f}"
            " ms per clip; reading, labelling, FluidSynth and cache files)"
        )
    lines.append("")
    if skipped:
        lines += ["## Skipped", ""]
        lines += [f"- `{path}`: {reason}" for path, reason in skipped] + [""]
    lines += ["## Labels per piece", ""]
    for facet in FACETS:
        table = pieces if facet != "instrument" else frame
        what = "pieces" if facet != "instrument" else "clips"
        counts = table[facet].value_counts()
        listed = ", ".join(f"{k} {n}" for k, n in counts.items())
        lines.append(f"- **{facet}** ({counts.size} values, {what}): {listed}")
    bpm = frame.groupby("tempo_factor")["tempo_bpm"].describe(
        percentiles=[0.1, 0.5, 0.9]
    )
    lines += ["", "## Tempo (quarter notes per minute) per tempo factor", ""]
    lines.append("| tempo factor | clips | min | 10% | median | 90% | max |")
    lines.append("|---|---|---|---|---|---|---|")
    for factor, row in bpm.iterrows():
        lines.append(
            f"| {factor:g} | {row['count']:.0f} | {row['min']:.0f} | "
            f"{row['10%']:.0f} | {row['50%']:.0f} | {row['90%']:.0f} | "
            f"{row['max']:.0f} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
