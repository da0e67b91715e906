"""Milliseconds per 3 s segment of the audio features, by backend and device.

Renders ``--n-pieces`` piano-midi pieces with FluidSynth (``--seconds`` each,
from ``--start-s``), cuts them into 3 s segments at 22050 Hz
(:func:`~sklearn_musemb.audio.segments.segment_audio`) and times ``transform``
of every feature transformer on all segments at once: the librosa backend, the
torch backend on the CPU and, when torch sees one, on CUDA. Also times
librosa's own ``chroma_cens`` per segment (which rebuilds the CQT filters and
estimates the tuning on every call) and records how far the torch features
lie from librosa's on this audio. Writes ``audio_features_speed.md`` and
``.json`` to ``--out-dir``.

Usage (from the repository root)::

    OMP_NUM_THREADS=1 python benchmarks/audio_features_speed.py \\
        --out-dir benchmarks/results/cpu/audio_features
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from _common import DEFAULT_ROOT, device_name

from sklearn_musemb.audio.features import (
    CENSChroma,
    CyclicTempogram,
    LogMelSpectrogram,
    MultiInputFeatures,
)
from sklearn_musemb.audio.io import load_audio
from sklearn_musemb.audio.segments import segment_audio

SR = 22050
FEATURES = {
    "log-mel (128)": LogMelSpectrogram,
    "cyclic tempogram (30)": CyclicTempogram,
    "CENS chroma (12)": CENSChroma,
}


def pick_pieces(root: Path, n: int, need_s: float) -> list[Path]:
    """``n`` pieces long enough, spread over the corpus (every k-th eligible row)."""
    with open(root / "metadata.csv", newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if float(r["duration"]) >= need_s]
    step = max(1, len(rows) // n)
    return [root / r["midi"] for r in rows[::step][:n]]


def render(path: Path, start_s: float, seconds: float) -> np.ndarray:
    try:
        from sklearn_musemb.audio.render import render_midi
    except ImportError:
        render_midi = None
    if render_midi is not None:
        return render_midi(path, SR, start_s=start_s, duration_s=seconds)
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "out.wav"
        subprocess.run(
            [
                "fluidsynth",
                "-ni",
                "-q",
                "-F",
                str(wav),
                "-r",
                str(SR),
                "/usr/share/sounds/sf2/TimGM6mb.sf2",
                str(path),
            ],
            check=True,
        )
        return load_audio(wav, SR, offset=start_s, duration=seconds)


def best_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def make(cls, backend: str, device: str | None, batch_size: int):
    if cls is MultiInputFeatures:
        parts = (make(c, backend, device, batch_size) for c in FEATURES.values())
        return MultiInputFeatures(**dict(zip(("mel", "tempogram", "chroma"), parts)))
    if backend == "librosa":
        return cls(batch_size=batch_size)
    return cls(backend="torch", device=device, batch_size=batch_size)


def markdown(result: dict) -> str:
    lines = [
        "# Audio feature speed (ms per 3 s segment)",
        "",
        f"Command: `{result['command']}`",
        "",
        f"{result['n_segments']} segments of 3 s at {SR} Hz from "
        f"{len(result['pieces'])} piano-midi pieces rendered with FluidSynth "
        f"({result['seconds']} s each from {result['start_s']} s); `transform` of "
        f"all segments, batches of {result['batch_size']}, best of "
        f"{result['repeats']}. CPU: {result['cpu']}; torch {result['torch']}.",
        "",
        "| feature | " + " | ".join(result["columns"]) + " |",
        "|---|" + "---|" * len(result["columns"]),
    ]
    for feature, row in result["ms_per_segment"].items():
        cells = [f"{row[c]:.2f}" if c in row else "-" for c in result["columns"]]
        lines.append(f"| {feature} | " + " | ".join(cells) + " |")
    ref = result["librosa_chroma_cens_per_call_ms"]
    lines += [
        "",
        f"librosa's own `chroma_cens(y=segment, hop_length=256, bins_per_octave=36)`"
        f" one segment per call (CQT filters rebuilt, tuning estimated): "
        f"{ref:.1f} ms per segment.",
        "",
        "Torch against librosa on these segments (after each transformer's own "
        "standardisation; max and mean absolute difference):",
        "",
        "| feature | max | mean |",
        "|---|---|---|",
    ]
    for feature, (worst, mean) in result["torch_vs_librosa"].items():
        lines.append(f"| {feature} | {worst:.2g} | {mean:.2g} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT)
    parser.add_argument("--n-pieces", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--start-s", type=float, default=10.0)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--out-dir", type=Path, default=None)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    pieces = pick_pieces(args.root, args.n_pieces, args.start_s + args.seconds)
    start = time.perf_counter()
    tracks = [render(p, args.start_s, args.seconds) for p in pieces]
    render_s = time.perf_counter() - start
    segments, _ = segment_audio(tracks, SR, 3.0)
    n = len(segments)
    print(
        f"rendered {len(pieces)} pieces in {render_s:.1f} s, {n} segments", flush=True
    )

    devices = [("librosa", None, "librosa"), ("torch", "cpu", "torch CPU")]
    if torch.cuda.is_available():
        gpu = device_name("cuda")
        devices.append(("torch", "cuda", f"torch CUDA ({gpu})"))
    columns = [label for *_, label in devices]
    ms: dict[str, dict[str, float]] = {}
    outputs: dict[tuple[str, str], np.ndarray] = {}
    classes = {**FEATURES, "all three (MultiInputFeatures)": MultiInputFeatures}
    for feature, cls in classes.items():
        ms[feature] = {}
        for backend, device, label in devices:
            est = make(cls, backend, device, args.batch_size)
            est.fit(segments[: args.batch_size])  # warm-up: caches, kernels
            outputs[feature, label] = est.transform(segments)
            seconds = best_time(lambda est=est: est.transform(segments), args.repeats)
            ms[feature][label] = 1000 * seconds / n
            print(f"{feature:32s} {label:30s} {ms[feature][label]:7.2f} ms", flush=True)

    import librosa

    sample = segments[:20]
    reference = best_time(
        lambda: [
            librosa.feature.chroma_cens(y=y, sr=SR, hop_length=256, bins_per_octave=36)
            for y in sample
        ],
        1,
    )
    diffs = {}
    for feature in FEATURES:
        gap = np.abs(outputs[feature, "torch CPU"] - outputs[feature, "librosa"])
        diffs[feature] = (float(gap.max()), float(gap.mean()))

    result = {
        "command": "python " + " ".join(sys.argv),
        "pieces": [str(p.relative_to(args.root)) for p in pieces],
        "seconds": args.seconds,
        "start_s": args.start_s,
        "n_segments": n,
        "batch_size": args.batch_size,
        "repeats": args.repeats,
        "render_s": render_s,
        "cpu": f"{platform.processor() or platform.machine()}, "
        f"{torch.get_num_threads()} torch thread(s), "
        f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}",
        "torch": torch.__version__,
        "librosa": librosa.__version__,
        "columns": columns,
        "ms_per_segment": ms,
        "librosa_chroma_cens_per_call_ms": 1000 * reference / len(sample),
        "torch_vs_librosa": diffs,
    }
    print(markdown(result))
    if args.out_dir is not None:
        args.out_dir.mkdir(parents=True, exist_ok=True)
        (args.out_dir / "audio_features_speed.json").write_text(
            json.dumps(result, indent=1) + "\n"
        )
        (args.out_dir / "audio_features_speed.md").write_text(markdown(result))


if __name__ == "__main__":
    main()
