"""Cut pieces (:class:`~sklearn_musemb.io.NoteTable`) into compact :class:`Units`.

Two unit definitions, one per paper:

- :func:`segment_notes`: fixed runs of ``n_notes`` notes, each note
  ``(pitch, inter-onset ms)`` (Bretan & Heck 2019, 40-note units);
- :func:`segment_beats`: fixed runs of ``beats`` quarter-note beats, each unit the
  list of ``(pitch, tick)`` onsets (Bretan et al. 2017, 4-beat 60x96 piano rolls).

See ``docs/units.md`` for the exact definitions and every choice the papers leave open.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..io.notes import NoteTable, last_per_tick
from ..utils.pitch import fold_pitch
from ..utils.validation import check_finite_number, check_positive_int
from .container import PAD, Units, _check_units

#: Largest inter-onset interval stored in a note unit, in ms. Events are int16; a
#: longer pause (over 32.8 s) is clipped to this value (the two-hot encoding only
#: resolves 0-2000 ms anyway).
IOI_MAX_MS = int(np.iinfo(np.int16).max)

#: Default pitch range ``[low, high)`` of beat units and their piano rolls: MIDI
#: 36..95, the 60 rows of Bretan et al. (2017).
BEAT_PITCH_RANGE = (36, 96)
#: Default quarter-note beats per beat unit and ticks per beat (Bretan et al. 2017).
BEATS_PER_UNIT, TICKS_PER_BEAT = 4, 24
#: Ticks in a beat unit with these defaults: the 96 piano-roll columns of the paper.
BEAT_UNIT_TICKS = BEATS_PER_UNIT * TICKS_PER_BEAT
#: Longest piece :func:`segment_beats` cuts, in quarter-note beats from tick 0 to
#: its last onset or offset: 2**18 = 262,144 beats, over 36 hours at 120 qpm.
#: Windows (empty ones included) cost memory, and a few bytes of MIDI can place
#: a note billions of ticks late; longer pieces are skipped, not cut.
MAX_PIECE_BEATS = 2**18

_EVENT_DTYPE = np.int16


# -- argument checking ---------------------------------------------------------
def _as_pieces(pieces: NoteTable | Sequence[NoteTable]) -> list[NoteTable]:
    if isinstance(pieces, NoteTable):
        return [pieces]
    if isinstance(pieces, (str, bytes)) or not isinstance(pieces, Sequence):
        raise TypeError(
            "pieces must be a NoteTable or a sequence of NoteTables (e.g. "
            f"load_midi_corpus(...).pieces), got {type(pieces).__name__}"
        )
    pieces = list(pieces)
    for i, table in enumerate(pieces):
        if not isinstance(table, NoteTable):
            raise TypeError(
                f"pieces[{i}] is a {type(table).__name__}, expected a NoteTable; "
                "read MIDI files with sklearn_musemb.io.read_midi first"
            )
    if not pieces:
        raise ValueError("pieces is empty: nothing to segment")
    return pieces


def _check_piece_columns(
    n_pieces: int, labels: Any, piece_ids: Any
) -> tuple[np.ndarray | None, np.ndarray]:
    if piece_ids is None:
        ids = np.arange(n_pieces, dtype=np.int64)
    else:
        ids = np.asarray(piece_ids)
        if ids.shape != (n_pieces,):
            raise ValueError(
                f"piece_ids must have one id per piece ({n_pieces}), "
                f"got shape {ids.shape}"
            )
        if not np.issubdtype(ids.dtype, np.integer):
            raise TypeError(f"piece_ids must be integers, got dtype {ids.dtype}")
        if len(np.unique(ids)) != n_pieces:
            raise ValueError("piece_ids must be unique (one id per piece)")
        ids = ids.astype(np.int64)
    if labels is not None:
        labels = np.asarray(labels)
        if labels.shape != (n_pieces,):
            raise ValueError(
                f"labels must have one label per piece ({n_pieces}), "
                f"got shape {labels.shape}"
            )
    return labels, ids


def _kept_notes(table: NoteTable, drop_drums: bool) -> np.ndarray:
    notes = table.notes
    return notes[~notes["is_drum"]] if drop_drums else notes


def _no_units_error(skipped: list[tuple[int, str]], what: str) -> ValueError:
    shown = "; ".join(f"piece {pid}: {why}" for pid, why in skipped[:5])
    more = f" (and {len(skipped) - 5} more)" if len(skipped) > 5 else ""
    return ValueError(f"no piece yields a single unit: {what}. {shown}{more}")


# -- 40-note units -------------------------------------------------------------
def note_stream(
    onset: np.ndarray, pitch: np.ndarray, chord_ms: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """The order in which note units list notes, and their intervals.

    Notes are sorted by onset, then pitch. With ``chord_ms > 0``, notes whose
    onsets follow each other by less than ``chord_ms`` form one chord (a chain
    of small gaps joins one chord): its notes are listed by pitch whatever
    order they were played in, the intervals inside it are 0 and its last note
    carries the time from the chord's first onset to the next chord's. A
    pianist's chord, spread over a few ms, then gives the notes and intervals
    of the score's chord.

    Parameters
    ----------
    onset : ndarray of float, shape (n_notes,)
        Onsets in seconds.
    pitch : ndarray of int, shape (n_notes,)
    chord_ms : float, default=0.0
        Chord threshold in ms; 0 keeps every onset as it is (the papers).

    Returns
    -------
    order : ndarray of int, shape (n_notes,)
        Indices of the notes in stream order.
    ioi_ms : ndarray of float, shape (n_notes,)
        Interval from every note (in stream order) to the next, in ms; 0 after
        the last note.

    Examples
    --------
    >>> import numpy as np
    >>> onset = np.array([0.0, 0.012, 0.004, 0.5])
    >>> order, ioi = note_stream(onset, np.array([67, 60, 64, 65]), chord_ms=30)
    >>> order.tolist(), ioi.round().tolist()
    ([1, 2, 0, 3], [0.0, 0.0, 500.0, 0.0])
    """
    order = np.lexsort((pitch, onset))
    times = onset[order]
    if chord_ms <= 0 or len(order) == 0:
        return order, np.append(np.diff(times) * 1000.0, 0.0)
    starts = np.append(True, np.diff(times) * 1000.0 >= chord_ms)
    chord = np.cumsum(starts) - 1
    order = order[np.lexsort((pitch[order], chord))]
    chord_onset = times[starts]
    gap = np.append(np.diff(chord_onset) * 1000.0, 0.0)
    last = np.append(starts[1:], True)  # chord ids stay sorted: its last note
    return order, np.where(last, gap[chord], 0.0)


def _note_events(notes: np.ndarray, chord_ms: float = 0.0) -> np.ndarray:
    """``(n, 2)`` int16 ``(pitch, ioi_ms)`` of notes in :func:`note_stream` order."""
    order, ioi = note_stream(notes["onset"], notes["pitch"], chord_ms)
    events = np.zeros((len(order), 2), dtype=_EVENT_DTYPE)
    events[:, 0] = notes["pitch"][order]
    events[:, 1] = np.clip(np.rint(ioi), 0, IOI_MAX_MS)
    return events


def segment_notes(
    pieces: NoteTable | Sequence[NoteTable],
    *,
    n_notes: int = 40,
    hop: int | None = None,
    labels: Any = None,
    piece_ids: Any = None,
    drop_drums: bool = True,
    chord_ms: float = 0.0,
) -> Units:
    """Cut pieces into units of ``n_notes`` consecutive notes (Bretan & Heck 2019).

    Per piece, the (non-drum) notes are sorted by onset time in seconds, then by
    pitch. Each note becomes the event ``(pitch, ioi)`` where ``ioi`` is the time
    from its onset to the onset of the next note of the piece in integer
    milliseconds (``np.rint``, half to even), 0 for the last note of the piece and
    clipped to ``IOI_MAX_MS`` (32767 ms, the int16 maximum). Notes sounding
    together therefore have ``ioi == 0`` between them. Units are windows of
    ``n_notes`` notes starting every ``hop`` notes; a trailing partial window is
    dropped. ``position`` is the window index within the piece, so with the default
    ``hop == n_notes`` adjacent units are contiguous stretches of notes.

    Parameters
    ----------
    pieces : NoteTable or sequence of NoteTable
        The pieces, e.g. ``load_midi_corpus(...).pieces``.
    n_notes : int, default=40
        Notes per unit.
    hop : int, default=None
        Notes between the starts of consecutive windows; ``None`` means
        ``n_notes`` (non-overlapping). Smaller values overlap windows, larger
        values skip notes between windows.
    labels : array-like of shape (n_pieces,), default=None
        One label per piece (a composer, say), copied to each of its units.
    piece_ids : array-like of int of shape (n_pieces,), default=None
        Unique id per piece; ``None`` means ``0 .. n_pieces - 1``.
    drop_drums : bool, default=True
        Ignore notes on drum channels.
    chord_ms : float, default=0.0
        Notes whose onsets are closer than this (ms) form one chord, listed by
        pitch with interval 0 inside it (see :func:`note_stream`), so that a
        performed chord, spread over a few ms, cuts into the same units as the
        score's. 0 keeps exact onsets (the papers).

    Returns
    -------
    Units
        ``kind="notes"``, events int16 of shape ``(n_units, n_notes, 2)``.
        ``meta`` holds ``n_notes``, ``hop``, ``ioi_max_ms``, ``chord_ms`` and
        ``skipped``: a list of ``(piece_id, reason)`` for pieces that gave no
        unit.

    Raises
    ------
    ValueError
        If ``n_notes`` or ``hop`` is not a positive integer, if ``labels`` or
        ``piece_ids`` do not have one entry per piece, or if no piece has at least
        ``n_notes`` (non-drum) notes.
    TypeError
        If ``pieces`` holds something other than NoteTables.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_musemb.io import NOTE_DTYPE, NoteTable
    >>> from sklearn_musemb.units import segment_notes
    >>> notes = np.zeros(5, dtype=NOTE_DTYPE)
    >>> notes["onset"] = [0.0, 0.0, 0.25, 0.5, 1.0]
    >>> notes["pitch"] = [64, 60, 62, 64, 65]
    >>> units = segment_notes(NoteTable(notes), n_notes=2)
    >>> units.events.tolist()
    [[[60, 0], [64, 250]], [[62, 250], [64, 500]]]
    >>> units.position.tolist()
    [0, 1]
    """
    n_notes = check_positive_int(n_notes, "n_notes")
    hop = n_notes if hop is None else check_positive_int(hop, "hop")
    chord_ms = check_finite_number(chord_ms, "chord_ms", "segment_notes")
    tables = _as_pieces(pieces)
    labels, ids = _check_piece_columns(len(tables), labels, piece_ids)

    chunks, owners, positions = [], [], []
    skipped: list[tuple[int, str]] = []
    offsets = np.arange(n_notes)
    for i, table in enumerate(tables):
        notes = _kept_notes(table, drop_drums)
        if len(notes) == 0:
            skipped.append((int(ids[i]), "no non-drum notes"))
            continue
        if len(notes) < n_notes:
            skipped.append(
                (int(ids[i]), f"{len(notes)} non-drum notes < n_notes={n_notes}")
            )
            continue
        events = _note_events(notes, chord_ms)
        starts = np.arange(0, len(events) - n_notes + 1, hop)
        chunks.append(events[starts[:, None] + offsets])
        owners.append(np.full(len(starts), i))
        positions.append(np.arange(len(starts)))
    if not chunks:
        raise _no_units_error(
            skipped, f"every piece has fewer than n_notes={n_notes} non-drum notes"
        )
    owner = np.concatenate(owners)
    return Units(
        np.concatenate(chunks),
        piece=ids[owner],
        position=np.concatenate(positions),
        labels=None if labels is None else labels[owner],
        kind="notes",
        meta={
            "n_notes": n_notes,
            "hop": hop,
            "ioi_max_ms": IOI_MAX_MS,
            "drop_drums": drop_drums,
            "chord_ms": chord_ms,
            "skipped": skipped,
        },
    )


# -- 4-beat units --------------------------------------------------------------
def _quantise(ticks: np.ndarray, table: NoteTable, ticks_per_beat: int) -> np.ndarray:
    return np.rint(ticks * (ticks_per_beat / table.ticks_per_beat)).astype(np.int64)


def _quarter_runs(
    table: NoteTable, ticks_per_beat: int, end: int
) -> tuple[np.ndarray, np.ndarray]:
    """Start/end ticks (quantised) of the maximal x/4 stretches in ``[0, end)``.

    Time signatures set at the same quantised tick: the last one wins. Before the
    first time signature (or with none at all) the MIDI default 4/4 applies.
    """
    ts = table.time_signatures
    ticks = _quantise(ts["tick"], table, ticks_per_beat)
    order = np.argsort(ticks, kind="stable")
    ticks, quarter = ticks[order], ts["denominator"][order] == 4
    ticks, quarter = last_per_tick(ticks, quarter, True)
    stops = np.minimum(np.r_[ticks[1:], end], end)
    keep = ticks < stops
    ticks, stops, quarter = ticks[keep], stops[keep], quarter[keep]
    # merge neighbouring x/4 segments (e.g. 4/4 -> 3/4) into one run
    before = np.r_[False, quarter[:-1]]
    after = np.r_[quarter[1:], False]
    return ticks[quarter & ~before], stops[quarter & ~after]


def _pack_onsets(
    row: np.ndarray, tick: np.ndarray, pitch: np.ndarray, n_rows: int
) -> tuple[np.ndarray, np.ndarray]:
    """Events ``(n_rows, width, 2)`` of ``(pitch, tick)`` onsets, sorted, unique.

    Within each row onsets are sorted by tick, then pitch, repeated ``(pitch,
    tick)`` pairs are kept once, and rows are padded with :data:`PAD` to the
    longest row (at least one column). Pitches must lie in ``[0, 128)``.
    """
    row, tick, pitch = (np.asarray(a, dtype=np.int64) for a in (row, tick, pitch))
    span = int(tick.max()) + 1 if len(tick) else 1
    key = np.sort((row * span + tick) * 128 + pitch)
    # sort + neighbour comparison: much faster than np.unique's hash path here
    key = key[np.append(True, key[1:] != key[:-1])[: len(key)]]
    row, rest = np.divmod(key, span * 128)
    tick, pitch = np.divmod(rest, 128)
    counts = np.bincount(row, minlength=n_rows)
    width = max(int(counts.max()) if n_rows else 0, 1)
    slot = np.arange(len(key)) - (np.cumsum(counts) - counts)[row]
    events = np.full((n_rows, width, 2), PAD, dtype=_EVENT_DTYPE)
    events[row, slot, 0] = pitch
    events[row, slot, 1] = tick
    return events, counts


def _check_pitch_range(pitch_range: Any) -> tuple[int, int]:
    try:
        low, high = (int(v) for v in pitch_range)
    except (TypeError, ValueError):
        raise ValueError(
            f"pitch_range must be a pair (low, high), got {pitch_range!r}"
        ) from None
    if not (0 <= low < high <= 128) or (high - low) % 12:
        raise ValueError(
            "pitch_range must satisfy 0 <= low < high <= 128 with high - low a "
            f"multiple of 12, got {pitch_range!r}"
        )
    return low, high


def _beat_windows(
    table: NoteTable,
    notes: np.ndarray,
    window: int,
    ticks_per_beat: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Windows and note onsets of one piece.

    Returns ``(positions, row, tick, note_index)``: the position of every complete
    window of every x/4 run, and for each onset inside one of them, its window
    (row into ``positions``), its tick within the window and its index in
    ``notes``.
    """
    onset = _quantise(notes["onset_tick"], table, ticks_per_beat)
    end = int(_quantise(notes["offset_tick"], table, ticks_per_beat).max())
    end = max(end, int(onset.max()) + 1)
    starts, stops = _quarter_runs(table, ticks_per_beat, end)
    n_windows = (stops - starts) // window
    if n_windows.sum() == 0:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty, empty, empty
    # window k of run s sits at position start_s // window + s + k, so windows on
    # either side of a dropped (non-x/4) stretch are never one position apart
    first = starts // window + np.arange(len(starts))
    row_base = np.cumsum(n_windows) - n_windows
    positions = np.repeat(first - row_base, n_windows) + np.arange(n_windows.sum())

    run = np.searchsorted(starts, onset, side="right") - 1
    inside = run >= 0
    run_c = np.where(inside, run, 0)
    local = onset - starts[run_c]
    inside &= local < n_windows[run_c] * window
    index = np.flatnonzero(inside)
    k, tick = np.divmod(local[index], window)
    return positions, row_base[run_c[index]] + k, tick, index


