"""Targets of the probing tasks, computed from the units themselves.

The probes of Bretan & Heck (2019), section 4.4, predict something about a unit
from its embedding. These functions compute that something from the
:class:`~sklearn_musemb.units.Units`, one row per unit in row order, so that it
can be passed as ``y`` next to the units as ``X``: scikit-learn then splits ``X``
and ``y`` together (``cross_validate``, ``GroupKFold(groups=units.piece)``)::

    y = unit_duration(units)
    cross_validate(Pipeline([("emb", AdjDEmbedder()), ("probe", make_density_probe())]),
                   units, y, groups=units.piece, cv=GroupKFold(5),
                   scoring="neg_root_mean_squared_error")

Both functions are vectorised over all units and events; padding events (beyond
``units.n_events``) never count. They import neither torch nor skorch.
"""

from __future__ import annotations

import numpy as np
from sklearn.preprocessing import normalize

from ..units.container import Units, _check_units

#: Normalisations accepted by :func:`unit_chroma` (``norm=``).
CHROMA_NORMS = ("l1", "l2", None)


def _real_events(units: Units) -> np.ndarray:
    """Mask of the real (non-padding) events, shape ``(n_units, width)``."""
    width = units.events.shape[1]
    if units.n_events.min(initial=0) < 0 or units.n_events.max(initial=0) > width:
        raise ValueError(
            f"units.n_events must lie in 0..{width} (the event width), found "
            f"{units.n_events.min()}..{units.n_events.max()}"
        )
    return np.arange(width) < units.n_events[:, None]


def unit_chroma(units: Units, *, norm: str | None = "l1") -> np.ndarray:
    """Pitch-class histogram (chroma) of every unit, the chroma task's target.

    Counts the real events of each unit by pitch class (``pitch % 12``, 0 = C)
    and normalises the counts. Every event counts once (a count-based chroma):
    note units carry no note durations, only the interval to the next onset,
    which is 0 between the notes of a chord, so weighting by interval would drop
    chord notes. Works on note and beat units alike (the first integer of an
    event is a MIDI pitch in both).

    Parameters
    ----------
    units : Units
        Units of kind ``"notes"`` or ``"beats"``.
    norm : {"l1", "l2", None}, default="l1"
        ``"l1"``: the fraction of the unit's events in each pitch class (a
        pitch-class distribution, the space
        :class:`~sklearn_musemb.tasks.chroma.ChromaProbe` predicts in).
        ``"l2"``: unit Euclidean length, so the cosine similarity of two chromas
        is their dot product. ``None``: the counts. The cosine similarity, the
        chroma task's loss and metric, is the same for all three. A unit without
        events gets a row of zeros in every case.

    Returns
    -------
    ndarray of float64, shape (n_units, 12)
        Column ``k`` is pitch class ``k`` (C, C#, ..., B).

    Raises
    ------
    TypeError
        If ``units`` is not a :class:`~sklearn_musemb.units.Units`.
    ValueError
        If ``norm`` is unknown, a real event has a negative pitch or
        ``units.n_events`` exceeds the event width.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_musemb.units import Units
    >>> from sklearn_musemb.tasks.targets import unit_chroma
    >>> units = Units(np.array([[[60, 500], [64, 0], [72, 250]]]))  # C, E, C
    >>> unit_chroma(units, norm=None)[0, [0, 4]]
    array([2., 1.])
    >>> unit_chroma(units)[0, [0, 4]].round(3)
    array([0.667, 0.333])
    """
    units = _check_units(units, "unit_chroma", "it reads pitches and n_events")
    if norm not in CHROMA_NORMS:
        raise ValueError(
            f"unit_chroma: norm must be one of {CHROMA_NORMS}, got {norm!r}"
        )
    real = _real_events(units)
    pitch = units.events[..., 0]
    if np.any(pitch[real] < 0):
        raise ValueError("unit_chroma: found negative pitches among the real events")
    n = len(units)
    cells = (np.arange(n)[:, None] * 12 + pitch.astype(np.int64) % 12)[real]
    chroma = np.bincount(cells, minlength=n * 12).reshape(n, 12).astype(np.float64)
    return chroma if norm is None else normalize(chroma, norm=norm)


def unit_duration(units: Units) -> np.ndarray:
    """Duration of every note unit in seconds, the note-density task's target.

    The duration is the sum of the inter-onset intervals of the unit's real
    events, divided by 1000: the time from the unit's first onset to the first
    onset of the next unit, as the last interval runs to the next note of the
    piece. Units have a fixed number of notes, so duration measures note density
    (Bretan & Heck 2019, 4.4). The last unit of a piece ends on the piece's last
    note, whose interval is 0, and intervals are stored clipped at 32767 ms
    (``IOI_MAX_MS``), so are these durations.

    Parameters
    ----------
    units : Units
        Units of kind ``"notes"``. Beat units are refused: they all last the
        same number of beats and their second integer is a tick, not an
        interval.

    Returns
    -------
    ndarray of float64, shape (n_units,)

    Raises
    ------
    TypeError
        If ``units`` is not a :class:`~sklearn_musemb.units.Units`.
    ValueError
        If the units are not of kind ``"notes"``, a real event has a negative
        interval or ``units.n_events`` exceeds the event width.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_musemb.units import Units
    >>> from sklearn_musemb.tasks.targets import unit_duration
    >>> unit_duration(Units(np.array([[[60, 500], [64, 0], [72, 250]]])))
    array([0.75])
    """
    units = _check_units(units, "unit_duration", "it reads intervals and n_events")
    if units.kind != "notes":
        raise ValueError(
            "unit_duration needs note units (kind='notes', events of (pitch, "
            f"inter-onset ms)), got kind={units.kind!r}; beat units all span the "
            "same number of beats"
        )
    real = _real_events(units)
    ioi = np.where(real, units.events[..., 1], 0).astype(np.int64)
    if np.any(ioi < 0):
        raise ValueError("unit_duration: found negative inter-onset intervals")
    return ioi.sum(axis=1) / 1000.0
