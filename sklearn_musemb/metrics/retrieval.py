"""Retrieval measures of the audio papers: triplet agreement and precision@k.

- :func:`triplet_score`: the fraction of triplets ``(anchor, positive, negative)``
  whose anchor is closer to the positive than to the negative (the Dim-Sim measure
  of the conditional similarity network paper);
- :func:`precision_at_k`: mean share of relevant items among each query's ``k``
  nearest neighbours, relevance being a shared label (single-label ``y``) or a
  shared tag (multi-label ``y``), as in Schindler & Knees (2019).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.spatial.distance import cdist
from sklearn.metrics.pairwise import paired_distances
from sklearn.preprocessing import MultiLabelBinarizer

from ..utils.validation import check_positive_int

#: Distances the retrieval measures accept (:func:`scipy.spatial.distance.cdist` names).
RETRIEVAL_METRICS = ("euclidean", "sqeuclidean", "cosine")


def _check_embeddings(embeddings: Any, owner: str) -> np.ndarray:
    Z = np.asarray(embeddings, dtype=np.float64)
    if Z.ndim != 2 or len(Z) == 0:
        raise ValueError(
            f"{owner}: embeddings must be a non-empty 2-d array, got shape {Z.shape}"
        )
    if not np.isfinite(Z).all():
        raise ValueError(f"{owner}: embeddings contain NaN or infinity")
    return Z


def _check_metric(metric: str, owner: str) -> str:
    if metric not in RETRIEVAL_METRICS:
        raise ValueError(
            f"{owner}: metric must be one of {RETRIEVAL_METRICS}, got {metric!r}"
        )
    return metric


def triplet_score(
    embeddings: Any, triplets: Any, *, metric: str = "euclidean"
) -> float:
    """Fraction of triplets with ``d(anchor, positive) < d(anchor, negative)``.

    Parameters
    ----------
    embeddings : array-like of shape (n_items, n_dims)
    triplets : array-like of int, shape (n_triplets, 3)
        Row indices ``(anchor, positive, negative)`` into ``embeddings``.
    metric : {"euclidean", "sqeuclidean", "cosine"}, default="euclidean"
        Dim-Sim scores with the Euclidean distance.

    Returns
    -------
    float
        In [0, 1]; ties count as failures.

    Raises
    ------
    ValueError
        On non-finite embeddings, triplets not of shape (n, 3), indices out of
        range, or an unknown metric.

    Examples
    --------
    >>> import numpy as np
    >>> Z = np.array([[0.0], [1.0], [5.0]])
    >>> triplet_score(Z, [[0, 1, 2], [2, 0, 1]])
    0.5
    """
    owner = "triplet_score"
    Z = _check_embeddings(embeddings, owner)
    _check_metric(metric, owner)
    T = np.asarray(triplets)
    if T.ndim != 2 or T.shape[1] != 3 or len(T) == 0:
        raise ValueError(
            f"{owner}: triplets must have shape (n_triplets, 3), got {T.shape}"
        )
    if not np.issubdtype(T.dtype, np.integer):
        raise ValueError(f"{owner}: triplets must be integer row indices")
    if T.min() < 0 or T.max() >= len(Z):
        raise ValueError(
            f"{owner}: triplet indices must lie in 0..{len(Z) - 1}, found "
            f"{T.min()}..{T.max()}"
        )
    # squared Euclidean orders triplets exactly as Euclidean does
    paired = "euclidean" if metric == "sqeuclidean" else metric
    a, p, n = Z[T[:, 0]], Z[T[:, 1]], Z[T[:, 2]]
    closer = paired_distances(a, p, metric=paired) < paired_distances(
        a, n, metric=paired
    )
    return float(np.mean(closer))


def _relevance(y: Any, n: int, owner: str) -> np.ndarray:
    """Boolean label-indicator matrix of ``y`` (single- or multi-label)."""
    if y is None:
        raise ValueError(f"{owner}: y (labels or tag lists) is required")
    if len(y) != n:
        raise ValueError(f"{owner}: {n} embeddings but {len(y)} labels")
    if isinstance(y, np.ndarray) and y.ndim == 2:
        return y.astype(bool)  # an indicator matrix
    if isinstance(next(iter(y)), list | tuple | set | frozenset | np.ndarray):
        return MultiLabelBinarizer().fit_transform([list(t) for t in y]).astype(bool)
    labels = np.asarray(y)
    _, codes = np.unique(labels, return_inverse=True)
    return np.eye(codes.max() + 1, dtype=bool)[codes]


def precision_at_k(
    embeddings: Any,
    y: Any,
    *,
    k: int = 100,
    metric: str = "euclidean",
    groups: Any = None,
    chunk_size: int = 1024,
) -> float:
    """Mean precision@k of retrieving items that share a label with the query.

    Every item is a query; its ``k`` nearest other items (by ``metric``) are
    retrieved and the share that is relevant (shares a label, or for multi-label
    ``y`` at least one tag) is averaged over queries.

    Parameters
    ----------
    embeddings : array-like of shape (n_items, n_dims)
    y : array-like of shape (n_items,), sequence of tag iterables, or a binary
        indicator ndarray of shape (n_items, n_labels)
        Single labels, tag lists (multi-label) or their NumPy indicator matrix.
    k : int, default=100
        Neighbours retrieved per query (Schindler & Knees: 100). Must be below the
        number of items that can be retrieved.
    metric : {"euclidean", "sqeuclidean", "cosine"}, default="euclidean"
    groups : array-like of shape (n_items,) or None, default=None
        Items of the query's group (its album, its piece) are never retrieved.
    chunk_size : int, default=1024
        Queries whose distances are held at once.

    Returns
    -------
    float
        In [0, 1].

    Raises
    ------
    ValueError
        On bad shapes, non-finite embeddings, ``k`` too large, an unknown metric.

    Examples
    --------
    >>> import numpy as np
    >>> Z = np.array([[0.0], [0.1], [5.0], [5.1]])
    >>> precision_at_k(Z, ["a", "a", "b", "b"], k=1)
    1.0
    >>> precision_at_k(Z, [["a"], ["a", "b"], ["b"], ["c"]], k=1)
    0.5
    """
    owner = "precision_at_k"
    Z = _check_embeddings(embeddings, owner)
    _check_metric(metric, owner)
    k = check_positive_int(k, "k", owner)
    relevant = _relevance(y, len(Z), owner)
    group = None if groups is None else np.asarray(groups)
    if group is not None and group.shape != (len(Z),):
        raise ValueError(f"{owner}: groups must have shape ({len(Z)},)")
    most = (
        len(Z) - 1
        if group is None
        else len(Z) - np.unique(group, return_counts=True)[1].max()
    )
    if k > most:
        raise ValueError(f"{owner}: k={k} but a query can retrieve only {most} item(s)")
    hits = 0.0
    for start in range(0, len(Z), chunk_size):
        rows = np.arange(start, min(start + chunk_size, len(Z)))
        D = cdist(Z[rows], Z, metric=metric)
        D[np.arange(len(rows)), rows] = np.inf  # never retrieve the query itself
        if group is not None:
            D[group[rows][:, None] == group[None, :]] = np.inf
        nearest = np.argpartition(D, k - 1, axis=1)[:, :k]
        shared = (relevant[rows][:, None, :] & relevant[nearest]).any(-1)
        hits += shared.sum()
    return float(hits / (len(Z) * k))


class PrecisionAtKScorer:
    """Scorer ``precision_at_k(estimator.transform(X), y)``, for ``cross_validate``.

    Made by :func:`make_precision_at_k_scorer`. Greater is better, so it works
    with the default direction of ``GridSearchCV``.

    Parameters
    ----------
    k : int, default=100
    metric : {"euclidean", "sqeuclidean", "cosine"}, default="euclidean"

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.preprocessing import FunctionTransformer
    >>> scorer = make_precision_at_k_scorer(k=1)
    >>> X = np.array([[0.0], [0.1], [5.0], [5.1]])
    >>> scorer(FunctionTransformer().fit(X), X, ["a", "a", "b", "b"])
    1.0
    """

    def __init__(self, k: int = 100, metric: str = "euclidean") -> None:
        self.k = check_positive_int(k, "k", "make_precision_at_k_scorer")
        self.metric = _check_metric(metric, "make_precision_at_k_scorer")

    def __call__(self, estimator: Any, X: Any, y: Any = None, **kwargs: Any) -> float:
        """Precision@k of the embeddings of ``X`` with ``y`` as labels or tags."""
        transform = getattr(estimator, "transform", None)
        if not callable(transform):
            raise TypeError(
                "the precision@k scorer needs an estimator with a transform "
                f"method, got {type(estimator).__name__} which has none"
            )
        return precision_at_k(transform(X), y, k=self.k, metric=self.metric)

    def __repr__(self) -> str:
        return f"make_precision_at_k_scorer(k={self.k}, metric={self.metric!r})"


def make_precision_at_k_scorer(
    *, k: int = 100, metric: str = "euclidean"
) -> PrecisionAtKScorer:
    """A scorer of :func:`precision_at_k` for ``cross_validate`` and ``GridSearchCV``.

    ``y`` of the scored fold gives the relevance (labels, tag lists or an
    indicator matrix). Each fold retrieves within itself, so a fold needs more
    than ``k`` items.

    Parameters
    ----------
    k : int, default=100
    metric : {"euclidean", "sqeuclidean", "cosine"}, default="euclidean"

    Returns
    -------
    PrecisionAtKScorer

    Examples
    --------
    >>> make_precision_at_k_scorer(k=10)
    make_precision_at_k_scorer(k=10, metric='euclidean')
    """
    return PrecisionAtKScorer(k=k, metric=metric)
