"""Fuzz and property tests of the MIDI reader and the corpus loader.

Thousands of files, written byte by byte by ``tests/_hostile_midi.py``:

- random *valid* files (every field drawn by hypothesis): ``read_midi`` finds
  exactly the notes, tempo map and signatures that were written, and the same
  notes as pretty_midi;
- *mutated* valid files, random *event soups* in a valid chunk layout, and raw
  header/chunk garbage: ``read_midi`` returns a table that keeps every documented
  invariant, or raises ``MidiReadError`` naming the file; never anything else;
- a catalogue of *hostile* files (absurd resolutions, SMPTE, lying chunk lengths
  and track counts, 10**6 tempo events, running-status floods, tick overflow...)
  and a ~100 MB file of note-ons, each read in a child process under an
  address-space cap, with a hang detector and a peak-memory bound;
- a corpus of valid and hostile files: every valid file loads, every hostile one
  is listed in ``skipped`` with its reason (serially and with ``n_jobs=2``).

Reproducible: hypothesis runs derandomized, without an example database (no
``.hypothesis`` folder). ``SKLEARN_MUSEMB_FUZZ_SCALE`` multiplies every
example count (default 1; e.g. ``SKLEARN_MUSEMB_FUZZ_SCALE=20`` for a long local
run).

Bounds (hang and memory detectors, not performance assertions):
:data:`HANG_SECONDS` of wall time per file, and a peak resident memory of at
most :data:`MEMORY_BASE` plus :data:`MEMORY_PER_BYTE` times the file size above
the level before the read (symusic needs up to about 30 bytes per byte of a
dense file); the child's address space is capped :data:`ADDRESS_SPACE_HEADROOM`
above its size after imports, so a runaway allocation fails there instead of
exhausting the machine.
"""

from __future__ import annotations

