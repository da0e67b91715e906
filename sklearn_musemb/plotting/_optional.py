"""Lazy imports of the optional plotting dependencies, with an install hint.

matplotlib and umap-learn are imported only when a plot is drawn, so importing
:mod:`sklearn_musemb.plotting` never needs them.
"""

from __future__ import annotations

import importlib.util
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.axes import Axes

#: What to install for the plotting functions.
INSTALL_HINT = 'pip install "sklearn-musemb[plot]"'


def import_pyplot(caller: str) -> ModuleType:
    """``matplotlib.pyplot``, or an ImportError naming ``caller`` and the fix."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as error:
        raise ImportError(
            f"{caller} requires matplotlib, which is not installed: {INSTALL_HINT}"
        ) from error
    return plt


def umap_available() -> bool:
    """Whether umap-learn can be imported (checked without importing it)."""
    return importlib.util.find_spec("umap") is not None


def import_umap(caller: str) -> ModuleType:
    """The ``umap`` module, or an ImportError naming ``caller`` and the fix."""
    try:
        import umap
    except ImportError as error:
        raise ImportError(
            f"{caller}(method='umap') requires umap-learn, which is not installed: "
            f"{INSTALL_HINT}"
        ) from error
    return umap


def check_ax(
    ax: Any,
    caller: str,
    *,
    polar: bool = False,
    figsize: tuple[float, float] | None = None,
) -> Axes:
    """``ax`` checked to be a matplotlib Axes (polar if asked), or a new one."""
    plt = import_pyplot(caller)
    from matplotlib.axes import Axes

    if ax is None:
        _, ax = plt.subplots(
            figsize=figsize, subplot_kw={"projection": "polar"} if polar else None
        )
        return ax
    if not isinstance(ax, Axes):
        raise TypeError(
            f"{caller}: ax must be a matplotlib Axes or None, got {type(ax).__name__}"
        )
    if polar and ax.name != "polar":
        raise ValueError(
            f"{caller}: ax must be a polar Axes (e.g. plt.subplots(subplot_kw="
            f"{{'projection': 'polar'}})), got a {ax.name!r} Axes"
        )
    return ax
