"""Unit counts and segmentation timings on piano-midi (the figures of docs/units.md).

For 40-note units (``segment_notes``) and 4-beat units (``segment_beats``, also with
``drop_empty=True``): units, deduplicated units, x12 transposed units and those
deduplicated; skipped pieces; empty windows and onsets per beat unit; and the
cost of the transposition limitation of beat units (transposing already segmented,
pitch-folded units against transposing the note tables first). Timings are the
best of ``--repeats`` runs on this machine, CPU only.

Usage (from the repository root)::

    python benchmarks/units_stats.py --out-dir benchmarks/results/cpu
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

import numpy as np
from _common import DEFAULT_ROOT

from sklearn_musemb import Transposer, Units, load_midi_corpus
from sklearn_musemb.units import deduplicate_units, segment_beats, segment_notes

SHIFTS = tuple(range(-6, 6))


def best_time(func, repeats: int) -> tuple[float, object]:
    best, out = np.inf, None
    for _ in range(repeats):
        start = time.perf_counter()
        out = func()
        best = min(best, time.perf_counter() - start)
    return round(best, 3), out


def counts(units: Units, repeats: int) -> dict:
    transpose_s, transposed = best_time(
        lambda: Transposer().fit_transform(units), repeats
    )
    dedup_s, deduplicated = best_time(lambda: deduplicate_units(transposed), repeats)
    return {
        "units": len(units),
        "deduplicated": len(deduplicate_units(units)),
        "transposed_x12": len(transposed),
        "transposed_x12_deduplicated": len(deduplicated),
        "skipped_pieces": len(units.meta.get("skipped", [])),
        "transpose_s": transpose_s,
        "deduplicate_x12_s": dedup_s,
    }


def shifted(pieces, shift: int):
    out = []
    for piece in pieces:
        notes = piece.notes.copy()
        pitch = notes["pitch"].astype(np.int16) + shift  # piano: stays in 0..127
        notes["pitch"] = pitch.astype(notes["pitch"].dtype)
        out.append(dataclasses.replace(piece, notes=notes))
    return out


def transposition_limitation(pieces, labels, beats: Units) -> dict:
    """Beat units transposed after segmenting vs note tables transposed before."""
    differing, total, before = 0, 0, []
    for shift in SHIFTS:
        after = Transposer(shifts=(shift,)).fit_transform(beats)
        first = segment_beats(shifted(pieces, shift), labels=labels)
        assert np.array_equal(after.piece, first.piece)
        assert np.array_equal(after.position, first.position)
        differing += int(
            (after.events != first.events).reshape(len(after), -1).any(1).sum()
        )
        total += len(after)
        before.append(first)
    return {
        "transposed_units": total,
        "units_differing": differing,
        "fraction_differing": round(differing / total, 4),
        "deduplicated_when_notes_transposed_first": len(
            deduplicate_units(Units.concatenate(before))
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out-dir", type=Path, default=None)
    args = parser.parse_args()

    read_s, corpus = best_time(lambda: load_midi_corpus(args.root), args.repeats)
    pieces, labels = corpus.pieces, corpus.labels
    notes_s, notes = best_time(
        lambda: segment_notes(pieces, labels=labels), args.repeats
    )
    beats_s, beats = best_time(
        lambda: segment_beats(pieces, labels=labels), args.repeats
    )
    dropped = segment_beats(pieces, labels=labels, drop_empty=True)
    onsets = beats.n_events
    widest = int(np.argmax(onsets))
    result = {
        "command": "python " + " ".join(sys.argv),
        "n_pieces": len(pieces),
        "read_corpus_s": read_s,
        "segment_notes_s": notes_s,
        "segment_beats_s": beats_s,
        "notes": counts(notes, args.repeats),
        "beats": counts(beats, args.repeats),
        "beats_drop_empty": counts(dropped, args.repeats),
        "beats_empty_windows": int((onsets == 0).sum()),
        "beats_onsets_per_unit": {
            "median": float(np.median(onsets)),
            "p99": float(np.percentile(onsets, 99)),
            "max": int(onsets[widest]),
            "max_piece": corpus.titles[beats.piece[widest]],
        },
        "beats_padded_array_mb": round(beats.events.nbytes / 1e6, 1),
        "beats_transposition_limitation": transposition_limitation(
            pieces, labels, beats
        ),
    }
    text = json.dumps(result, indent=1)
    print(text)
    if args.out_dir:
        args.out_dir.mkdir(parents=True, exist_ok=True)
        (args.out_dir / "units_stats.json").write_text(text + "\n")


if __name__ == "__main__":
    main()
