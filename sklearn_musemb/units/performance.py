"""A performance model: quantised notes played the way a pianist plays them.

Scores and sequenced MIDI place chord notes at the same millisecond and keep one
tempo; performances do not. :class:`PerformanceModel` imitates what a performance
changes, one seeded, vectorised effect per parameter, so that embeddings can be
trained to ignore it (``augment=`` of every note-unit embedder) and tested for it
(:mod:`sklearn_musemb.metrics.robustness`):

=====================  ==========================================================
parameter              imitates
=====================  ==========================================================
``tempo``              another global tempo: every interval times one factor
``rubato``             a smooth local tempo curve (phrasing, ritardando)
``jitter``             imprecise timing: every inter-chord interval times its
                       own log-normal factor
``asynchrony_ms``      chords spread in time; the highest (melody) note leads
``deletion_rate``      notes dropped (a slip, a transcription miss)
``insertion_rate``     grace notes / ornaments one or two semitones away, just
                       before a note
``octave_doubling``    a note doubled an octave away (bass or melody doubling)
``velocity``           louder or softer notes (note tables only)
``articulation``       longer or shorter notes (note tables only)
=====================  ==========================================================

Note units (:func:`~sklearn_musemb.units.segment_notes`) keep pitch and
inter-onset interval only, so ``velocity`` and ``articulation`` change the
performed :class:`~sklearn_musemb.io.NoteTable` but no note unit. Deletions and
insertions happen on the note stream before windows are cut, and every performed
note remembers the score note it came from, so a performed unit covers the same
music as the score unit it is compared with.

One implementation serves both worlds: :func:`perform_onsets` works on batches of
padded onset rows in PyTorch, on whatever device they live (the training device
for augmentation), and the NumPy-facing methods call it on CPU tensors.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from numbers import Real
from typing import Any

import numpy as np
import torch
from sklearn.base import BaseEstimator

from ..encodings.events import group_chords
from ..io.notes import NoteTable
from ..utils.torch_utils import seed_from
from ..utils.validation import check_finite_number
from .container import Units, _check_units
from .segment import IOI_MAX_MS, _as_pieces, _kept_notes, note_stream

#: Notes of the input closer than this (ms) count as one chord: quantised scores
#: place chord notes at the same instant, sequenced files within a millisecond.
CHORD_TOLERANCE_MS = 5.0
#: Limits of every strength parameter, inclusive: ``(low, high)``.
STRENGTH_RANGES: dict[str, tuple[float, float]] = {
    "tempo": (0.6, 1.6),
    "rubato": (0.0, 0.5),
    "jitter": (0.0, 0.5),
    "asynchrony_ms": (0.0, 100.0),
    "deletion_rate": (0.0, 0.25),
    "insertion_rate": (0.0, 0.25),
    "octave_doubling": (0.0, 0.25),
    "velocity": (0.0, 64.0),
    "articulation": (0.0, 1.0),
}
#: A grace note starts this many ms (uniform) before the note it ornaments.
GRACE_LEAD_MS = (30.0, 90.0)
#: Periods (ms, uniform) of the three sinusoids that make a rubato curve.
RUBATO_PERIOD_MS = (2000.0, 8000.0)
_GRACE_STEPS = (-2, -1, 1, 2)
#: Gap (ms) between a unit that ends its piece and the copy of it that stands
#: in for the notes after it (see :func:`extended_windows`).
JOIN_GAP_MS = 10_000


class PerformanceModel(BaseEstimator):
    """Turn quantised notes into plausible performed ones, effect by effect.

    Every parameter is the strength of one effect; 0 (or a tempo of 1) switches
    it off, so ``PerformanceModel()`` returns its input unchanged, up to the
    order of simultaneous notes (listed by pitch, as
    :func:`~sklearn_musemb.units.segment_notes` lists them). The effects
    apply in this order: deletions, then insertions and octave doublings, then
    the tempo curve (global factor times rubato), jitter and chord asynchrony.
    All randomness comes from ``random_state`` (or the ``generator`` of
    :func:`perform_onsets`): the same seed gives the same performance.

    Parameters
    ----------
    tempo : float or (float, float), default=1.0
        Global tempo factor applied to every interval (above 1 is slower): one
        value, or a range ``(low, high)`` from which every piece (or unit) draws
        its own factor uniformly. Within 0.6..1.6.
    rubato : float, default=0.0
        Standard deviation of the local log-tempo: a smooth curve, the sum of
        three sinusoids with periods of 2-8 s and random phases, so 0.1 means the
        local tempo wanders about +-10 %. Within 0..0.5.
    jitter : float, default=0.0
        Standard deviation of the log-normal factor each interval between chords
        is multiplied by (0.1: about +-10 %). Intervals inside a chord are left
        to ``asynchrony_ms``. Within 0..0.5.
    asynchrony_ms : float, default=0.0
        Chord spread: every note of a chord except its highest starts a uniform
        0..``asynchrony_ms`` ms late, so the melody leads (as pianists play).
        Within 0..100.
    deletion_rate : float, default=0.0
        Probability that a note is dropped. Within 0..0.25.
    insertion_rate : float, default=0.0
        Probability that a note gets a grace note: one or two semitones away,
        30-90 ms (score time) before it. Within 0..0.25.
    octave_doubling : float, default=0.0
        Probability that a note is doubled an octave away (below from middle C
        up, above under it), sounding with it. Within 0..0.25.
    velocity : float, default=0.0
        Standard deviation of the change of every note's velocity (MIDI units,
        result clipped to 1..127). Note tables only. Within 0..64.
    articulation : float, default=0.0
        Standard deviation of the log-normal factor of every note's duration
        (legato, staccato), on top of the tempo. Note tables only. Within 0..1.
    random_state : int, RandomState instance or None, default=None
        Seeds :meth:`perform` and :meth:`perform_units`.

    See Also
    --------
    perform_onsets : the batched PyTorch implementation behind every method.
    sklearn_musemb.metrics.robustness_ranks : retrieval under a performance.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_musemb.units import PerformanceModel, Units
    >>> quantised = Units(np.array([[[60, 0], [64, 500], [67, 500], [72, 0]]]))
    >>> slower = PerformanceModel(tempo=1.2).perform_units(quantised)
    >>> slower.events[0, :, 1].tolist()
    [0, 600, 600, 0]
    >>> spread = PerformanceModel(asynchrony_ms=30, random_state=0)
    >>> spread.perform_units(quantised).events[0, :2].tolist()
    [[64, 15], [60, 485]]
    """

    def __init__(
        self,
        *,
        tempo: float | tuple[float, float] = 1.0,
        rubato: float = 0.0,
        jitter: float = 0.0,
        asynchrony_ms: float = 0.0,
        deletion_rate: float = 0.0,
        insertion_rate: float = 0.0,
        octave_doubling: float = 0.0,
        velocity: float = 0.0,
        articulation: float = 0.0,
        random_state: Any = None,
    ) -> None:
        self.tempo = tempo
        self.rubato = rubato
        self.jitter = jitter
        self.asynchrony_ms = asynchrony_ms
        self.deletion_rate = deletion_rate
        self.insertion_rate = insertion_rate
        self.octave_doubling = octave_doubling
        self.velocity = velocity
        self.articulation = articulation
        self.random_state = random_state

    @classmethod
    def typical(cls, random_state: Any = None) -> PerformanceModel:
        """A typical performance of a score, every effect at a moderate strength.

        Tempo factor 0.75-1.35, rubato 0.1, jitter 0.1, chord spread up to
        30 ms, 3 % of notes dropped and 3 % ornamented, 1 % doubled, velocity
        +-10 and articulation 0.2: the training augmentation of
        :class:`~sklearn_musemb.embedders.ContrastiveEmbedder`.

        Parameters
        ----------
        random_state : int, RandomState instance or None, default=None

        Returns
        -------
        PerformanceModel

        Examples
        --------
        >>> PerformanceModel.typical().asynchrony_ms
        30.0
        """
        return cls(
            tempo=(0.75, 1.35),
            rubato=0.1,
            jitter=0.1,
            asynchrony_ms=30.0,
            deletion_rate=0.03,
            insertion_rate=0.03,
            octave_doubling=0.01,
            velocity=10.0,
            articulation=0.2,
            random_state=random_state,
        )

    # -- validation --------------------------------------------------------------
    def strengths(self) -> dict[str, float]:
        """Every strength, checked, with ``tempo`` split into ``tempo_low/high``.

        Returns
        -------
        dict of str to float

        Raises
        ------
        ValueError
            Naming the first parameter that is not a finite number within its
            range (``STRENGTH_RANGES`` of this module).
        """
        owner = type(self).__name__
        tempo = self.tempo
        if isinstance(tempo, Real) and not isinstance(tempo, bool):
            tempo = (tempo, tempo)
        try:
            low, high = tempo
        except (TypeError, ValueError):
            raise ValueError(
                f"{owner}: tempo must be a number or a pair (low, high), got "
                f"{self.tempo!r}"
            ) from None
        lo_t, hi_t = STRENGTH_RANGES["tempo"]
        low = check_finite_number(low, "tempo", owner, minimum=lo_t, maximum=hi_t)
        high = check_finite_number(high, "tempo", owner, minimum=lo_t, maximum=hi_t)
        if low > high:
            raise ValueError(f"{owner}: tempo range must have low <= high, got {tempo}")
        out = {"tempo_low": low, "tempo_high": high}
        for name, (lo, hi) in STRENGTH_RANGES.items():
            if name != "tempo":
                out[name] = check_finite_number(
                    getattr(self, name), name, owner, minimum=lo, maximum=hi
                )
        return out

    def is_identity(self) -> bool:
        """Whether every effect is switched off (the input comes back unchanged)."""
        s = self.strengths()
        rest = [v for k, v in s.items() if not k.startswith("tempo")]
        return s["tempo_low"] == s["tempo_high"] == 1.0 and not any(rest)

    def _generator(self) -> torch.Generator:
        return torch.Generator().manual_seed(seed_from(self.random_state))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False  # nothing to learn: its parameters are all
        # it plays Units and NoteTables, never a 2-D array
        tags.input_tags.two_d_array = False
        return tags

    # -- note tables ----------------------------------------------------------------
    def perform(
        self, pieces: NoteTable | Sequence[NoteTable], *, return_sources: bool = False
    ) -> list[NoteTable] | tuple[list[NoteTable], list[np.ndarray]]:
        """Perform whole pieces.

        Parameters
        ----------
        pieces : NoteTable or sequence of NoteTable
            The (quantised) pieces. Drum notes are kept and left untouched by
            the timing effects only in so far as they take part in chords.
        return_sources : bool, default=False
            Also return, per piece, the index (into the piece's notes in onset
            order) of the score note every performed note comes from; an
            inserted note points at the note it ornaments or doubles.

        Returns
        -------
        performed : list of NoteTable
            Notes sorted by performed onset, then pitch; onsets, offsets,
            velocities and pitches performed, score ticks kept (a performance
            does not move the notes in the score).
        sources : list of ndarray of int, only with ``return_sources=True``

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_musemb.io import NOTE_DTYPE, NoteTable
        >>> notes = np.zeros(3, dtype=NOTE_DTYPE)
        >>> notes["onset"], notes["offset"] = [0.0, 0.5, 1.0], [0.5, 1.0, 1.5]
        >>> notes["pitch"], notes["velocity"] = [60, 62, 64], 80
        >>> played = PerformanceModel(tempo=0.8).perform(NoteTable(notes))[0]
        >>> played.notes["onset"].round(3).tolist()
        [0.0, 0.4, 0.8]
        """
        tables = _as_pieces(pieces)
        strengths = self.strengths()
        generator = self._generator()
        performed, sources = [], []
        for table in tables:
            notes = table.notes[
                note_stream(table.notes["onset"], table.notes["pitch"])[0]
            ]
            onset = torch.as_tensor(notes["onset"] * 1000.0)[None]
            pitch = torch.as_tensor(notes["pitch"].astype(np.int64))[None]
            out_onset, out_pitch, source, valid = perform_onsets(
                onset, pitch, torch.ones_like(pitch, dtype=torch.bool),
                strengths, generator=generator,
            )  # fmt: skip
            keep = valid[0]
            source = source[0, keep].numpy()
            new = notes[source].copy()
            new_onset = out_onset[0, keep].numpy() / 1000.0
            if len(new):
                new_onset -= new_onset.min() - notes["onset"].min()
            duration = (new["offset"] - new["onset"]) * _stretch(notes, new_onset)
            duration *= _lognormal(strengths["articulation"], len(new), generator)
            velocity = new["velocity"] + strengths["velocity"] * _normal(
                len(new), generator
            )
            new["onset"] = new_onset
            new["offset"] = new_onset + duration
            new["pitch"] = out_pitch[0, keep].numpy()
            new["velocity"] = np.clip(np.rint(velocity), 1, 127)
            performed.append(replace(table, notes=new))
            sources.append(source)
        return (performed, sources) if return_sources else performed

    # -- note units -----------------------------------------------------------------
    def perform_units(
        self, units: Units, pieces: Sequence[NoteTable] | None = None
    ) -> Units:
        """Performed copies of note units, aligned row by row with ``units``.

        Row ``i`` of the result is the performance of the music of the row
        ``source_rows[i]`` of ``units`` (in ``meta["source_rows"]``): the window
        of ``n_notes`` performed notes that starts at the first performed note
        coming from that unit's first score note (or a later one, if it was
        dropped). Rows that cannot be formed (too few notes left after
        deletions at the end of a piece) are skipped and counted in
        ``meta["skipped_units"]``.

        Parameters
        ----------
        units : Units
            Note units (``kind="notes"``), as cut by
            :func:`~sklearn_musemb.units.segment_notes`.
        pieces : sequence of NoteTable, default=None
            The pieces ``units`` were cut from, ``pieces[piece_id]`` being the
            piece of id ``piece_id`` (as with ``segment_notes(pieces)``). Then
            every piece is performed as a whole and windows are cut from the
            performed stream (exact; needs ``variant == 0``). Without it, each
            unit is performed together with the notes of the unit that follows
            it (its successor in :meth:`Units.adjacent_pairs`, or itself
            repeated for the last unit of a piece), which is what embedders do
            per batch during training.

        Returns
        -------
        Units
            The performed rows, with piece, position, variant and labels of
            their source rows.

        Raises
        ------
        TypeError
            If ``units`` is not a :class:`Units`.
        ValueError
            On units that are not note units, or invalid strengths.
        """
        units = _check_units(units, type(self).__name__, "it cuts performed windows")
        if units.kind != "notes":
            raise ValueError(
                f"{type(self).__name__}.perform_units needs note units, got kind="
                f"{units.kind!r}"
            )
        strengths = self.strengths()
        generator = self._generator()
        if pieces is None:
            n_notes = units.events.shape[1]
            windows, final_zero, n_real = extended_windows(
                torch.as_tensor(units.events),
                torch.arange(len(units)),
                torch.as_tensor(successor_rows(units)),
                int(units.meta.get("hop", n_notes)),
                notes_after_needed(n_notes, strengths["deletion_rate"]),
            )
            events, ok = perform_unit_events(
                windows,
                n_notes,
                strengths,
                generator=generator,
                final_zero=final_zero,
                chord_ms=float(units.meta.get("chord_ms", 0.0)),
                n_real=n_real,
            )
            events, ok = events.numpy(), ok.numpy()
        else:
            events, ok = _perform_from_pieces(units, pieces, strengths, generator)
        rows = np.flatnonzero(ok)
        performed = units[rows]._with_events(events[rows].astype(units.events.dtype))
        performed.meta["source_rows"] = rows
        performed.meta["skipped_units"] = int(len(units) - len(rows))
        return performed


# -- the PyTorch implementation ------------------------------------------------------
def _normal(n: int, generator: torch.Generator) -> np.ndarray:
    return torch.randn(n, generator=generator, dtype=torch.float64).numpy()


def _lognormal(sigma: float, n: int, generator: torch.Generator) -> np.ndarray:
    return np.exp(sigma * _normal(n, generator))


def _stretch(score: np.ndarray, performed_onset: np.ndarray) -> float:
    """How much longer the performance lasts than the score (its mean tempo)."""
    if len(score) < 2 or len(performed_onset) < 2:
        return 1.0
    span = np.ptp(score["onset"])
    return float(np.ptp(performed_onset) / span) if span > 0 else 1.0


def _sort_notes(
    onset: torch.Tensor, pitch: torch.Tensor, *others: torch.Tensor
) -> tuple[torch.Tensor, ...]:
    """Sort every row by onset, then pitch (invalid notes carry ``inf`` onsets)."""
    by_pitch = torch.sort(pitch, dim=1, stable=True).indices
    onset_p = torch.gather(onset, 1, by_pitch)
    by_onset = torch.sort(onset_p, dim=1, stable=True).indices
    order = torch.gather(by_pitch, 1, by_onset)
    return tuple(torch.gather(t, 1, order) for t in (onset, pitch, *others))


def _chord_ids(onset: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """Chord number of every note of sorted rows (notes within the tolerance)."""
    gap = torch.diff(onset, dim=1)
    new = torch.ones_like(onset, dtype=torch.bool)
    new[:, 1:] = ~(gap < CHORD_TOLERANCE_MS) | ~valid[:, 1:]
    return torch.cumsum(new.long(), dim=1) - 1


def _rubato(
    times: torch.Tensor, strength: float, generator: torch.Generator
) -> torch.Tensor:
    """Local log-tempo at ``times`` (ms): three random sinusoids, std ``strength``."""
    n, device, dtype = times.shape[0], times.device, times.dtype
    low, high = RUBATO_PERIOD_MS
    shape = (n, 1, 3)
    period = low + (high - low) * torch.rand(shape, generator=generator, device=device)
    phase = 2 * torch.pi * torch.rand(shape, generator=generator, device=device)
    waves = torch.sin(2 * torch.pi * times[..., None] / period.to(dtype) + phase)
    # each sinusoid has variance 1/2, their sum 3/2
    return strength * waves.sum(-1) / (1.5**0.5)


def perform_onsets(
    onset: torch.Tensor,
    pitch: torch.Tensor,
    valid: torch.Tensor,
    strengths: dict[str, float],
    *,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Perform padded rows of notes on their device (the core of the model).

    Parameters
    ----------
    onset : torch.Tensor of float, shape (n_rows, n_notes)
        Score onsets in ms, sorted within each row (valid notes first).
    pitch : torch.Tensor of int, shape (n_rows, n_notes)
        MIDI pitches.
    valid : torch.Tensor of bool, shape (n_rows, n_notes)
        Which entries are notes (the rest is padding).
    strengths : dict
        :meth:`PerformanceModel.strengths` of the model to apply.
    generator : torch.Generator, default=None
        Source of randomness, on the device of ``onset``.

    Returns
    -------
    onset, pitch, source, valid : torch.Tensor, shape (n_rows, width)
        Performed notes sorted by onset then pitch, invalid ones last (onset
        ``inf``); ``source`` is the input column every note comes from. The
        width grows with insertions and doublings (up to 3 x ``n_notes``).

    Examples
    --------
    >>> import torch
    >>> from sklearn_musemb.units import PerformanceModel
    >>> s = PerformanceModel(tempo=0.8).strengths()
    >>> out = perform_onsets(torch.tensor([[0., 100., 300.]]),
    ...                      torch.tensor([[60, 62, 64]]),
    ...                      torch.ones(1, 3, dtype=torch.bool), s)
    >>> out[0].tolist()
    [[0.0, 80.0, 240.0]]
    """
    device, dtype = onset.device, onset.dtype
    n_rows, width = onset.shape
    pitch = pitch.long()

    def uniform(*shape: int) -> torch.Tensor:
        return torch.rand(shape, generator=generator, device=device, dtype=dtype)

    source = torch.arange(width, device=device).expand(n_rows, width)
    if strengths["deletion_rate"]:
        valid = valid & (uniform(n_rows, width) >= strengths["deletion_rate"])
    onsets, pitches, sources, valids = [onset], [pitch], [source], [valid]
    if strengths["insertion_rate"]:
        grace = valid & (uniform(n_rows, width) < strengths["insertion_rate"])
        lead_low, lead_high = GRACE_LEAD_MS
        steps = torch.tensor(_GRACE_STEPS, device=device)
        step = steps[
            torch.randint(
                len(steps), (n_rows, width), generator=generator, device=device
            )
        ]
        onsets.append(
            onset - lead_low - (lead_high - lead_low) * uniform(n_rows, width)
        )
        pitches.append((pitch + step).clamp(0, 127))
        sources.append(source)
        valids.append(grace)
    if strengths["octave_doubling"]:
        double = valid & (uniform(n_rows, width) < strengths["octave_doubling"])
        onsets.append(onset)
        pitches.append(torch.where(pitch >= 60, pitch - 12, pitch + 12))
        sources.append(source)
        valids.append(double)
    onset, pitch = torch.cat(onsets, 1), torch.cat(pitches, 1)
    source, valid = torch.cat(sources, 1), torch.cat(valids, 1)
    onset = torch.where(valid, onset, torch.full_like(onset, torch.inf))
    onset, pitch, source, valid = _sort_notes(onset, pitch, source, valid)

    # timing: scale every interval to the next note, then rebuild the onsets
    start = onset[:, :1].clone()
    start[~valid[:, :1]] = 0.0
    filled = torch.where(valid, onset, start)
    filled = torch.cummax(filled, dim=1).values  # padding repeats the last onset
    interval = torch.diff(filled, dim=1)
    low, high = strengths["tempo_low"], strengths["tempo_high"]
    factor = low + (high - low) * uniform(n_rows, 1)
    scale = factor.expand_as(interval)
    if strengths["rubato"]:
        middle = (filled[:, 1:] + filled[:, :-1]) / 2 - start
        scale = scale * torch.exp(_rubato(middle, strengths["rubato"], generator))
    if strengths["jitter"]:
        between_chords = interval >= CHORD_TOLERANCE_MS
        noise = torch.randn(
            interval.shape, generator=generator, device=device, dtype=dtype
        )
        scale = scale * torch.where(
            between_chords, torch.exp(strengths["jitter"] * noise), 1.0
        )
    performed = torch.cat(
        [torch.zeros_like(start), torch.cumsum(interval * scale, 1)], 1
    )
    onset = start * factor + performed

    if strengths["asynchrony_ms"]:
        chord = _chord_ids(filled, valid)
        flat = chord + torch.arange(n_rows, device=device)[:, None] * chord.shape[1]
        size = torch.zeros(flat.numel(), device=device, dtype=torch.long)
        size.scatter_add_(0, flat.flatten(), valid.flatten().long())
        top = torch.full((flat.numel(),), -1, device=device, dtype=torch.long)
        top.scatter_reduce_(
            0, flat.flatten(), torch.where(valid, pitch, -1).flatten(), reduce="amax"
        )
        late = (size[flat] > 1) & (pitch < top[flat])
        delay = strengths["asynchrony_ms"] * uniform(*onset.shape)
        onset = onset + torch.where(late, delay, 0.0)
    onset = torch.where(valid, onset, torch.full_like(onset, torch.inf))
    return _sort_notes(onset, pitch, source, valid)


