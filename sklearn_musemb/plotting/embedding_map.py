"""A 2-D map of embeddings: UMAP, t-SNE or PCA, coloured by label."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
from sklearn.utils import check_array, check_random_state

from ..utils.validation import check_positive_int
from ._optional import check_ax, import_umap, umap_available

if TYPE_CHECKING:
    from matplotlib.axes import Axes

#: The projections, by the name ``method`` takes.
METHODS = ("auto", "umap", "tsne", "pca")

#: Largest number of points ``method="auto"`` gives to t-SNE (when umap-learn is
#: missing); more points are projected with PCA, t-SNE being slow on a CPU.
TSNE_MAX_POINTS = 2000

#: Most labels that get a legend when ``legend=None``.
MAX_LEGEND_ENTRIES = 20

_NAMES = {"umap": "UMAP", "tsne": "t-SNE", "pca": "PCA"}


def _check_method(method: Any) -> str:
    if method not in METHODS:
        raise ValueError(
            f"plot_embedding_map: method must be one of {', '.join(map(repr, METHODS))}"
            f"; got {method!r}"
        )
    return method


def _resolve_method(method: str, n_points: int) -> str:
    if method != "auto":
        return method
    if umap_available():
        return "umap"
    return "tsne" if n_points <= TSNE_MAX_POINTS else "pca"


def _classes(labels: np.ndarray) -> list[Any]:
    """The distinct labels, sorted when they can be, else in order of appearance."""
    distinct = list(dict.fromkeys(labels.tolist()))
    try:
        return sorted(distinct)
    except TypeError:
        return distinct


def _project(
    X: np.ndarray, method: str, random_state: Any, kwargs: Mapping[str, Any]
) -> tuple[np.ndarray, tuple[str, str]]:
    """The 2-D coordinates of ``X`` and the names of the two axes."""
    n = X.shape[0]
    name = _NAMES[method]
    if method == "pca":
        from sklearn.decomposition import PCA

        pca = PCA(n_components=2, random_state=random_state, **kwargs)
        Z = pca.fit_transform(X)
        ratios = pca.explained_variance_ratio_
        names = [f"PC {i + 1} ({r:.0%} of variance)" for i, r in enumerate(ratios)]
        return Z, (names[0], names[1])
    if method == "tsne":
        from sklearn.manifold import TSNE

        # perplexity must stay below the number of points
        params = {"perplexity": min(30.0, max(1.0, (n - 1) / 3)), "init": "pca"}
        params.update(kwargs)
        Z = TSNE(n_components=2, random_state=random_state, **params).fit_transform(X)
    else:
        umap = import_umap("plot_embedding_map")
        params = {"n_neighbors": min(15, n - 1)}
        if random_state is not None:
            params["n_jobs"] = 1  # what umap-learn does anyway, with a warning
        params.update(kwargs)
        Z = umap.UMAP(n_components=2, random_state=random_state, **params)
        Z = Z.fit_transform(X)
    return np.asarray(Z), (f"{name} 1", f"{name} 2")


def _colors(n_classes: int) -> list[Any]:
    import matplotlib as mpl

    if n_classes <= 10:
        return [f"C{i}" for i in range(n_classes)]
    cmap = mpl.colormaps["tab20" if n_classes <= 20 else "turbo"]
    if n_classes <= 20:
        return [cmap(i) for i in range(n_classes)]
    return [cmap(x) for x in np.linspace(0.0, 1.0, n_classes)]


def plot_embedding_map(
    X: Any,
    labels: Any = None,
    *,
    method: str = "auto",
    ax: Axes | None = None,
    random_state: Any = None,
    max_points: int = 5000,
    projection_kw: Mapping[str, Any] | None = None,
    legend: bool | None = None,
    title: str | None = None,
    **scatter_kw: Any,
) -> Axes:
    """Draw a 2-D map of embeddings, one colour per label.

    The embeddings are projected to two dimensions with UMAP, t-SNE or PCA and
    drawn as a scatter plot, the points of each label in their own colour and
    with a legend entry. The title names the projection used.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        The embeddings (e.g. ``embedder.transform(units)``), finite, with at
        least 3 rows and 2 columns.
    labels : array-like of shape (n_samples,) or None, default=None
        A label per row (composer, say); ``None`` draws every point alike.
    method : {"auto", "umap", "tsne", "pca"}, default="auto"
        The projection. ``"umap"``: :class:`umap.UMAP` (umap-learn);
        ``"tsne"``: :class:`sklearn.manifold.TSNE`; ``"pca"``:
        :class:`sklearn.decomposition.PCA`. ``"auto"``: UMAP when umap-learn is
        installed, else t-SNE for up to ``TSNE_MAX_POINTS`` (2000) points
        and PCA beyond.
    ax : matplotlib Axes or None, default=None
        Where to draw; a new figure when None.
    random_state : int, RandomState instance or None, default=None
        Seeds the projection (UMAP, t-SNE, randomised PCA) and the choice of
        points beyond ``max_points``.
    max_points : int, default=5000
        At most this many rows are projected and drawn: beyond it, a subset is
        drawn at random with ``random_state`` (0 when None, so the same rows are
        drawn every time), and the title says so.
    projection_kw : mapping or None, default=None
        More parameters of the projection's estimator (e.g. ``{"n_neighbors":
        30}`` for UMAP, ``{"perplexity": 50}`` for t-SNE); they override the
        defaults chosen here (UMAP's ``n_neighbors`` and t-SNE's ``perplexity``
        shrink for small inputs).
    legend : bool or None, default=None
        Draw the legend of the labels; None: when there are labels, at most
        20 of them.
    title : str or None, default=None
        The title; None: ``"<projection> of <n> embeddings"``.
    **scatter_kw
        Passed to :meth:`matplotlib.axes.Axes.scatter` (e.g. ``s``, ``alpha``,
        ``marker``).

    Returns
    -------
    ax : matplotlib Axes
        The Axes drawn on, with one scatter collection per label.

    Raises
    ------
    ValueError
        If ``method`` is unknown, ``X`` is not a 2-D finite array (NaN or
        infinity) of at least 3 rows and 2 columns, ``labels`` does not have one
        entry per row, or ``max_points`` is not a positive integer.
    ImportError
        If matplotlib is not installed, or ``method="umap"`` without
        umap-learn (``pip install "sklearn-musemb[plot]"``).

    See Also
    --------
    sklearn.manifold.TSNE : the t-SNE projection.
    sklearn.decomposition.PCA : the PCA projection.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from sklearn_musemb.plotting import plot_embedding_map
    >>> rng = np.random.default_rng(0)
    >>> X = np.vstack([rng.normal(0, 1, (20, 8)), rng.normal(3, 1, (20, 8))])
    >>> ax = plot_embedding_map(X, ["bach"] * 20 + ["haydn"] * 20, method="pca")
    >>> ax.get_title()
    'PCA of 40 embeddings'
    >>> [text.get_text() for text in ax.get_legend().get_texts()]
    ['bach', 'haydn']
    """
    owner = "plot_embedding_map"
    method = _check_method(method)
    X = check_array(
        X,
        dtype=np.float64,
        ensure_all_finite=True,
        ensure_min_samples=3,
        ensure_min_features=2,
        input_name="X",
    )
    n_total = X.shape[0]
    if labels is not None:
        labels = np.asarray(labels, dtype=object)
        if labels.ndim != 1 or labels.shape[0] != n_total:
            raise ValueError(
                f"{owner}: labels must have one entry per row of X ({n_total}), "
                f"got shape {labels.shape}"
            )
    max_points = check_positive_int(max_points, "max_points", owner)
    if max_points < 3:
        raise ValueError(f"{owner}: max_points must be at least 3, got {max_points}")
    ax = check_ax(ax, owner)

    if n_total > max_points:
        rng = check_random_state(0 if random_state is None else random_state)
        keep = np.sort(rng.choice(n_total, size=max_points, replace=False))
        X = X[keep]
        labels = None if labels is None else labels[keep]
    n = X.shape[0]
    method = _resolve_method(method, n)
    Z, axis_names = _project(X, method, random_state, dict(projection_kw or {}))

    style = {"s": 12, "alpha": 0.8, "linewidths": 0}
    style.update(scatter_kw)
    if labels is None:
        ax.scatter(Z[:, 0], Z[:, 1], **style)
        classes = []
    else:
        classes = _classes(labels)
        colors = _colors(len(classes))
        for cls, color in zip(classes, colors, strict=True):
            mask = labels == cls
            kwargs = {"color": color, **style}
            ax.scatter(Z[mask, 0], Z[mask, 1], label=str(cls), **kwargs)
    if legend is None:
        legend = 0 < len(classes) <= MAX_LEGEND_ENTRIES
    if legend and classes:
        ax.legend(
            fontsize="small",
            markerscale=1.5,
            ncols=1 + (len(classes) - 1) // 10,
            loc="best",
        )
    ax.set_xlabel(axis_names[0])
    ax.set_ylabel(axis_names[1])
    if method != "pca":
        # UMAP and t-SNE coordinates have no unit: only the neighbourhoods matter
        ax.set_xticks([])
        ax.set_yticks([])
    if title is None:
        title = f"{_NAMES[method]} of {n} embeddings"
        if n < n_total:
            title += f" (drawn at random from {n_total})"
    ax.set_title(title)
    return ax
