"""Box plots of the rank distributions of several methods."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from ..metrics.statistics import _summarise
from ._optional import check_ax

if TYPE_CHECKING:
    from matplotlib.axes import Axes

#: The summaries ``mean`` can mark on each box.
MEANS = ("geometric", "arithmetic", None)


def _check_ranks(ranks: Any, owner: str) -> dict[str, np.ndarray]:
    if not isinstance(ranks, Mapping) or not ranks:
        raise ValueError(
            f"{owner}: ranks must be a non-empty mapping of name to ranks, "
            f"got {type(ranks).__name__}"
        )
    checked = {}
    for name, values in ranks.items():
        try:
            array = np.asarray(values, dtype=np.float64)
        except (TypeError, ValueError) as error:
            raise ValueError(f"{owner}: ranks of {name!r} are not numbers") from error
        if array.ndim != 1 or array.size == 0:
            raise ValueError(
                f"{owner}: ranks of {name!r} must be a non-empty 1-d array, "
                f"got shape {array.shape}"
            )
        if not np.isfinite(array).all():
            raise ValueError(f"{owner}: ranks of {name!r} contain NaN or infinity")
        checked[str(name)] = array
    return checked


def _horizontal_boxplot(ax: Axes, values: list[np.ndarray], **kwargs: Any) -> dict:
    """``ax.boxplot`` drawn horizontally on every matplotlib >= 3.8."""
    import matplotlib

    major, minor = (int(part) for part in matplotlib.__version__.split(".")[:2])
    if (major, minor) >= (3, 10):
        return ax.boxplot(values, orientation="horizontal", **kwargs)
    return ax.boxplot(values, vert=False, **kwargs)  # pragma: no cover


def plot_rank_distributions(
    ranks: Mapping[str, Any],
    *,
    ax: Axes | None = None,
    log: bool = True,
    mean: str | None = "geometric",
    showfliers: bool = False,
    xlabel: str = "rank",
    title: str | None = None,
) -> Axes:
    """Draw the rank distribution of each method as a horizontal box plot.

    One box per entry of ``ranks``, the first at the top: the box spans the
    quartiles, the line inside is the median and the whiskers reach the furthest
    ranks within 1.5 times the interquartile range. A diamond marks each
    method's mean rank (the geometric mean by default, the summary of Bretan &
    Heck 2019).

    Parameters
    ----------
    ranks : mapping of str to array-like of shape (n_queries,)
        The ranks of each method (e.g. of
        :func:`~sklearn_musemb.metrics.adjacency_ranks`), by the name drawn next
        to its box; methods may have different numbers of ranks.
    ax : matplotlib Axes or None, default=None
        Where to draw; a new figure (sized to the number of boxes) when None.
    log : bool, default=True
        Logarithmic rank axis (ranks must then be positive).
    mean : {"geometric", "arithmetic"} or None, default="geometric"
        Which mean to mark on each box, with a legend entry; None marks none.
        The geometric mean needs positive ranks.
    showfliers : bool, default=False
        Draw the ranks beyond the whiskers as points.
    xlabel : str, default="rank"
        The label of the rank axis.
    title : str or None, default=None
        The title; None sets none.

    Returns
    -------
    ax : matplotlib Axes
        The Axes drawn on; its y tick labels are the names of ``ranks``.

    Raises
    ------
    ValueError
        If ``ranks`` is empty or not a mapping, holds something other than a
        non-empty 1-d array of finite numbers, holds a rank <= 0 with ``log``
        or a geometric ``mean``, or if ``mean`` is unknown.
    ImportError
        If matplotlib is not installed.

    See Also
    --------
    sklearn_musemb.metrics.adjacency_ranks : ranks of each unit's neighbour.
    sklearn_musemb.metrics.compare_rank_distributions : tests on the same ranks.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from sklearn_musemb.plotting import plot_rank_distributions
    >>> rng = np.random.default_rng(0)
    >>> ranks = {"AdjD": rng.integers(1, 20, 200), "random": rng.integers(1, 101, 200)}
    >>> ax = plot_rank_distributions(ranks, title="rank of the next unit (of 100)")
    >>> [label.get_text() for label in ax.get_yticklabels()]
    ['AdjD', 'random']
    >>> ax.get_xscale()
    'log'
    """
    owner = "plot_rank_distributions"
    if mean not in MEANS:
        raise ValueError(
            f"{owner}: mean must be one of {', '.join(map(repr, MEANS))}; got {mean!r}"
        )
    checked = _check_ranks(ranks, owner)
    for name, values in checked.items():
        if (log or mean == "geometric") and (values <= 0).any():
            why = "a log axis" if log else "a geometric mean"
            raise ValueError(
                f"{owner}: ranks of {name!r} must be positive for {why} (found "
                f"{values.min():g}); pass log=False and mean='arithmetic' or None"
            )
    ax = check_ax(ax, owner, figsize=(8.0, 0.5 * len(checked) + 1.5))

    positions = np.arange(1, len(checked) + 1)
    _horizontal_boxplot(
        ax, list(checked.values()), positions=positions, showfliers=showfliers
    )
    ax.set_yticks(positions, list(checked))
    if mean is not None:
        statistic = "geometric_mean" if mean == "geometric" else "mean"
        means = [_summarise(values, statistic) for values in checked.values()]
        ax.scatter(
            means,
            positions,
            marker="D",
            s=30,
            color="C3",
            zorder=3,
            label=f"{mean} mean",
        )
        ax.legend(loc="best", fontsize="small")
    if log:
        ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    if title is not None:
        ax.set_title(title)
    ax.set_ylim(len(checked) + 0.5, 0.5)  # the first method at the top
    return ax