def perform_unit_events(
    windows: torch.Tensor,
    n_notes: int,
    strengths: dict[str, float],
    *,
    generator: torch.Generator | None = None,
    final_zero: torch.Tensor | None = None,
    chord_ms: float = 0.0,
    n_real: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Perform note units given with following notes (the per-batch twin).

    Parameters
    ----------
    windows : torch.Tensor of int, shape (n_units, width, 2)
        ``(pitch, inter-onset ms)`` events of each unit followed by the notes
        after it (``width > n_notes``; see :func:`extended_windows`).
    n_notes : int
        Notes per output unit.
    strengths : dict
        :meth:`PerformanceModel.strengths` of the model to apply.
    generator : torch.Generator, default=None
        Source of randomness, on the device of ``windows``.
    final_zero : torch.Tensor of bool, shape (n_units,), default=None
        Units whose last interval stays 0 (see :func:`extended_windows`).
    chord_ms : float, default=0.0
        List the performed notes the way units cut with this ``chord_ms`` are
        (:func:`~sklearn_musemb.units.note_stream`, whose batched twin
        is :func:`~sklearn_musemb.encodings.group_chords`) before the first
        ``n_notes`` are kept, so a spread chord at the end of a unit splits
        where the score's does.
    n_real : torch.Tensor of int, shape (n_units,), default=None
        Real notes per window (see :func:`extended_windows`): a unit whose
        first ``n_notes`` performed notes reach beyond them is not ``ok``
        (the last unit of a piece, after deletions).

    Returns
    -------
    events : torch.Tensor of int32, shape (n_units, n_notes, 2)
        The first ``n_notes`` performed notes of every window with their
        intervals in integer ms (clipped to ``0..IOI_MAX_MS``).
    ok : torch.Tensor of bool, shape (n_units,)
        False where fewer than ``n_notes + 1`` notes survived (the events of
        such rows are not meaningful: skip them or keep the unperformed unit).

    Examples
    --------
    >>> import torch
    >>> from sklearn_musemb.units import PerformanceModel
    >>> windows = torch.tensor([[[60, 100], [62, 100], [64, 100]]])
    >>> s = PerformanceModel(tempo=1.5).strengths()
    >>> events, ok = perform_unit_events(windows, 2, s)
    >>> events.tolist(), ok.tolist()
    ([[[60, 150], [62, 150]]], [True])
    """
    # float32 holds whole ms exactly far beyond a window's span
    ioi = windows[..., 1].float()
    onset = torch.cumsum(ioi, dim=1) - ioi
    valid = torch.ones(onset.shape, dtype=torch.bool, device=windows.device)
    onset, pitch, source, valid = perform_onsets(
        onset, windows[..., 0], valid, strengths, generator=generator
    )
    ok = valid.sum(1) > n_notes
    if n_real is not None:
        ok &= (source[:, :n_notes] < n_real[:, None]).all(1)
    # padding (onset inf) gets intervals too long to join a chord
    finite = torch.where(valid, onset, onset.new_tensor(1e9))
    interval = torch.round(torch.diff(finite, dim=1)).clamp(0, IOI_MAX_MS)
    interval = torch.cat([interval, interval.new_zeros(len(interval), 1)], 1)
    events = torch.stack([pitch, interval.long()], dim=-1)
    events = group_chords(events, chord_ms)[:, :n_notes]
    if final_zero is not None:
        events[:, -1, 1] = torch.where(final_zero, 0, events[:, -1, 1])
    return events.to(torch.int32), ok


def successor_rows(units: Units) -> np.ndarray:
    """Row of the unit that follows every row, or -1 for the last of a piece.

    Parameters
    ----------
    units : Units

    Returns
    -------
    ndarray of int64, shape (n_units,)

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_musemb.units import Units
    >>> units = Units(np.zeros((3, 2, 2), dtype=np.int16), piece=[0, 0, 1])
    >>> successor_rows(units).tolist()
    [1, -1, -1]
    """
    successor = np.full(len(units), -1, dtype=np.int64)
    first, second = units.adjacent_pairs()
    successor[first] = second
    return successor


def notes_after_needed(n_notes: int, deletion_rate: float) -> int:
    """How many following notes a unit needs to survive ``deletion_rate``.

    Enough for ``n_notes + 1`` notes to be left after deletions with a 10 %
    margin, plus two: longer windows only cost time in the per-batch sorts.

    Examples
    --------
    >>> notes_after_needed(40, 0.0), notes_after_needed(40, 0.03)
    (8, 9)
    """
    return int(np.ceil((n_notes + 1) / (1.0 - deletion_rate) * 1.1)) - n_notes + 2


def extended_windows(
    events: torch.Tensor,
    rows: torch.Tensor,
    successor: torch.Tensor,
    hop: int,
    n_after: int | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Note units followed by the new notes of the units after them.

    With ``hop == n_notes`` (the default cut) all the successor's notes follow;
    with overlapping units (``hop < n_notes``) only its last ``hop`` are new. A
    unit with no successor is followed by a copy of itself, ``JOIN_GAP_MS``
    after its last note when that note ends the piece (interval 0).

    Parameters
    ----------
    events : torch.Tensor of int, shape (n_units, n_notes, 2)
        All note units, on any device.
    rows : torch.Tensor of int, shape (n_rows,)
        The units to extend.
    successor : torch.Tensor of int, shape (n_units,)
        :func:`successor_rows` of the units, on the device of ``events``.
    hop : int
        Notes between the starts of consecutive units.
    n_after : int, default=None
        Keep at most this many following notes (see :func:`notes_after_needed`);
        None keeps all.

    Returns
    -------
    windows : torch.Tensor of int32, shape (n_rows, n_notes + extra, 2)
    final_zero : torch.Tensor of bool, shape (n_rows,)
        Rows whose last interval is 0 because the piece ends there: the
        performed unit keeps it 0 (pass to :func:`perform_unit_events`).
    n_real : torch.Tensor of int, shape (n_rows,)
        How many notes of each window are real music (the rest stands in for
        notes that do not exist; pass to :func:`perform_unit_events`).
    """
    n_notes = events.shape[1]
    base = events[rows].to(torch.int32)
    after = successor[rows]
    alone = after < 0
    final_zero = alone & (base[:, -1, 1] == 0)
    base[:, -1, 1] = torch.where(final_zero, JOIN_GAP_MS, base[:, -1, 1])
    new = events[torch.where(alone, rows, after)].to(torch.int32)
    new = new[:, max(n_notes - hop, 0) :]
    if n_after is not None:
        new = new[:, :n_after]
    n_real = torch.where(alone, n_notes, n_notes + new.shape[1])
    return torch.cat([base, new], dim=1), final_zero, n_real


def _perform_from_pieces(
    units: Units,
    pieces: Sequence[NoteTable],
    strengths: dict[str, float],
    generator: torch.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Perform whole pieces, then cut the windows of ``units`` from them."""
    if np.any(units.variant != 0):
        raise ValueError(
            "perform_units(pieces=...) needs untransposed units (variant == 0): "
            "perform first, then transpose"
        )
    n_notes = units.events.shape[1]
    hop = int(units.meta.get("hop", n_notes))
    drop_drums = bool(units.meta.get("drop_drums", True))
    chord_ms = float(units.meta.get("chord_ms", 0.0))
    events = np.zeros((len(units), n_notes, 2), dtype=np.int64)
    ok = np.zeros(len(units), dtype=bool)
    for piece in np.unique(units.piece):
        rows = np.flatnonzero(units.piece == piece)
        try:
            table = pieces[int(piece)]
        except (IndexError, KeyError):
            raise ValueError(
                f"pieces has no piece of id {int(piece)}: pass the pieces the "
                "units were cut from, indexed by piece id"
            ) from None
        notes = _kept_notes(table, drop_drums)
        # the performance starts from onset order; windows count notes in the
        # units' own order (chords by pitch with chord_ms)
        plain, _ = note_stream(notes["onset"], notes["pitch"])
        cut, _ = note_stream(notes["onset"], notes["pitch"], chord_ms)
        place_in_cut = np.empty(len(cut), dtype=np.int64)
        place_in_cut[cut] = np.arange(len(cut))
        onset = torch.as_tensor(notes["onset"][plain] * 1000.0)[None]
        pitch = torch.as_tensor(notes["pitch"][plain].astype(np.int64))[None]
        out_onset, out_pitch, source, valid = perform_onsets(
            onset, pitch, torch.ones_like(pitch, dtype=torch.bool), strengths,
            generator=generator,
        )  # fmt: skip
        keep = valid[0].numpy()
        played_onset = out_onset[0].numpy()[keep] / 1000.0
        played_pitch = out_pitch[0].numpy()[keep]
        played_source = place_in_cut[plain[source[0].numpy()[keep]]]
        order, ioi = note_stream(played_onset, played_pitch, chord_ms)
        reached = np.maximum.accumulate(played_source[order])
        start = np.searchsorted(reached, units.position[rows] * hop, side="left")
        fits = start + n_notes <= len(order)
        window = start[fits, None] + np.arange(n_notes)
        events[rows[fits], :, 0] = played_pitch[order][window]
        events[rows[fits], :, 1] = np.clip(np.rint(ioi[window]), 0, IOI_MAX_MS)
        ok[rows[fits]] = True
    return events, ok