def segment_beats(
    pieces: NoteTable | Sequence[NoteTable],
    *,
    beats: int = BEATS_PER_UNIT,
    ticks_per_beat: int = TICKS_PER_BEAT,
    pitch_range: tuple[int, int] = BEAT_PITCH_RANGE,
    labels: Any = None,
    piece_ids: Any = None,
    deduplicate: bool = False,
    drop_empty: bool = False,
    drop_drums: bool = True,
) -> Units:
    """Cut pieces into units of ``beats`` quarter-note beats (Bretan et al. 2017).

    Per piece, every (non-drum) note onset is quantised from MIDI ticks to
    ``ticks_per_beat`` ticks per quarter note (``np.rint``, half to even) and its
    pitch folded by octaves into ``[low, high)`` = ``pitch_range``. Only stretches
    whose time signature has denominator 4 are kept (no time signature at all, or
    the stretch before the first one, counts as 4/4, the MIDI default); adjacent x/4
    stretches (4/4 then 3/4, say) form one run. Each run is tiled from its first
    tick with windows of ``beats * ticks_per_beat`` ticks; a trailing partial
    window is dropped, the last run ending at the last note offset. A unit holds
    the onsets of its window as ``(pitch, tick within window)`` events sorted by
    tick then pitch, each ``(pitch, tick)`` once (onsets only: a repeated note at
    the same tick is one onset), padded with :data:`PAD`; ``n_events`` is the
    number of onsets. A piece longer than ``MAX_PIECE_BEATS`` (2**18) beats (its
    windows would not fit in memory) is skipped.

    ``position`` is ``run_start // window + run_number + k`` for window ``k`` of a
    run: consecutive within a run and never consecutive across a dropped non-x/4
    stretch, so :meth:`Units.adjacent_pairs` only pairs windows that truly follow
    each other.

    Parameters
    ----------
    pieces : NoteTable or sequence of NoteTable
        The pieces, e.g. ``load_midi_corpus(...).pieces``.
    beats : int, default=4
        Quarter-note beats per unit.
    ticks_per_beat : int, default=24
        Time resolution of the units; a unit spans ``beats * ticks_per_beat``
        ticks (96 by default, the paper's 60x96 piano roll).
    pitch_range : (int, int), default=(36, 96)
        Half-open pitch range ``[low, high)``; ``high - low`` must be a multiple
        of 12. The paper says "36 to 96" with 60 rows, i.e. 36..95.
    labels : array-like of shape (n_pieces,), default=None
        One label per piece, copied to each of its units.
    piece_ids : array-like of int of shape (n_pieces,), default=None
        Unique id per piece; ``None`` means ``0 .. n_pieces - 1``.
    deduplicate : bool, default=False
        Remove repeated units with :func:`deduplicate_units` (breaks adjacency
        for the removed rows).
    drop_empty : bool, default=False
        Drop windows without any onset (rests). Kept by default because they
        matter for adjacency: dropping them removes those positions.
    drop_drums : bool, default=True
        Ignore notes on drum channels.

    Returns
    -------
    Units
        ``kind="beats"``, events int16 of shape ``(n_units, max_onsets, 2)``.
        ``meta`` holds ``beats``, ``ticks_per_beat``, ``pitch_range`` and
        ``skipped``: a list of ``(piece_id, reason)`` for pieces with no unit.

    Raises
    ------
    ValueError
        On invalid ``beats``, ``ticks_per_beat`` or ``pitch_range``, on
        ``labels`` / ``piece_ids`` without one entry per piece, or if no piece
        yields a unit.
    TypeError
        If ``pieces`` holds something other than NoteTables.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_musemb.io import NOTE_DTYPE, NoteTable
    >>> from sklearn_musemb.units import segment_beats
    >>> notes = np.zeros(3, dtype=NOTE_DTYPE)
    >>> notes["onset_tick"] = [0, 480, 2400]
    >>> notes["offset_tick"] = [480, 960, 3840]
    >>> notes["pitch"] = [60, 100, 30]
    >>> units = segment_beats(NoteTable(notes, ticks_per_beat=480))
    >>> units.events.tolist()
    [[[60, 0], [88, 24]], [[42, 24], [-1, -1]]]
    >>> units.n_events.tolist(), units.position.tolist()
    ([2, 1], [0, 1])
    """
    beats = check_positive_int(beats, "beats")
    ticks_per_beat = check_positive_int(ticks_per_beat, "ticks_per_beat")
    low, high = _check_pitch_range(pitch_range)
    tables = _as_pieces(pieces)
    labels, ids = _check_piece_columns(len(tables), labels, piece_ids)
    window = beats * ticks_per_beat

    owners, positions, rows, ticks, pitches = [], [], [], [], []
    skipped: list[tuple[int, str]] = []
    n_rows = 0
    for i, table in enumerate(tables):
        notes = _kept_notes(table, drop_drums)
        if len(notes) == 0:
            skipped.append((int(ids[i]), "no non-drum notes"))
            continue
        span = max(int(notes["onset_tick"].max()), int(notes["offset_tick"].max()))
        if span > MAX_PIECE_BEATS * table.ticks_per_beat:
            beats_long = span // table.ticks_per_beat
            skipped.append(
                (
                    int(ids[i]),
                    f"spans {beats_long} beats > MAX_PIECE_BEATS={MAX_PIECE_BEATS}",
                )
            )
            continue
        pos, row, tick, index = _beat_windows(table, notes, window, ticks_per_beat)
        if len(pos) == 0:
            skipped.append((int(ids[i]), f"no x/4 stretch of {beats} beats or more"))
            continue
        owners.append(np.full(len(pos), i))
        positions.append(pos)
        rows.append(row + n_rows)
        ticks.append(tick)
        pitches.append(fold_pitch(notes["pitch"][index].astype(np.int64), low, high))
        n_rows += len(pos)
    if not owners:
        raise _no_units_error(
            skipped, f"no piece has an x/4 stretch of {beats} beats with notes"
        )
    events, n_events = _pack_onsets(
        np.concatenate(rows), np.concatenate(ticks), np.concatenate(pitches), n_rows
    )
    owner = np.concatenate(owners)
    units = Units(
        events,
        piece=ids[owner],
        position=np.concatenate(positions),
        labels=None if labels is None else labels[owner],
        n_events=n_events,
        kind="beats",
        meta={
            "beats": beats,
            "ticks_per_beat": ticks_per_beat,
            "pitch_range": (low, high),
            "drop_drums": drop_drums,
            "skipped": skipped,
        },
    )
    if drop_empty:
        units = _drop_empty(units)
    if deduplicate:
        units = deduplicate_units(units)
    return units


