"""How fast does :func:`sklearn_musemb.io.read_midi` parse a MIDI corpus?

Parses every ``*.mid`` file under a folder (default: the piano-midi corpus at
``../shared/data/piano-midi``) in one process, several times, and prints files/s
and notes/s for the best and the median repeat. The bare symusic parse
(``symusic.Score.from_midi``) is timed as the floor.

With ``--compare-pretty-midi`` it also parses every file once with pretty_midi,
reports its speed, and checks the notes file by file: note counts, and how many
notes differ in onset, pitch, velocity or offset (see ``docs/midi-reading.md``
for the one count difference and the offset differences on this corpus).

Writes the figures and the machine description to
``benchmarks/results/parse_speed.json``.

Run from the repository root::

    python benchmarks/parse_speed.py
    python benchmarks/parse_speed.py --compare-pretty-midi
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
import warnings
from importlib import metadata
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sklearn_musemb.io.midi import read_midi  # noqa: E402

DEFAULT_ROOT = REPO.parent / "shared" / "data" / "piano-midi"
DEFAULT_OUTPUT = REPO / "benchmarks" / "results" / "parse_speed.json"


def find_midi_files(root: Path) -> list[Path]:
    """All ``.mid``/``.midi`` files under ``root``, sorted."""
    return sorted(p for p in root.rglob("*") if p.suffix.lower() in {".mid", ".midi"})


def time_repeats(func, repeats: int) -> list[float]:
    """Wall-clock seconds of ``repeats`` calls of ``func`` (after one warm-up)."""
    func()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return times


def rates(seconds: float, n_files: int, n_notes: int) -> dict[str, float]:
    """Files/s and notes/s for one timing."""
    return {
        "seconds": seconds,
        "files_per_s": n_files / seconds,
        "notes_per_s": n_notes / seconds,
    }


def machine_info() -> dict[str, object]:
    """Processor, CPU count, Python and library versions."""
    versions = {}
    for name in ("numpy", "symusic", "pretty_midi", "mido"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "processor": platform.processor() or platform.machine(),
        "machine": platform.machine(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "libraries": versions,
    }


def compare_pretty_midi(files: list[Path], tables: list) -> dict[str, object]:
    """Parse each file with pretty_midi; time it and compare notes file by file."""
    import pretty_midi

    count_diffs, offset_files, offset_notes, other_files = [], 0, 0, []
    start = time.perf_counter()
    objects = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pretty_midi's meta-event track warnings
        for path in files:
            objects.append(pretty_midi.PrettyMIDI(str(path)))
    seconds = time.perf_counter() - start
    for path, table, pm in zip(files, tables, objects):
        ref = read_midi(pm)
        if len(ref) != len(table):
            count_diffs.append(
                {"file": str(path), "read_midi": len(table), "pretty_midi": len(ref)}
            )
            continue
        same = ("onset_tick", "pitch", "velocity", "program", "is_drum", "track")
        if not all(np.array_equal(table.notes[k], ref.notes[k]) for k in same):
            other_files.append(str(path))
            continue
        differ = table.notes["offset_tick"] != ref.notes["offset_tick"]
        offset_files += bool(differ.any())
        offset_notes += int(differ.sum())
    return {
        "seconds": seconds,
        "files_per_s": len(files) / seconds,
        "total_notes": sum(len(i.notes) for pm in objects for i in pm.instruments),
        "note_count_differences": count_diffs,
        "files_with_other_differences": other_files,
        "files_with_offset_differences": offset_files,
        "notes_with_offset_differences": offset_notes,
    }


def main(argv: list[str] | None = None) -> dict[str, object]:
    """Run the benchmark; print a summary and write the JSON result."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--compare-pretty-midi", action="store_true")
    args = parser.parse_args(argv)

    import symusic

    files = find_midi_files(args.root)
    if not files:
        parser.error(f"no MIDI files under {args.root}")
    tables = [read_midi(p) for p in files]
    n_notes = sum(len(t) for t in tables)

    ours = time_repeats(lambda: [read_midi(p) for p in files], args.repeats)
    floor = time_repeats(
        lambda: [symusic.Score.from_midi(p.read_bytes()) for p in files], args.repeats
    )
    result: dict[str, object] = {
        "command": "python " + " ".join(sys.argv),
        "root": str(args.root),
        "n_files": len(files),
        "total_notes": n_notes,
        "repeats": args.repeats,
        "read_midi": {
            "best": rates(min(ours), len(files), n_notes),
            "median": rates(statistics.median(ours), len(files), n_notes),
            "all_seconds": ours,
        },
        "symusic_from_midi": {
            "best": rates(min(floor), len(files), n_notes),
            "median": rates(statistics.median(floor), len(files), n_notes),
        },
        "machine": machine_info(),
    }
    print(f"{len(files)} files, {n_notes} notes under {args.root}")
    for name in ("read_midi", "symusic_from_midi"):
        best = result[name]["best"]
        median = result[name]["median"]
        print(
            f"{name:18s} best {best['seconds']:.3f} s "
            f"({best['files_per_s']:.0f} files/s, {best['notes_per_s']:.3g} notes/s), "
            f"median {median['seconds']:.3f} s"
        )
    if args.compare_pretty_midi:
        cmp = compare_pretty_midi(files, tables)
        result["pretty_midi"] = cmp
        print(
            f"{'pretty_midi':18s} one pass {cmp['seconds']:.2f} s "
            f"({cmp['files_per_s']:.1f} files/s, {cmp['total_notes']} notes)"
        )
        print(f"note-count differences: {cmp['note_count_differences']}")
        print(
            f"offset differences (overlapping same-pitch notes): "
            f"{cmp['notes_with_offset_differences']} notes in "
            f"{cmp['files_with_offset_differences']} files; "
            f"other differences: {cmp['files_with_other_differences']}"
        )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.output}")
    return result


if __name__ == "__main__":
    main()
