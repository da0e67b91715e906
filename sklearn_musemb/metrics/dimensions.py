"""Triplet scores per musical dimension and per sub-space combination (paper 002).

- :func:`sample_dimension_triplets`: labelled triplets (anchor, similar,
  dissimilar) of each dimension, drawn under its similarity rule, the Dim-Sim
  style of evaluation when no human triplets exist;
- :func:`subspace_scores`: the triplet score of every combination of a
  :class:`~sklearn_musemb.embedders.ConditionalSimilarityEmbedder`'s sub-spaces
  (paper 002, Table 2; its single-dimension rows are the radar chart);
- :class:`DimensionTripletScorer`: the triplet score of an embedder on the
  triplets of a fold's ``y``, for ``cross_validate`` and ``GridSearchCV``.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

import numpy as np
from sklearn.utils import check_random_state

from ..utils.validation import check_positive_int
from .retrieval import triplet_score
from .similarity_rules import check_rule, code_labels, similar


def _columns(y: Any, owner: str) -> dict[str, np.ndarray]:
    if hasattr(y, "columns"):
        return {str(c): np.asarray(y[c], dtype=object) for c in y.columns}
    if isinstance(y, Mapping):
        return {str(c): np.asarray(v, dtype=object) for c, v in y.items()}
    array = np.asarray(y, dtype=object)
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2:
        raise ValueError(f"{owner}: y must be 1-d or 2-d, got shape {array.shape}")
    return {f"dim{j}": array[:, j] for j in range(array.shape[1])}


def sample_dimension_triplets(
    y: Any,
    rules: Mapping[str, str] | None = None,
    *,
    n_triplets: int = 1000,
    groups: Any = None,
    tempo_tolerance: float = 5.0,
    random_state: Any = None,
) -> dict[str, np.ndarray]:
    """Draw (anchor, similar, dissimilar) row triplets for each dimension of ``y``.

    For each dimension, anchors are drawn at random among the items that have at
    least one similar and one dissimilar item (by the dimension's rule), then a
    similar and a dissimilar item for each. With ``groups``, the positive and the
    negative always come from groups other than the anchor's (no same-piece or
    same-album shortcuts).

    Parameters
    ----------
    y : DataFrame, mapping of name to labels, or array-like of shape (n_items,)
        or (n_items, n_dimensions)
        The labels of each dimension (columns).
    rules : mapping of str to str or None, default=None
        Rule of a dimension by name (``"equal"``, ``"tempo"``, ``"key"``);
        unlisted dimensions use ``"equal"``.
    n_triplets : int, default=1000
        Triplets per dimension.
    groups : array-like of shape (n_items,) or None
    tempo_tolerance : float, default=5.0
    random_state : int, RandomState instance or None

    Returns
    -------
    dict of str to ndarray of shape (n_triplets, 3)
        Row indices per dimension (dimensions where no triplet exists are left
        out).

    Examples
    --------
    >>> import pandas as pd
    >>> y = pd.DataFrame({"era": ["a", "a", "b", "b"]})
    >>> t = sample_dimension_triplets(y, n_triplets=3, random_state=0)["era"]
    >>> bool(all(y.era[a] == y.era[p] != y.era[n] for a, p, n in t))
    True
    """
    owner = "sample_dimension_triplets"
    n_triplets = check_positive_int(n_triplets, "n_triplets", owner)
    columns = _columns(y, owner)
    rules = dict(rules or {})
    unknown = set(rules) - set(columns)
    if unknown:
        raise ValueError(f"{owner}: rules name unknown dimensions {sorted(unknown)}")
    n = len(next(iter(columns.values())))
    group = np.arange(n) if groups is None else np.asarray(groups).ravel()
    if group.shape != (n,):
        raise ValueError(f"{owner}: groups must have shape ({n},), got {group.shape}")
    other = group[:, None] != group[None, :]
    rng = check_random_state(random_state)
    triplets = {}
    for name, values in columns.items():
        rule = check_rule(rules.get(name, "equal"), owner)
        codes = code_labels(values, rule, name)
        same = similar(codes[:, None], codes[None, :], rule, tempo_tolerance)
        positive, negative = same & other, ~same & other
        anchors = np.flatnonzero(positive.any(1) & negative.any(1))
        if not len(anchors):
            continue
        picked = rng.choice(anchors, size=n_triplets)
        # a uniform pick among each anchor's candidates: argmax of masked noise
        pos = np.argmax(positive[picked] * rng.random((n_triplets, n)), axis=1)
        neg = np.argmax(negative[picked] * rng.random((n_triplets, n)), axis=1)
        triplets[name] = np.column_stack([picked, pos, neg])
    return triplets


def subspace_scores(
    model: Any,
    embeddings: Any,
    triplets: Mapping[str, np.ndarray],
    *,
    max_size: int | None = None,
    metric: str = "euclidean",
) -> list[dict[str, Any]]:
    """Triplet score of every combination of sub-spaces, on every triplet set.

    Parameters
    ----------
    model : fitted ConditionalSimilarityEmbedder
        Gives the sub-spaces (``model.subspace``) and their names.
    embeddings : array-like of shape (n_items, embedding_dim)
        ``model.transform`` of the items the triplets index (e.g. track means).
    triplets : mapping of str to ndarray of shape (n, 3)
        Triplet sets by name (e.g. of :func:`sample_dimension_triplets`, or the
        human triplets of Dim-Sim under ``"human"``).
    max_size : int or None, default=None
        Largest combination; ``None``: all of them (``2 ** n - 1``).
    metric : str, default="euclidean"

    Returns
    -------
    list of dict
        One row per combination: ``dimensions`` (tuple of names) and one score per
        triplet set, best mean score first. Ready for ``pandas.DataFrame``.
    """
    names = list(model.dimensions_)
    largest = len(names) if max_size is None else min(int(max_size), len(names))
    rows = []
    for size in range(1, largest + 1):
        for combination in itertools.combinations(names, size):
            sub = model.subspace(embeddings, combination)
            row: dict[str, Any] = {"dimensions": combination}
            for name, t in triplets.items():
                row[name] = triplet_score(sub, t, metric=metric)
            rows.append(row)
    return sorted(rows, key=lambda r: -np.mean([r[k] for k in triplets]))


class DimensionTripletScorer:
    """Scorer: triplet score of ``estimator.transform(X)`` on triplets drawn from ``y``.

    For ``cross_validate(..., scoring=DimensionTripletScorer(...))``: each fold's
    ``y`` (labels of one or more dimensions) gives ``n_triplets`` triplets per
    dimension; the score is the fraction of all of them that the embedding
    orders right. ``dimension`` restricts it to one dimension's triplets.

    Parameters
    ----------
    rules : mapping of str to str or None, default=None
    dimension : str or None, default=None
    n_triplets : int, default=1000
    metric : str, default="euclidean"
    random_state : int, default=0
        Fixed, so every estimator is scored on the same triplets of a fold.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from sklearn.preprocessing import FunctionTransformer
    >>> X = np.array([[0.0], [0.1], [5.0], [5.1]])
    >>> y = pd.DataFrame({"era": ["a", "a", "b", "b"]})
    >>> DimensionTripletScorer(n_triplets=20)(FunctionTransformer().fit(X), X, y)
    1.0
    """

    def __init__(
        self,
        rules: Mapping[str, str] | None = None,
        dimension: str | None = None,
        n_triplets: int = 1000,
        metric: str = "euclidean",
        random_state: int = 0,
    ) -> None:
        self.rules = rules
        self.dimension = dimension
        self.n_triplets = n_triplets
        self.metric = metric
        self.random_state = random_state

    def __call__(self, estimator: Any, X: Any, y: Any = None, **kwargs: Any) -> float:
        """Fraction of the fold's triplets that ``estimator.transform(X)`` orders."""
        if y is None:
            raise ValueError("DimensionTripletScorer needs y (the dimensions' labels)")
        triplets = sample_dimension_triplets(
            y, self.rules, n_triplets=self.n_triplets, random_state=self.random_state
        )
        if self.dimension is not None:
            if self.dimension not in triplets:
                raise ValueError(
                    f"DimensionTripletScorer: no triplets for dimension "
                    f"{self.dimension!r} (y has {sorted(triplets)})"
                )
            triplets = {self.dimension: triplets[self.dimension]}
        if not triplets:
            raise ValueError("DimensionTripletScorer: y allows no triplet at all")
        Z = estimator.transform(X)
        return triplet_score(
            Z, np.concatenate(list(triplets.values())), metric=self.metric
        )

    def __repr__(self) -> str:
        return (
            f"DimensionTripletScorer(rules={self.rules!r}, "
            f"dimension={self.dimension!r}, n_triplets={self.n_triplets})"
        )
