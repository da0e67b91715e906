"""The README's commands are the ones that work: they are run here, verbatim."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import numpy as np
from conftest import write_random_melody

from sklearn_musemb.cli import main

README = Path(__file__).resolve().parents[1] / "README.md"
CI_RUN = Path(__file__).resolve().parents[1] / ".ci" / "run"


def readme_block(marker: str) -> list[str]:
    text = README.read_text()
    match = re.search(
        rf"<!-- {marker} -->\n```bash\n(.*?)```\n<!-- /{marker} -->", text, re.S
    )
    assert match, f"README has no <!-- {marker} --> bash block"
    return [line for line in match[1].splitlines() if line.strip()]


def test_ci_runs_the_readme_test_command():
    commands = re.findall(r"```bash\n(.*?)\n```", README.read_text(), re.S)
    test_command = next(c for c in commands if c.endswith("python -m pytest"))
    assert test_command in CI_RUN.read_text()


def test_the_three_commands_search_a_folder(tmp_path, monkeypatch, capsys):
    install, fit, search = readme_block("search-your-folder")
    # the install line is the demo's, which a fresh clone is known to run
    assert install in README.read_text().split("musemb demo")[0]
    assert install.startswith("python3 -m venv .venv") and "pip install" in install

    home = tmp_path / "home"
    rng = np.random.default_rng(0)
    for composer in ("bach", "chopin"):
        (home / "my-midi" / composer).mkdir(parents=True)
        for i in range(3):
            write_random_melody(home / "my-midi" / composer / f"{i}.mid", rng, 400)
    # piece.mid: a file of the folder, 30 s long (0.25 s per note on average)
    write_random_melody(home / "my-midi" / "piece.mid", rng, 120)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("SKLEARN_MUSEMB_CACHE", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)

    for line in (fit, search):
        argv = [str(Path(arg).expanduser()) for arg in shlex.split(line)]
        assert argv[0] == "musemb"
        assert main(argv[1:]) == 0, line
    out = capsys.readouterr().out.splitlines()
    assert (tmp_path / "my-midi.musemb").is_file()
    assert out[-12].startswith("query: piece.mid")
    hits = [line.split() for line in out[-10:]]
    assert [int(h[0]) for h in hits] == list(range(1, 11))
    # the passage searched for is in the folder: it is found first
    assert hits[0][2] == "piece.mid" and float(hits[0][1]) < 1e-3
