#!/usr/bin/env bash
# AdjD benchmarks on piano-midi, on whatever device torch finds (CUDA first).
# Usage: bash benchmarks/run_adjd.sh OUT_DIR [PIANO_MIDI_ROOT]
set -euo pipefail
out=${1:?usage: run_adjd.sh OUT_DIR [PIANO_MIDI_ROOT]}
root=${2:-"$(dirname "$0")/../../shared/data/piano-midi"}
mkdir -p "$out"
here=$(dirname "$0")
python "$here/adjd_piano_midi.py" --root "$root" --out "$out/adjd_two_hot.json"
python "$here/adjd_piano_midi.py" --root "$root" --representation continuous \
    --out "$out/adjd_continuous.json"
python "$here/adjd_piano_midi.py" --root "$root" --transpose \
    --out "$out/adjd_two_hot_transposed.json"