def _drop_empty(units: Units) -> Units:
    kept = units[units.n_events > 0]
    if len(kept) == 0:
        raise ValueError("every window is empty: no onsets in any x/4 stretch")
    width = max(int(kept.n_events.max()), 1)
    return kept._with_events(kept.events[:, :width])


# -- deduplication -------------------------------------------------------------
def unit_content_ids(units: Units) -> np.ndarray:
    """One integer per unit, equal for two units exactly when their contents are.

    Contents are the events (padding included) and ``n_events``; piece, position,
    variant and label are ignored. Used to find duplicates in one vectorised pass.

    Parameters
    ----------
    units : Units

    Returns
    -------
    ndarray of int64, shape (n_units,)
        Ids in ``0 .. n_distinct - 1``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_musemb.units import Units, unit_content_ids
    >>> unit_content_ids(Units(np.array([[[60, 0]], [[62, 0]], [[60, 0]]]))).tolist()
    [0, 1, 0]
    """
    _check_units(units, "unit_content_ids", "it compares their events and n_events")
    n = len(units)
    flat = np.ascontiguousarray(
        np.hstack(
            [
                units.events.reshape(n, -1),
                units.n_events.astype(units.events.dtype)[:, None],
            ]
        )
    )
    rows = flat.view(np.dtype((np.void, flat.dtype.itemsize * flat.shape[1])))
    return np.unique(rows.ravel(), return_inverse=True)[1].astype(np.int64)


