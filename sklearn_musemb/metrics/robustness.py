"""Retrieval under performance: does a performed passage find its score?

A passage played by a pianist differs from its score (tempo, spread chords,
rubato, a dropped note); an embedding in which "nearby means musically similar"
must still put the two next to each other. The measure: embed a database of
units, play every query unit through a
:class:`~sklearn_musemb.units.PerformanceModel`, embed it, and rank the whole
database by Euclidean distance to it; the rank of the unit it was played from is
its *retrieval rank* (1 is perfect). Ranks are summarised by the mean reciprocal
rank (MRR), recall at 1 and 10 and the median rank.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..units.container import Units, _check_units

if TYPE_CHECKING:  # torch is imported on first use
    from ..io.notes import NoteTable

#: Summaries of retrieval ranks (:func:`summarise_retrieval`), greater is better
#: except ``median_rank``.
RETRIEVAL_STATISTICS = ("mrr", "recall_at_1", "recall_at_10", "median_rank")
_QUERY_CHUNK = 1024


def retrieval_ranks(
    queries: np.ndarray,
    database: np.ndarray,
    targets: np.ndarray,
    *,
    device: str = "cpu",
) -> np.ndarray:
    """Rank of each query's target among all database rows, by Euclidean distance.

    Ties count half (mid-rank): a target tied with ``t`` other rows and closer
    than the rest has rank ``1 + t / 2``, so collapsed embeddings cannot score
    well.

    Parameters
    ----------
    queries : array-like of shape (n_queries, dim)
    database : array-like of shape (n_database, dim)
    targets : array-like of int, shape (n_queries,)
        Row of ``database`` each query should find.
    device : str, default="cpu"
        Torch device of the distance computation.

    Returns
    -------
    ndarray of float64, shape (n_queries,)

    Examples
    --------
    >>> import numpy as np
    >>> database = np.array([[0.0], [1.0], [2.0]])
    >>> retrieval_ranks(np.array([[0.9], [0.9]]), database, np.array([1, 0]))
    array([1., 2.])
    """
    import torch

    queries = np.asarray(queries, dtype=np.float32)
    database = np.asarray(database, dtype=np.float32)
    targets = np.asarray(targets, dtype=np.int64)
    if queries.ndim != 2 or database.ndim != 2 or queries.shape[1] != database.shape[1]:
        raise ValueError(
            "queries and database must be 2-d with the same width, got shapes "
            f"{queries.shape} and {database.shape}"
        )
    if targets.shape != (len(queries),):
        raise ValueError(
            f"targets must have one row per query ({len(queries)}), got shape "
            f"{targets.shape}"
        )
    if len(targets) and (targets.min() < 0 or targets.max() >= len(database)):
        raise ValueError("targets must be rows of database")
    if not (np.isfinite(queries).all() and np.isfinite(database).all()):
        raise ValueError("embeddings contain NaN or infinity: cannot rank them")
    db = torch.as_tensor(database, device=device)
    db_sq = db.square().sum(1)
    ranks = np.empty(len(queries), dtype=np.float64)
    for start in range(0, len(queries), _QUERY_CHUNK):
        stop = min(start + _QUERY_CHUNK, len(queries))
        q = torch.as_tensor(queries[start:stop], device=device)
        # one formula for every row, the target included, so equal rows tie
        distance = db_sq[None, :] - 2.0 * (q @ db.T)
        target = torch.as_tensor(targets[start:stop], device=device)
        own = distance.gather(1, target[:, None])
        closer = (distance < own).sum(1)
        tied = (distance == own).sum(1) - 1
        ranks[start:stop] = (1.0 + closer + 0.5 * tied).double().cpu().numpy()
    return ranks


def summarise_retrieval(ranks: np.ndarray) -> dict[str, float]:
    """MRR, recall at 1 and 10 and median of retrieval ranks.

    Parameters
    ----------
    ranks : array-like of shape (n_queries,)

    Returns
    -------
    dict
        ``{"mrr", "recall_at_1", "recall_at_10", "median_rank"}``.

    Examples
    --------
    >>> summarise_retrieval([1, 2, 20, 1])
    {'mrr': 0.6375, 'recall_at_1': 0.5, 'recall_at_10': 0.75, 'median_rank': 1.5}
    """
    ranks = np.asarray(ranks, dtype=np.float64)
    if ranks.size == 0:
        raise ValueError("no ranks to summarise")
    return {
        "mrr": float(np.mean(1.0 / ranks)),
        "recall_at_1": float(np.mean(ranks <= 1)),
        "recall_at_10": float(np.mean(ranks <= 10)),
        "median_rank": float(np.median(ranks)),
    }


def robustness_ranks(
    estimator: Any,
    units: Units,
    performance: Any,
    *,
    pieces: Sequence[NoteTable] | None = None,
    distractors: Units | None = None,
    device: str = "cpu",
) -> tuple[np.ndarray, int]:
    """Retrieval ranks of performed units among the units themselves.

    Parameters
    ----------
    estimator : object
        Fitted, with ``transform`` from note units to one row each.
    units : Units
        The units to play and find again (they are also the database).
    performance : PerformanceModel
        How the queries are played.
    pieces : sequence of NoteTable, default=None
        The pieces ``units`` were cut from (see
        :meth:`~sklearn_musemb.units.PerformanceModel.perform_units`): performs
        whole pieces.
    distractors : Units, default=None
        More database units (other pieces), never targets.
    device : str, default="cpu"
        Where the distances are computed.

    Returns
    -------
    ranks : ndarray of float64, shape (n_queries,)
        One rank per unit that could be performed.
    skipped : int
        Units that could not be performed (too few notes left).
    """
    units = _check_units(units, "robustness_ranks", "it performs and finds them")
    queries = performance.perform_units(units, pieces=pieces)
    database = estimator.transform(units)
    if distractors is not None:
        database = np.vstack([database, estimator.transform(distractors)])
    ranks = retrieval_ranks(
        estimator.transform(queries), database, queries.meta["source_rows"],
        device=device,
    )  # fmt: skip
    return ranks, int(queries.meta["skipped_units"])


class RobustnessScorer:
    """Scorer for model selection by retrieval under performance.

    ``scorer(estimator, X)`` plays the units ``X`` through ``performance``,
    ranks all of ``X`` for each performed unit (see :func:`robustness_ranks`)
    and returns a summary of the ranks (greater is better: ``median_rank`` is
    negated). Build it with :func:`make_robustness_scorer`.

    Parameters
    ----------
    performance : PerformanceModel
        How the queries are played; give it an int ``random_state`` so every
        candidate of a grid search meets the same performances.
    statistic : {"mrr", "recall_at_1", "recall_at_10", "median_rank"}
        The summary returned.
    device : str
        Where the distances are computed.
    """

    def __init__(self, performance: Any, statistic: str, device: str) -> None:
        self.performance = performance
        self.statistic = statistic
        self.device = device

    def __call__(self, estimator: Any, X: Any, y: Any = None, **kwargs: Any) -> float:
        """Summary of the retrieval ranks of ``X`` performed; greater is better.

        Parameters
        ----------
        estimator : object
            Fitted, with a ``transform`` method.
        X : Units
            Note units; they are both the database and the queries.
        y : ignored
        **kwargs : dict
            Ignored.

        Returns
        -------
        float
        """
        if not callable(getattr(estimator, "transform", None)):
            raise TypeError(
                "the robustness scorer needs an estimator with a transform method, "
                f"got {type(estimator).__name__}"
            )
        ranks, _ = robustness_ranks(estimator, X, self.performance, device=self.device)
        value = summarise_retrieval(ranks)[self.statistic]
        return -value if self.statistic == "median_rank" else value

    def __repr__(self) -> str:
        return (
            f"make_robustness_scorer({self.performance!r}, "
            f"statistic={self.statistic!r})"
        )


def make_robustness_scorer(
    performance: Any = None, *, statistic: str = "mrr", device: str = "cpu"
) -> RobustnessScorer:
    """A greater-is-better scorer of retrieval under performance.

    Parameters
    ----------
    performance : PerformanceModel, default=None
        How the queries are played; None means
        ``PerformanceModel.typical(random_state=0)``.
    statistic : {"mrr", "recall_at_1", "recall_at_10", "median_rank"}, \
