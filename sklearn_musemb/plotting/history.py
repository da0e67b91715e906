"""Training curves from a skorch history: losses (and more) per epoch."""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from ._optional import check_ax

if TYPE_CHECKING:
    from matplotlib.axes import Axes

#: Numeric history entries that are bookkeeping, not curves: never drawn unless
#: asked for by name.
BOOKKEEPING = ("epoch", "dur", "train_batch_count", "valid_batch_count")

_PREFIXES = ("train_", "valid_")


def _history(obj: Any, owner: str) -> tuple[list[Mapping[str, Any]], str | None]:
    """The per-epoch rows of ``obj``'s history, and the estimator's class name."""
    name = None
    if hasattr(obj, "fit"):  # an estimator
        name = type(obj).__name__
        check_is_fitted(obj)
        history = getattr(obj, "history_", None)
        if history is None:
            history = getattr(obj, "history", None)
        if history is None or not len(history):
            raise NotFittedError(
                f"This {name} instance has no training history yet; call 'fit' "
                "before plotting its training curves."
            )
    else:
        history = obj
    if (
        not isinstance(history, Sequence)
        or isinstance(history, str)
        or not all(isinstance(row, Mapping) for row in history)
    ):
        raise TypeError(
            f"{owner}: expected a fitted estimator with a history_ (or history), a "
            f"skorch History or a list of per-epoch dicts, got {type(obj).__name__}"
        )
    if not len(history):
        raise ValueError(f"{owner}: the history is empty (no epoch to draw)")
    return list(history), name


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _numeric_keys(rows: list[Mapping[str, Any]]) -> list[str]:
    """Keys with a number in some epoch, in order of first appearance."""
    keys = dict.fromkeys(
        key for row in rows for key, value in row.items() if _is_number(value)
    )
    return [key for key in keys if key != "epoch"]


def _default_keys(available: list[str]) -> list[str]:
    losses = [key for key in available if "loss" in key]
    return losses or [key for key in available if key not in BOOKKEEPING]


def _base(key: str) -> str:
    for prefix in _PREFIXES:
        if key.startswith(prefix):
            return key[len(prefix) :]
    return key


def plot_training_curves(
    history_or_estimator: Any,
    *,
    keys: str | Sequence[str] | None = None,
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """Draw per-epoch training curves (losses by default) from a skorch history.

    Every key of the history that holds a number per epoch can be drawn against
    the epoch. ``train_*`` and ``valid_*`` curves of the same quantity share a
    colour, the validation one dashed.

    Parameters
    ----------
    history_or_estimator : fitted estimator, skorch History or list of dict
        A fitted embedder (any skorch net: its ``history_``), or the history
        itself: one dict per epoch, as skorch records it.
    keys : str, sequence of str or None, default=None
        The history keys to draw. None: every key with "loss" in its name
        (``train_loss``, ``valid_loss``, ``train_disc_loss``...), or, when
        there is none, every numeric key except the bookkeeping ones
        (``dur``, ``*_batch_count``).
    ax : matplotlib Axes or None, default=None
        Where to draw; a new figure when None.
    title : str or None, default=None
        The title; None: ``"<estimator class> training"`` for an estimator,
        none for a history.

    Returns
    -------
    ax : matplotlib Axes
        The Axes drawn on, with one line per key (labelled with the key).

    Raises
    ------
    sklearn.exceptions.NotFittedError
        If the estimator is not fitted (or has an empty history).
    ValueError
        If a key is not a numeric key of the history (the message lists those
        that are), or the history is empty.
    TypeError
        If ``history_or_estimator`` is none of the accepted types.
    ImportError
        If matplotlib is not installed.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn_musemb.plotting import plot_training_curves
    >>> history = [
    ...     {"epoch": 1, "train_loss": 0.9, "valid_loss": 1.0, "dur": 0.1},
    ...     {"epoch": 2, "train_loss": 0.6, "valid_loss": 0.8, "dur": 0.1},
    ...     {"epoch": 3, "train_loss": 0.5, "valid_loss": 0.7, "dur": 0.1},
    ... ]
    >>> ax = plot_training_curves(history)
    >>> [line.get_label() for line in ax.get_lines()]
    ['train_loss', 'valid_loss']
    >>> ax.get_xlabel(), ax.get_ylabel()
    ('epoch', 'loss')
    """
    owner = "plot_training_curves"
    rows, estimator_name = _history(history_or_estimator, owner)
    available = _numeric_keys(rows)
    if keys is None:
        keys = _default_keys(available)
        if not keys:
            raise ValueError(f"{owner}: the history has no numeric per-epoch entry")
    else:
        keys = [keys] if isinstance(keys, str) else list(keys)
        unknown = [key for key in keys if key not in available]
        if unknown or not keys:
            raise ValueError(
                f"{owner}: unknown history key(s) {unknown}; the numeric keys "
                f"are {available}"
            )
    ax = check_ax(ax, owner)
    from matplotlib.ticker import MaxNLocator

    epochs = np.array([row.get("epoch", i + 1) for i, row in enumerate(rows)])
    colors: dict[str, str] = {}
    for key in keys:
        values = np.array(
            [row[key] if _is_number(row.get(key)) else np.nan for row in rows],
            dtype=np.float64,
        )
        color = colors.setdefault(_base(key), f"C{len(colors) % 10}")
        ax.plot(
            epochs,
            values,
            linestyle="--" if key.startswith("valid_") else "-",
            marker="o" if len(rows) <= 30 else None,
            markersize=3,
            color=color,
            label=key,
        )
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss" if all("loss" in key for key in keys) else "value")
    ax.legend(loc="best", fontsize="small")
    if title is None and estimator_name is not None:
        title = f"{estimator_name} training"
    if title is not None:
        ax.set_title(title)
    return ax