def deduplicate_units(units: Units) -> Units:
    """Remove repeated units, keeping the first occurrence of each.

    Two rows are duplicates when their events (padding included) and
    ``n_events`` are equal; piece, position, variant and label are ignored, so
    the first row of a group keeps its own metadata. Removed rows leave gaps in
    their pieces, which breaks adjacency around them: that is why
    :func:`segment_beats` only deduplicates on request. Bretan et al. (2017)
    deduplicate *after* transposing into all 12 keys (4.68 M -> 4.00 M units), so
    for their setup call this on the output of :class:`Transposer`.

    Parameters
    ----------
    units : Units
        Any units.

    Returns
    -------
    Units
        The first occurrence of every distinct unit, in the original order;
        ``meta["n_duplicates_removed"]`` says how many rows went.

    Raises
    ------
    TypeError
        If ``units`` is not a :class:`Units`.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_musemb.units import Units, deduplicate_units
    >>> events = np.array([[[60, 0]], [[62, 0]], [[60, 0]]])
    >>> deduplicate_units(Units(events)).position.tolist()
    [0, 1]
    """
    _check_units(units, "deduplicate_units", "it compares their events and n_events")
    _, first = np.unique(unit_content_ids(units), return_index=True)
    kept = units[np.sort(first)]
    kept.meta = {**units.meta, "n_duplicates_removed": len(units) - len(kept)}
    return kept
