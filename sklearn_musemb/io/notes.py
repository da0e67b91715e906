"""The compact note table every reader produces and every segmenter consumes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..utils.validation import check_positive_int

#: One row per note. Times are kept both in seconds (tempo map applied) and in
#: MIDI ticks; beats (quarter notes) are ``tick / ticks_per_beat``.
NOTE_DTYPE = np.dtype(
    [
        ("onset", "f8"),  # seconds
        ("offset", "f8"),  # seconds
        ("onset_tick", "i8"),
        ("offset_tick", "i8"),
        ("pitch", "u1"),
        ("velocity", "u1"),
        ("program", "u1"),
        ("is_drum", "?"),
        ("track", "i2"),
    ]
)

#: Tempo changes: ``qpm`` is quarter notes per minute.
TEMPO_DTYPE = np.dtype([("tick", "i8"), ("time", "f8"), ("qpm", "f8")])

#: Time-signature changes, e.g. 3/4 is ``numerator=3, denominator=4``.
TIME_SIGNATURE_DTYPE = np.dtype(
    [("tick", "i8"), ("time", "f8"), ("numerator", "i2"), ("denominator", "i2")]
)

#: Key-signature changes: ``key`` is the number of sharps (negative: flats) as in
#: the MIDI meta event, ``tonality`` 0 for major and 1 for minor.
KEY_SIGNATURE_DTYPE = np.dtype(
    [("tick", "i8"), ("time", "f8"), ("key", "i1"), ("tonality", "i1")]
)


def last_per_tick(
    ticks: np.ndarray, values: np.ndarray, default: Any
) -> tuple[np.ndarray, np.ndarray]:
    """Keep the last event at each tick; start at tick 0 with ``default`` if needed.

    The rule of MIDI meta events (tempo, time signature): of several events at
    one tick the last one wins, and the MIDI default holds before the first
    event, or throughout when there is none.

    Parameters
    ----------
    ticks : ndarray of int
        Event ticks, sorted (ties in file order).
    values : ndarray
        One value per event.
    default : scalar
        The value at tick 0 when no event is there.

    Returns
    -------
    ticks, values : ndarray
        Strictly increasing ticks, starting at 0 (or earlier), with their values.

    Examples
    --------
    >>> import numpy as np
    >>> ticks = np.array([480, 480, 960])
    >>> ticks, qpm = last_per_tick(ticks, np.array([90.0, 60.0, 80.0]), 120.0)
    >>> ticks.tolist(), qpm.tolist()
    ([0, 480, 960], [120.0, 60.0, 80.0])
    """
    last = np.append(ticks[1:] != ticks[:-1], True)[: len(ticks)]
    ticks, values = ticks[last], values[last]
    if len(ticks) == 0 or ticks[0] > 0:
        ticks = np.concatenate([[0], ticks])
        values = np.concatenate([[default], values])
    return ticks, values


@dataclass(frozen=True, eq=False)
class NoteTable:
    """Notes and meta events of one piece, as flat NumPy structured arrays.

    Produced by :func:`sklearn_musemb.io.read_midi`; consumed by the segmenters in
    :mod:`sklearn_musemb.units`. Notes are sorted by onset tick, then pitch.

    Parameters
    ----------
    notes : ndarray of dtype :data:`NOTE_DTYPE`
        One row per note.
    tempos : ndarray of dtype :data:`TEMPO_DTYPE`
        Tempo changes, sorted by tick.
    time_signatures : ndarray of dtype :data:`TIME_SIGNATURE_DTYPE`
        Time-signature changes, sorted by tick.
    key_signatures : ndarray of dtype :data:`KEY_SIGNATURE_DTYPE`
        Key-signature changes, sorted by tick.
    ticks_per_beat : int
        MIDI resolution (ticks per quarter note).
    source : str
        Where the notes came from (a path, ``"<bytes>"``, ``"<PrettyMIDI>"``...),
        used in error messages.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_musemb.io import NoteTable, NOTE_DTYPE
    >>> notes = np.zeros(2, dtype=NOTE_DTYPE)
    >>> notes["pitch"] = [60, 64]
    >>> notes["onset_tick"] = [0, 480]
    >>> table = NoteTable(notes=notes, ticks_per_beat=480)
    >>> len(table), table.onset_beat.tolist()
    (2, [0.0, 1.0])
    """

    notes: np.ndarray
    tempos: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=TEMPO_DTYPE))
    time_signatures: np.ndarray = field(
        default_factory=lambda: np.empty(0, dtype=TIME_SIGNATURE_DTYPE)
    )
    key_signatures: np.ndarray = field(
        default_factory=lambda: np.empty(0, dtype=KEY_SIGNATURE_DTYPE)
    )
    ticks_per_beat: int = 480
    source: str = "<memory>"

    def __post_init__(self) -> None:
        for name, dtype in (
            ("notes", NOTE_DTYPE),
            ("tempos", TEMPO_DTYPE),
            ("time_signatures", TIME_SIGNATURE_DTYPE),
            ("key_signatures", KEY_SIGNATURE_DTYPE),
        ):
            value = getattr(self, name)
            if not isinstance(value, np.ndarray) or value.dtype != dtype:
                raise TypeError(
                    f"NoteTable.{name} must be a structured array of dtype {dtype}, "
                    f"got {type(value).__name__} "
                    f"{getattr(value, 'dtype', '')} (source: {self.source})"
                )
        check_positive_int(
            self.ticks_per_beat, "ticks_per_beat", f"NoteTable ({self.source})"
        )

    def __len__(self) -> int:
        return len(self.notes)

    @property
    def onset_beat(self) -> np.ndarray:
        """Onsets in beats (quarter notes)."""
        return self.notes["onset_tick"] / self.ticks_per_beat

    @property
    def offset_beat(self) -> np.ndarray:
        """Offsets in beats (quarter notes)."""
        return self.notes["offset_tick"] / self.ticks_per_beat

    @property
    def duration(self) -> float:
        """End of the last note, in seconds (0.0 for an empty table)."""
        return float(self.notes["offset"].max()) if len(self.notes) else 0.0

    def __repr__(self) -> str:
        return (
            f"NoteTable(source={self.source!r}, notes={len(self.notes)}, "
            f"ticks_per_beat={self.ticks_per_beat}, tempos={len(self.tempos)}, "
            f"time_signatures={len(self.time_signatures)}, "
            f"key_signatures={len(self.key_signatures)})"
        )
