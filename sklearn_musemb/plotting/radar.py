"""A radar (Kiviat) chart of per-dimension scores, for one or several models."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ._optional import check_ax
from .history import _is_number

if TYPE_CHECKING:
    from matplotlib.axes import Axes


def _series(scores: Any, owner: str) -> dict[str | None, dict[str, float]]:
    """``{series name: {dimension: score}}``; a single series is named None."""
    if hasattr(scores, "columns") and hasattr(scores, "index"):  # a DataFrame
        scores = {column: scores[column] for column in scores.columns}
    if not isinstance(scores, Mapping) or not len(scores):
        raise ValueError(
            f"{owner}: scores must be a non-empty mapping (or DataFrame), "
            f"got {type(scores).__name__}"
        )
    values = list(scores.values())
    if all(_is_number(v) for v in values):
        scores = {None: scores}
    series: dict[str | None, dict[str, float]] = {}
    for name, row in scores.items():
        if hasattr(row, "items") and not isinstance(row, Mapping):
            row = dict(row.items())  # a pandas Series
        if not isinstance(row, Mapping):
            raise ValueError(
                f"{owner}: scores must map dimension to score, or series name to "
                f"such a mapping; the entry {name!r} is a {type(row).__name__}"
            )
        checked = {}
        for dimension, value in row.items():
            if not _is_number(value) or not np.isfinite(value):
                raise ValueError(
                    f"{owner}: the score of {name!r} on {dimension!r} must be a "
                    f"finite number, got {value!r}"
                )
            checked[str(dimension)] = float(value)
        series[None if name is None else str(name)] = checked
    return series


def _dimensions(
    series: Mapping[str | None, Mapping[str, float]],
    dimensions: Sequence[str] | None,
    owner: str,
) -> list[str]:
    if dimensions is None:
        dimensions = list(dict.fromkeys(d for row in series.values() for d in row))
    else:
        dimensions = [str(d) for d in dimensions]
        if len(set(dimensions)) != len(dimensions):
            raise ValueError(f"{owner}: dimensions repeat a name: {dimensions}")
    if len(dimensions) < 3:
        raise ValueError(
            f"{owner}: a radar chart needs at least 3 dimensions, got {dimensions}"
        )
    for name, row in series.items():
        missing = [d for d in dimensions if d not in row]
        if missing:
            who = "scores" if name is None else f"series {name!r}"
            raise ValueError(f"{owner}: {who} has no score for {missing}")
    return dimensions


def _auto_limits(values: np.ndarray) -> tuple[float, float]:
    low, high = float(values.min()), float(values.max())
    span = high - low or abs(high) or 1.0
    bottom, top = low - 0.15 * span, high + 0.05 * span
    if low >= 0.0 and high <= 1.0:  # fractions (accuracies, triplet scores)
        bottom, top = max(bottom, 0.0), min(top, 1.0)
    return bottom, top


def plot_dimension_radar(
    scores: Any,
    *,
    dimensions: Sequence[str] | None = None,
    ax: Axes | None = None,
    chance: float | None = 0.5,
    ylim: tuple[float, float] | None = None,
    fill: bool = True,
    title: str | None = None,
) -> Axes:
    """Draw per-dimension scores of one or several models on a radar chart.

    Each dimension (e.g. the triplet score on composer, key, tempo...
    triplets) gets a spoke, and each model (series) a closed line through its
    scores, so models that capture different dimensions show different shapes.
    A dashed circle marks the chance level.

    Parameters
    ----------
    scores : mapping or DataFrame
        ``{series name: {dimension: score}}`` for several series, or
        ``{dimension: score}`` for one (drawn without a legend entry). A
        DataFrame has one column per series and one row per dimension (what
        ``pandas.DataFrame`` makes of the first form; transpose a table with
        one row per model).
    dimensions : sequence of str or None, default=None
        The dimensions to draw, in order (clockwise from the top); None: all
        of them, in order of first appearance. Every series needs a score on
        each, and there must be at least 3.
    ax : matplotlib Axes or None, default=None
        A polar Axes to draw on; a new figure when None.
    chance : float or None, default=0.5
        The chance level, drawn as a dashed circle (0.5 for the triplet score);
        None draws none.
    ylim : (float, float) or None, default=None
        The radial limits; None: a little beyond the smallest and largest
        scores and the chance level, kept within [0, 1] when they all are.
    fill : bool, default=True
        Shade the inside of each series' polygon.
    title : str or None, default=None
        The title; None sets none.

    Returns
    -------
    ax : matplotlib Axes
        The polar Axes drawn on: one line per series (then the chance circle),
        one angular tick per dimension.

    Raises
    ------
    ValueError
        If ``scores`` is empty or malformed, a score is not a finite number,
        a series lacks a score on one of the dimensions, there are fewer than 3
        dimensions, or ``ax`` is not polar.
    ImportError
        If matplotlib is not installed.

    See Also
    --------
    sklearn_musemb.metrics.sample_dimension_triplets : triplets per dimension.
    sklearn_musemb.metrics.subspace_scores : the scores of each sub-space of a
        conditional similarity network.
    sklearn_musemb.metrics.DimensionTripletScorer : one dimension's score.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn_musemb.plotting import plot_dimension_radar
    >>> scores = {
    ...     "multi-input": {"composer": 0.71, "era": 0.76, "key": 0.62, "tempo": 0.8},
    ...     "baseline": {"composer": 0.63, "era": 0.66, "key": 0.55, "tempo": 0.58},
    ... }
    >>> ax = plot_dimension_radar(scores)
    >>> [label.get_text() for label in ax.get_xticklabels()]
    ['composer', 'era', 'key', 'tempo']
    >>> [text.get_text() for text in ax.get_legend().get_texts()]
    ['multi-input', 'baseline', 'chance (0.5)']
    """
    owner = "plot_dimension_radar"
    series = _series(scores, owner)
    dims = _dimensions(series, dimensions, owner)
    if chance is not None and (not _is_number(chance) or not np.isfinite(chance)):
        raise ValueError(f"{owner}: chance must be a finite number or None")
    ax = check_ax(ax, owner, polar=True, figsize=(6.0, 6.0))

    angles = np.linspace(0.0, 2.0 * np.pi, len(dims), endpoint=False)
    closed = np.append(angles, angles[0])
    drawn = []
    for index, (name, row) in enumerate(series.items()):
        values = np.array([row[d] for d in dims])
        drawn.append(values)
        color = f"C{index % 10}"
        label = "_nolegend_" if name is None else name
        ax.plot(closed, np.append(values, values[0]), "o-", color=color, label=label)
        if fill:
            ax.fill(closed, np.append(values, values[0]), color=color, alpha=0.1)
    if chance is not None:
        circle = np.linspace(0.0, 2.0 * np.pi, 200)
        ax.plot(
            circle,
            np.full_like(circle, chance),
            "--",
            color="0.4",
            linewidth=1,
            label=f"chance ({chance:g})",
        )
        drawn.append(np.array([chance]))
    ax.set_theta_offset(np.pi / 2)  # the first dimension at the top,
    ax.set_theta_direction(-1)  # the others clockwise
    ax.set_xticks(angles, dims)
    ax.tick_params(axis="x", pad=8)
    ax.set_rlabel_position(np.degrees(angles[1]) / 2)  # between two spokes
    ax.set_ylim(*(_auto_limits(np.concatenate(drawn)) if ylim is None else ylim))
    if title is not None:
        ax.set_title(title, pad=16)
    n_entries = sum(name is not None for name in series) + (chance is not None)
    if n_entries:
        ax.legend(
            loc="upper center",
            bbox_to_anchor=(0.5, -0.1),
            ncols=min(n_entries, 3),
            fontsize="small",
            frameon=False,
        )
    return ax