import faulthandler
import io
import json
import os
import re
import select
import subprocess
import sys
import time
import warnings
from contextlib import contextmanager
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import symusic
from _hostile_midi import (
    ERROR,
    FUZZ,
    event_soups,
    examples,
    hostile_files,
    mutate,
    note_on_flood,
    pieces,
    random_piece,
    raw_smf,
    table_problems,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from sklearn_musemb.io import load_midi_corpus
from sklearn_musemb.io.midi import (
    MAX_MIDI_BYTES,
    MidiReadError,
    _check_chunks,
    _max_split_tracks,
    read_midi,
)

#: Wall time after which reading one file counts as a hang.
HANG_SECONDS = 10.0
#: Peak-memory bound of one read: this many bytes ...
MEMORY_BASE = 256 * 2**20
#: ... plus this many per byte of the file.
MEMORY_PER_BYTE = 40
#: Address space a worker may grow by before allocations fail.
ADDRESS_SPACE_HEADROOM = 4 * 2**30

#: The child-process reader (pipes + select), FIFOs and symlinks need POSIX.
posix_only = pytest.mark.skipif(os.name != "posix", reason="needs POSIX")


@contextmanager
def no_hang(what: str, seconds: float = HANG_SECONDS):
    """Fail when the body takes over ``seconds``; kill the run if it never returns.

    faulthandler's watchdog is a C thread: it fires even while C++ code holds
    the GIL, dumps every thread's stack and exits, so a real hang cannot stall
    the test session (the limit there is 6x ``seconds``).
    """
    faulthandler.dump_traceback_later(6 * seconds, exit=True)
    start = time.perf_counter()
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()
    elapsed = time.perf_counter() - start
    assert elapsed < seconds, f"{what} took {elapsed:.1f} s (hang detector)"


def read_or_error(data: bytes, name: str = "fuzz.mid"):
    """The table, or None after checking the error names ``name``.

    When the file is read, also checks that the reader's pre-parse bound on the
    number of tracks symusic makes (the guard against track bombs) holds.
    """
    with no_hang(name):
        try:
            table = read_midi(data, path_hint=name)
        except MidiReadError as exc:
            assert exc.source == name
            assert str(exc).startswith(f"cannot read MIDI {name}: ")
            return None
    assert table_problems(table, name) == []
    chunks = _check_chunks(
        data, 8 + int.from_bytes(data[4:8], "big"), _header_tracks(data), ""
    )
    assert _max_split_tracks(data, chunks) >= len(symusic.Score.from_midi(data).tracks)
    return table


def _header_tracks(data: bytes) -> int:
    """The track count of an SMF header."""
    return int.from_bytes(data[10:12], "big")


# ------------------------------------------------------------- valid files


def _expected_tempo(piece) -> tuple[list[int], list[int]]:
    """(ticks, mspq) after "last per tick, 120 qpm at 0, drop repeats"."""
    last: dict[int, int] = {}
    for tick, mspq in sorted(piece.tempos, key=lambda t: t[0]):  # stable
        last[tick] = mspq
    last.setdefault(0, 500_000)
    ticks, values = [], []
    for tick in sorted(last):
        if not values or last[tick] != values[-1]:
            ticks.append(tick)
            values.append(last[tick])
    return ticks, values


def _seconds(tick: int, tempo: tuple[list[int], list[int]], tpq: int) -> Fraction:
    """Exact seconds of ``tick`` under a tempo map (microseconds per quarter)."""
    ticks, mspq = tempo
    total, prev, rate = Fraction(0), 0, mspq[0]
    for start, value in zip(ticks[1:], mspq[1:], strict=True):
        if start >= tick:
            break
        total += Fraction((start - prev) * rate, 10**6 * tpq)
        prev, rate = start, value
    return total + Fraction((tick - prev) * rate, 10**6 * tpq)


@settings(FUZZ, max_examples=examples(300))
@given(pieces())
def test_valid_files_read_exactly(piece):
    data = piece.to_bytes()
    table = read_or_error(data, "valid.mid")
    assert table is not None, "a valid file was refused"
    notes = table.notes
    assert table.ticks_per_beat == piece.division
    expected = sorted(
        (n.onset, n.onset + n.duration, n.pitch, n.velocity, n.channel == 9)
        for n in piece.notes
    )
    got = sorted(
        zip(
            notes["onset_tick"].tolist(),
            notes["offset_tick"].tolist(),
            notes["pitch"].tolist(),
            notes["velocity"].tolist(),
            notes["is_drum"].tolist(),
            strict=True,
        )
    )
    assert got == expected

    tempo = _expected_tempo(piece)
    assert table.tempos["tick"].tolist() == tempo[0]
    np.testing.assert_allclose(table.tempos["qpm"], [6e7 / m for m in tempo[1]])
    for row in notes[:: max(1, len(notes) // 8)]:
        for field in ("onset", "offset"):
            exact = _seconds(int(row[f"{field}_tick"]), tempo, piece.division)
            assert row[field] == pytest.approx(float(exact), rel=1e-9, abs=1e-12)

    ts = sorted(piece.time_signatures, key=lambda t: t[0])
    assert table.time_signatures[["tick", "numerator", "denominator"]].tolist() == [
        (tick, num, 2**power) for tick, num, power in ts
    ]
    ks = sorted(piece.key_signatures, key=lambda k: k[0])
    assert table.key_signatures[["tick", "key", "tonality"]].tolist() == ks


@settings(FUZZ, max_examples=examples(100))
@given(pieces(max_notes=30))
def test_valid_files_match_pretty_midi(piece):
    import pretty_midi

    data = piece.to_bytes()
    table = read_midi(data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pm = pretty_midi.PrettyMIDI(io.BytesIO(data))
    reference = sorted(
        (note.start, note.end, note.pitch, note.velocity)
        for instrument in pm.instruments
        for note in instrument.notes
    )
    assert len(table) == len(reference)
    got = sorted(
        zip(
            table.notes["onset"].tolist(),
            table.notes["offset"].tolist(),
            table.notes["pitch"].tolist(),
            table.notes["velocity"].tolist(),
            strict=True,
        )
    )
    for mine, theirs in zip(got, reference, strict=True):
        assert mine[2:] == theirs[2:]
        np.testing.assert_allclose(mine[:2], theirs[:2], rtol=1e-9, atol=1e-9)


# ---------------------------------------------------------- broken files


@settings(FUZZ, max_examples=examples(1500))
@given(st.integers(0, 2**63), st.integers(1, 12))
def test_mutated_files_read_or_raise_midi_read_error(seed, n_mutations):
    rng = np.random.default_rng(seed)
    data = mutate(random_piece(rng).to_bytes(), rng, n_mutations)
    read_or_error(data, f"mutated-{seed}.mid")


@settings(FUZZ, max_examples=examples(500))
@given(event_soups())
def test_event_soups_read_or_raise_midi_read_error(data):
    read_or_error(data, "soup.mid")


@settings(FUZZ, max_examples=examples(600))
@given(raw_smf())
def test_raw_headers_and_chunks_read_or_raise_midi_read_error(data):
    read_or_error(data, "raw.mid")


@settings(FUZZ, max_examples=examples(300))
@given(st.binary(max_size=64), st.sampled_from([b"", b"MThd", b"MTrk", b"RIFF"]))
def test_random_bytes_read_or_raise_midi_read_error(data, prefix):
    table = read_or_error(prefix + data, "bytes.mid")
    assert table is None or (prefix + data).startswith(b"MThd")


# ---------------------------------------------- hostile files, in a child process


class _Worker:
    """A child process that reads files on request (see ``worker_main``)."""

    def __init__(self) -> None:
        self._start()

    def _start(self) -> None:
        tests = str(Path(__file__).parent)
        code = (
            f"import sys; sys.path.insert(0, {tests!r}); import _hostile_midi; "
            f"_hostile_midi.worker_main({ADDRESS_SPACE_HEADROOM})"
        )
        self.proc = subprocess.Popen(
            [sys.executable, "-c", code],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._reply(300.0) == {"ready": True}, "worker did not start"

    def _reply(self, timeout: float) -> dict | None:
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not ready:
            return None
        line = self.proc.stdout.readline()
        return json.loads(line) if line else {"outcome": "died"}

    def read(self, path: Path, **job) -> dict:
        if self.proc.poll() is not None:  # killed after an earlier failure
            self._start()
        self.proc.stdin.write(json.dumps({"path": str(path), **job}) + "\n")
        self.proc.stdin.flush()
        reply = self._reply(HANG_SECONDS * 3)
        if reply is None:
            self.close()
            pytest.fail(f"{path.name}: no answer within {HANG_SECONDS * 3} s (hang)")
        if reply.get("outcome") == "died":
            code = self.proc.wait()
            pytest.fail(f"{path.name}: the reader process died (exit code {code})")
        return reply

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


@pytest.fixture(scope="module")
def worker():
    w = _Worker()
    yield w
    w.close()


def _check_bounds(reply: dict, size: int, name: str) -> None:
    assert reply["seconds"] < HANG_SECONDS, f"{name}: {reply['seconds']:.1f} s"
    if reply["peak_bytes"] is not None:
        bound = MEMORY_BASE + MEMORY_PER_BYTE * size
        assert reply["peak_bytes"] <= bound, (
            f"{name}: peak {reply['peak_bytes'] / 2**20:.0f} MiB > "
            f"{bound / 2**20:.0f} MiB for {size} bytes"
        )


HOSTILE = hostile_files()


@posix_only
@pytest.mark.parametrize("hostile", HOSTILE, ids=[h.name for h in HOSTILE])
def test_hostile_file(hostile, worker, tmp_path):
    path = tmp_path / f"{hostile.name}.mid"
    data = hostile.make()
    path.write_bytes(data)
    reply = worker.read(path, segment=True)
    assert reply["outcome"] in ("ok", "error"), reply["message"]
    assert reply["problems"] == []
    if reply["outcome"] == "error":
        assert reply["message"].startswith(f"cannot read MIDI {path}: ")
    if hostile.expect == ERROR:
        assert reply["outcome"] == "error", f"{hostile.name} was read"
        assert re.search(hostile.reason, reply["message"]), reply["message"]
    _check_bounds(reply, len(data), hostile.name)


@posix_only
def test_100_mb_of_note_ons(worker, tmp_path):
    """A ~100 MB file of note-ons is refused before it is read (size cap), and
    read in bounded memory and time when the cap is lifted."""
    path = tmp_path / "note-ons.mid"
    data = note_on_flood(100 * 2**20)
    path.write_bytes(data)
    size = len(data)
    del data
    reply = worker.read(path)
    assert reply["outcome"] == "error"
    assert "too large" in reply["message"] and str(path) in reply["message"]
    assert reply["seconds"] < 1.0
    if reply["peak_bytes"] is not None:
        assert reply["peak_bytes"] < 16 * 2**20  # the file was never read

    reply = worker.read(path, max_bytes=None)
    assert reply["outcome"] == "ok", reply.get("message")
    assert reply["notes"] == 0  # notes that never end are dropped
    _check_bounds(reply, size, path.name)


@posix_only
def test_dense_file_under_the_size_cap(worker, tmp_path):
    """The worst density: a note per 6 bytes (running status), 12 MiB of them."""
    n = (12 * 2**20) // 6
    body = b"\x00\x90\x3c\x40" + b"\x00\x3c\x00\x00\x3c\x40" * n + b"\x00\x3c\x00"
    data = (
        b"MThd\x00\x00\x00\x06\x00\x00\x00\x01\x01\xe0"
        + b"MTrk"
        + (len(body) + 4).to_bytes(4, "big")
        + body
        + b"\x00\xff\x2f\x00"
    )
    assert len(data) < MAX_MIDI_BYTES
    path = tmp_path / "dense.mid"
    path.write_bytes(data)
    reply = worker.read(path)
    assert reply["outcome"] == "ok" and reply["notes"] == n + 1
    assert reply["problems"] == []
    _check_bounds(reply, len(data), path.name)


@posix_only
def test_special_paths_raise_without_blocking(worker, tmp_path):
    fifo = tmp_path / "fifo.mid"
    os.mkfifo(fifo)
    loop = tmp_path / "loop.mid"
    loop.symlink_to(loop)
    cases = {
        fifo: "not a regular file",
        loop: "OSError|not found",
        tmp_path: "directory",
    }
    if Path("/dev/zero").exists():
        cases[Path("/dev/zero")] = "not a regular file"
    for path, reason in cases.items():
        reply = worker.read(path)
        assert reply["outcome"] == "error", path
        assert re.search(reason, reply["message"]), reply["message"]
        assert str(path) in reply["message"]
        assert reply["seconds"] < 1.0


def test_max_bytes():
    data = random_piece(np.random.default_rng(0)).to_bytes()
    assert len(read_midi(data, max_bytes=len(data)).notes) == len(
        read_midi(data, max_bytes=None).notes
    )
    with pytest.raises(MidiReadError, match=r"^cannot read MIDI <bytes>: .*too large"):
        read_midi(data, max_bytes=len(data) - 1)
    for bad in (0, -1, 1.5, True, "10"):
        with pytest.raises(ValueError, match="max_bytes must be a positive integer"):
            read_midi(data, max_bytes=bad)


# ---------------------------------------------------------------- corpora


@pytest.fixture(scope="module")
def hostile_corpus(tmp_path_factory):
    """Folder ``a``: 12 valid files; folder ``b``: every must-fail hostile file, a
    40 MB sparse file (over the size cap), a FIFO, a symlink loop and a
    directory named like a MIDI file. Returns ``(root, valid, hostile)``."""
    root = tmp_path_factory.mktemp("hostile-corpus")
    (root / "a").mkdir()
    (root / "b").mkdir()
    valid = []
    rng = np.random.default_rng(7)
    for i in range(12):
        path = root / "a" / f"valid-{i:02d}.mid"
        path.write_bytes(random_piece(rng).to_bytes())
        valid.append(path)
    hostile = []
    for h in HOSTILE:
        if h.expect == ERROR:
            path = root / "b" / f"{h.name}.mid"
            path.write_bytes(h.make())
            hostile.append(path)
    big = root / "b" / "sparse-40MB.mid"
    with open(big, "wb") as handle:
        handle.write(b"MThd\x00\x00\x00\x06\x00\x00\x00\x01\x01\xe0")
        handle.truncate(40 * 2**20)
    fifo = root / "b" / "fifo.mid"
    os.mkfifo(fifo)
    loop = root / "b" / "loop.MID"
    loop.symlink_to(loop)
    (root / "b" / "folder.mid").mkdir()  # os.walk lists it as a folder: not a file
    hostile += [big, fifo, loop]
    return root, valid, hostile


@posix_only
@pytest.mark.parametrize("n_jobs", [None, 2])
def test_corpus_keeps_every_valid_file_and_skips_every_hostile_one(
    hostile_corpus, n_jobs
):
    root, valid, hostile = hostile_corpus
    with no_hang("load_midi_corpus", seconds=120.0):
        with pytest.warns(UserWarning, match=f"skipped {len(hostile)} of"):
            data = load_midi_corpus(root, metadata=None, n_jobs=n_jobs)
    assert [Path(p) for p in data.paths] == [p.resolve() for p in valid]
    assert set(data.labels.tolist()) == {"a"}
    for table, path in zip(data.pieces, valid, strict=True):
        assert table_problems(table, str(path)) == []
    skipped = dict(data.skipped)
    assert sorted(skipped) == sorted(str(p) for p in hostile)
    assert all(reason for reason in skipped.values())
    assert "too large" in skipped[str(root / "b" / "sparse-40MB.mid")]
    assert "not a regular file" in skipped[str(root / "b" / "fifo.mid")]


def test_corpus_of_mutated_files_partitions_like_read_midi(tmp_path):
    """Each mutated file is loaded or skipped exactly as read_midi decides."""
    rng = np.random.default_rng(11)
    outcome = {}
    for i in range(examples(60)):
        path = tmp_path / "m" / f"mutated-{i:03d}.mid"
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(mutate(random_piece(rng).to_bytes(), rng, 1 + i % 4))
        try:
            outcome[str(path)] = len(read_midi(path))
        except MidiReadError as exc:
            outcome[str(path)] = exc.reason
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = load_midi_corpus(tmp_path, metadata=None)
    loaded = {str(p): len(t) for p, t in zip(data.paths, data.pieces, strict=True)}
    assert loaded == {
        str(Path(p).resolve()): n for p, n in outcome.items() if isinstance(n, int)
    }
    assert dict(data.skipped) == {
        p: r for p, r in outcome.items() if isinstance(r, str)
    }