default="mrr"
        The summary of the ranks (``median_rank`` is negated).
    device : str, default="cpu"
        Where the distances are computed.

    Returns
    -------
    RobustnessScorer
        Callable as ``scorer(estimator, X, y=None)``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.model_selection import GridSearchCV, GroupKFold
    >>> from sklearn_musemb.features import HandcraftedFeatures
    >>> from sklearn_musemb.metrics import make_robustness_scorer
    >>> from sklearn_musemb.units import PerformanceModel, Units
    >>> rng = np.random.default_rng(0)
    >>> X = Units(np.stack([rng.integers(40, 90, (40, 16)),
    ...                     rng.choice([0, 250, 500], (40, 16))], axis=-1),
    ...           piece=np.repeat(np.arange(4), 10))
    >>> scorer = make_robustness_scorer(
    ...     PerformanceModel(asynchrony_ms=30, random_state=0))
    >>> search = GridSearchCV(HandcraftedFeatures(), {"chord_ms": [0, 35]},
    ...                       scoring=scorer, cv=GroupKFold(2))
    >>> bool(search.fit(X, groups=X.piece).best_score_ > 0.9)
    True
    """
    if statistic not in RETRIEVAL_STATISTICS:
        raise ValueError(
            f"statistic must be one of {RETRIEVAL_STATISTICS}, got {statistic!r}"
        )
    if performance is None:
        from ..units.performance import PerformanceModel

        performance = PerformanceModel.typical(random_state=0)
    if not callable(getattr(performance, "perform_units", None)):
        raise TypeError(
            f"performance must be a PerformanceModel, got {type(performance).__name__}"
        )
    performance.strengths()
    return RobustnessScorer(performance, statistic, device)
