"""The ``musemb`` command."""

from __future__ import annotations

import pytest

from sklearn_musemb.cli import build_parser, main


def test_demo_runs_end_to_end_on_music21(tmp_path, capsys):
    code = main(
        [
            "demo",
            "--composers",
            "bach",
            "haydn",
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
    assert code == 0
    assert "fitting AdjDEmbedder" in out
    assert "AdjD embedding" in out and "macro-F1" in out
    assert "query" in out


def test_demo_defaults_and_bad_option():
    args = build_parser().parse_args(["demo"])
    assert args.composers == ["bach", "mozart", "haydn"]
    assert args.transpose and args.representation == "two_hot"
    with pytest.raises(SystemExit):
        build_parser().parse_args(["demo", "--representation", "one_hot"])
