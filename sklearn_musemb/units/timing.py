"""Where each unit lies in its piece, in seconds.

Units keep compact events only; the time span of a unit is recomputed from the
pieces it was cut from and the segmentation settings recorded in ``Units.meta``,
so search results and embedding tables can say "bars 12.5 s to 20 s of file X".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..io.notes import NoteTable
from .container import Units
from .segment import (
    _as_pieces,
    _check_piece_columns,
    _kept_notes,
    _quarter_runs,
    note_stream,
)


def ticks_to_seconds(table: NoteTable, ticks: Any) -> np.ndarray:
    """Convert MIDI ticks of ``table`` to seconds with its tempo map.

    Before the first tempo event (or without any) the MIDI default of 120
    quarter notes per minute applies.

    Parameters
    ----------
    table : NoteTable
        The piece whose tempo map and resolution are used.
    ticks : array-like of int
        Ticks at the piece's own resolution (``table.ticks_per_beat``).

    Returns
    -------
    ndarray of float64
        Seconds from the start of the piece.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_musemb.io import NOTE_DTYPE, NoteTable
    >>> table = NoteTable(np.zeros(0, dtype=NOTE_DTYPE), ticks_per_beat=480)
    >>> ticks_to_seconds(table, [0, 480, 960]).tolist()
    [0.0, 0.5, 1.0]
    """
    ticks = np.asarray(ticks, dtype=np.float64)
    tempos = table.tempos
    if len(tempos) == 0 or tempos["tick"][0] > 0:
        start_tick = np.r_[0, tempos["tick"]]
        start_time = np.r_[0.0, tempos["time"]]
        qpm = np.r_[120.0, tempos["qpm"]]
    else:
        start_tick, start_time, qpm = tempos["tick"], tempos["time"], tempos["qpm"]
    i = np.maximum(np.searchsorted(start_tick, ticks, side="right") - 1, 0)
    seconds_per_tick = 60.0 / (qpm[i] * table.ticks_per_beat)
    return start_time[i] + (ticks - start_tick[i]) * seconds_per_tick


def unit_time_spans(
    units: Units,
    pieces: NoteTable | Sequence[NoteTable],
    *,
    piece_ids: Any = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Start and end, in seconds, of every unit within its piece.

    For note units (:func:`~sklearn_musemb.units.segment_notes`) a unit starts at
    the onset of its first note and ends at the latest offset of its notes; for
    beat units (:func:`~sklearn_musemb.units.segment_beats`) it spans its window
    of beats, converted with the piece's tempo map. The segmentation settings are
    read from ``units.meta``, so ``pieces`` and ``piece_ids`` must be the ones the
    units were cut from.

    Parameters
    ----------
    units : Units
        Units made by ``segment_notes`` or ``segment_beats`` (possibly sliced,
        shuffled or transposed: rows are matched by piece and position).
    pieces : NoteTable or sequence of NoteTable
        The pieces the units were cut from.
    piece_ids : array-like of int, default=None
        The ``piece_ids`` given to the segmenter; ``None`` means
        ``0 .. n_pieces - 1``.

    Returns
    -------
    start, end : ndarray of float64, shape (n_units,)
        Seconds from the start of each unit's piece.

    Raises
    ------
    ValueError
        If ``units.meta`` lacks the segmentation settings, or a unit names a
        piece or position that ``pieces`` do not have.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_musemb.io import NOTE_DTYPE, NoteTable
    >>> from sklearn_musemb.units import segment_notes
    >>> notes = np.zeros(4, dtype=NOTE_DTYPE)
    >>> notes["onset"] = [0.0, 0.5, 1.0, 1.5]
    >>> notes["offset"] = notes["onset"] + 0.4
    >>> notes["pitch"] = [60, 62, 64, 65]
    >>> table = NoteTable(notes)
    >>> start, end = unit_time_spans(segment_notes(table, n_notes=2), table)
    >>> start.tolist(), end.tolist()
    ([0.0, 1.0], [0.9, 1.9])
    """
    tables = _as_pieces(pieces)
    _, ids = _check_piece_columns(len(tables), None, piece_ids)
    where = dict(zip(ids.tolist(), range(len(tables)), strict=True))
    start = np.full(len(units), np.nan)
    end = np.full(len(units), np.nan)
    spans = _note_spans if units.kind == "notes" else _beat_spans
    for pid in np.unique(units.piece):
        if int(pid) not in where:
            raise ValueError(f"units name piece {pid}, which is not in pieces")
        rows = np.flatnonzero(units.piece == pid)
        table = tables[where[int(pid)]]
        start[rows], end[rows] = spans(table, units.position[rows], units.meta)
    return start, end


def _setting(meta: dict, name: str) -> Any:
    if name not in meta:
        raise ValueError(
            f"Units.meta has no {name!r}: time spans need units made by "
            "segment_notes or segment_beats"
        )
    return meta[name]


def _note_spans(
    table: NoteTable, position: np.ndarray, meta: dict
) -> tuple[np.ndarray, np.ndarray]:
    n_notes, hop = _setting(meta, "n_notes"), _setting(meta, "hop")
    notes = _kept_notes(table, meta.get("drop_drums", True))
    # the order segment_notes cuts in
    order, _ = note_stream(notes["onset"], notes["pitch"], meta.get("chord_ms", 0.0))
    notes = notes[order]
    first = position * hop
    if len(position) and first.max() + n_notes > len(notes):
        raise ValueError(
            f"unit position {position.max()} is beyond the {len(notes)} notes of "
            f"{table.source}"
        )
    window = first[:, None] + np.arange(n_notes)
    return notes["onset"][first], notes["offset"][window].max(axis=1)


def _beat_spans(
    table: NoteTable, position: np.ndarray, meta: dict
) -> tuple[np.ndarray, np.ndarray]:
    beats = _setting(meta, "beats")
    ticks_per_beat = _setting(meta, "ticks_per_beat")
    window = beats * ticks_per_beat
    scale = table.ticks_per_beat / ticks_per_beat
    notes = _kept_notes(table, meta.get("drop_drums", True))
    last = max(
        int(np.rint(notes["offset_tick"].max() / scale)),
        int(np.rint(notes["onset_tick"].max() / scale)) + 1,
    )
    run_starts, run_stops = _quarter_runs(table, ticks_per_beat, last)
    # position = run_start // window + run_number + k for window k of a run
    first_position = run_starts // window + np.arange(len(run_starts))
    n_windows = (run_stops - run_starts) // window
    run = np.searchsorted(first_position, position, side="right") - 1
    k = position - first_position[np.maximum(run, 0)]
    if np.any((run < 0) | (k >= n_windows[np.maximum(run, 0)])):
        raise ValueError(f"unit positions do not match the beats of {table.source}")
    window_start = (run_starts[run] + k * window) * scale
    return (
        ticks_to_seconds(table, window_start),
        ticks_to_seconds(table, window_start + window * scale),
    )
