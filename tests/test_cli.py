"""The ``musemb`` command."""

from __future__ import annotations

import re

import numpy as np
import pytest

from sklearn_musemb.cli import build_parser, main
from sklearn_musemb.io import load_music21_corpus
from sklearn_musemb.units import segment_notes


def test_demo_runs_end_to_end_on_music21(tmp_path, capsys):
    composers = ["bach", "haydn"]
    main(
        [
            "demo",
            "--composers",
            *composers,
            "--max-pieces",
            "3",
            "--epochs",
            "1",
            "--no-transpose",
            "--cache-dir",
            str(tmp_path),
        ]
    )
    out = capsys.readouterr().out
    lines = out.splitlines()

    # the corpus it reports is the one the loader gives (cached by the demo)
    corpus = load_music21_corpus(
        composers, max_pieces_per_composer=3, cache_dir=tmp_path
    )
    loaded = re.search(r"^ +(\d+) pieces, (\d+) skipped \(", out, re.M)
    assert loaded is not None
    assert (int(loaded[1]), int(loaded[2])) == (
        len(corpus.pieces),
        len(corpus.skipped),
    )
    # every unit lands on one side of the split
    units = segment_notes(corpus.pieces, labels=corpus.labels)
    sides = re.findall(r"^ +(\w+) +(\d+) train units +(\d+) test units$", out, re.M)
    assert [name for name, _, _ in sides] == composers
    for name, n_train, n_test in sides:
        assert int(n_test) > 0 and int(n_train) > 0
        assert int(n_train) + int(n_test) == np.sum(units.labels == name)

    # the default number of queries, each with its three nearest training units
    queries = [i for i, line in enumerate(lines) if line.startswith("  query  ")]
    assert len(queries) == build_parser().parse_args(["demo"]).queries
    neighbour = re.compile(r"^ {4} *\d+\.\d{3} (bach|haydn) +\S.* \(unit \d+\)$")
    for i in queries:
        assert all(neighbour.match(line) for line in lines[i + 1 : i + 4]), lines[i:]

    # one macro-F1 per feature set, each a valid score, and chance for two labels
    scores = re.findall(
        r"^ +(AdjD embedding|raw \(pitch, interval\) events) +macro-F1 = (\d\.\d{3})$",
        out,
        re.M,
    )
    assert [name for name, _ in scores] == [
        "AdjD embedding",
        "raw (pitch, interval) events",
    ]
    assert all(0.0 <= float(score) <= 1.0 for _, score in scores)
    assert "(chance is about 0.500)" in out


def test_demo_defaults_and_bad_option():
    args = build_parser().parse_args(["demo"])
    assert args.composers == ["bach", "mozart", "haydn"]
    assert args.transpose and args.representation == "two_hot"
    with pytest.raises(SystemExit):
        build_parser().parse_args(["demo", "--representation", "one_hot"])
