"""Adjacency ranking: the primary evaluation of Bretan & Heck (2019), section 4.4.

Given a reference unit and a group of ``n_candidates`` units (one unit adjacent to
the reference, before or after it, plus ``n_candidates - 1`` random units), rank
the group by Euclidean distance to the reference in the embedding space and report
the rank of the adjacent unit. Repeated for every unit that has a neighbour, the
ranks are summarised by their geometric mean (the paper's Table 2; lower is
better). The rank of the neighbour of a random embedding is uniform on 1..100
with 100 candidates, so such embeddings score close to the geometric mean of 1..100,
``(100!) ** (1 / 100) = 37.99``.
"""

from __future__ import annotations

from numbers import Integral
from typing import Any

import numpy as np
from sklearn.preprocessing import normalize
from sklearn.utils import check_array, check_random_state

from ..units.container import Units
from ..utils.validation import check_positive_int
from .statistics import _summarise

#: Summaries accepted by :func:`adjacency_rank` (``statistic=``).
STATISTICS = ("geometric_mean", "median", "mean")


def _as_generator(random_state: Any) -> np.random.Generator:
    """A numpy Generator from an int, None, a RandomState or a Generator.

    An int seeds the Generator directly; a Generator is used as it is; ``None``
    and a RandomState (``None`` meaning numpy's global RandomState, as in
    :func:`sklearn.utils.check_random_state`) give one seed drawn from that
    RandomState, so ``np.random.seed`` still makes ``None`` reproducible.
    """
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, Integral) and not isinstance(random_state, bool):
        return np.random.default_rng(int(random_state))
    legacy = check_random_state(random_state)  # ValueError for anything else
    return np.random.default_rng(legacy.randint(0, 2**32, dtype=np.uint64))


def _check_n_candidates(n_candidates: Any, owner: str) -> int:
    """``n_candidates`` as an int >= 2 (the neighbour plus one distractor)."""
    n_candidates = check_positive_int(n_candidates, "n_candidates", owner)
    if n_candidates < 2:
        raise ValueError(
            f"{owner}: n_candidates must be at least 2 (the neighbour plus one "
            f"distractor), got {n_candidates}"
        )
    return n_candidates


def _columns(units: Any, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``piece`` and ``position`` of ``n`` rows (one piece in row order if no Units)."""
    if isinstance(units, Units):
        if len(units) != n:
            raise ValueError(
                f"units has {len(units)} rows but embeddings has {n} rows; "
                "they must describe the same units in the same order"
            )
        return units.piece, units.position
    if units is not None and hasattr(units, "__len__") and len(units) != n:
        raise ValueError(
            f"units has {len(units)} rows but embeddings has {n} rows; "
            "they must describe the same units in the same order"
        )
    return np.zeros(n, dtype=np.int64), np.arange(n, dtype=np.int64)


def _near_counts(
    query: np.ndarray, piece: np.ndarray, position: np.ndarray
) -> np.ndarray:
    """For each query row, how many rows share its piece within one position."""
    _, piece_id = np.unique(piece, return_inverse=True)
    pos = position - position.min()
    span = int(pos.max()) + 3  # room for position - 1 and position + 1
    if (int(piece_id.max()) + 1) * span >= 2**62:
        raise ValueError("unit positions are too large to compare (> 2**62)")
    key = piece_id.astype(np.int64) * span + pos + 1
    sorted_key = np.sort(key)
    qkey = key[query]
    low = np.searchsorted(sorted_key, qkey - 1, side="left")
    high = np.searchsorted(sorted_key, qkey + 1, side="right")
    return high - low


def _is_near(
    a: np.ndarray, b: np.ndarray, piece: np.ndarray, position: np.ndarray
) -> np.ndarray:
    """Rows ``a`` and ``b`` share a piece and are at most one position apart."""
    return (piece[a] == piece[b]) & (np.abs(position[a] - position[b]) <= 1)


def adjacency_ranks(
    embeddings: Any,
    units: Any = None,
    *,
    n_candidates: int = 100,
    random_state: Any = None,
    chunk_size: int = 1024,
) -> np.ndarray:
    """Rank of the true neighbour of every unit among random candidates.

    For every query unit (a unit with at least one adjacent unit), the group of
    ``n_candidates`` units made of one adjacent unit (the positive) and
    ``n_candidates - 1`` random distractors is ranked by Euclidean distance to the
    query in the embedding space; the rank of the positive is returned
    (Bretan & Heck 2019, section 4.4).

    Parameters
    ----------
    embeddings : array-like of float, shape (n_units, n_dims)
        One embedding per unit, e.g. ``embedder.transform(units)``.
    units : Units or None, default=None
        The units embedded, in the same row order: adjacency comes from their
        ``piece``, ``position`` and ``variant`` (two rows are adjacent when they
        share piece and variant and their positions are ``p`` and ``p + 1``, see
        :meth:`~sklearn_musemb.units.Units.adjacent_pairs`). ``None`` or any
        object that is not a :class:`~sklearn_musemb.units.Units` (a plain array,
        say) means the rows are ONE piece in row order: row ``i + 1`` follows row
        ``i``. Such an object must still have ``n_units`` rows if it has a length.
    n_candidates : int, default=100
        Size of each ranked group: the positive plus ``n_candidates - 1``
        distractors. At least 2.
    random_state : int, RandomState, Generator or None, default=None
        Seeds the choice of positives and distractors. The candidates depend only
        on the units and this seed, never on the embeddings, so two embeddings of
        the same units are compared on the same groups when given the same int.
    chunk_size : int, default=1024
        Number of queries whose distances are computed at once; memory holds at
        most ``chunk_size * (n_candidates - 1) * n_dims`` floats. The result does
        not depend on it.

    Returns
    -------
    ranks : ndarray of float64, shape (n_queries,)
        Rank of the positive for every query, queries in ascending row order;
        1 is best and ``n_candidates`` worst.

    Raises
    ------
    ValueError
        If ``embeddings`` is not 2-d or holds NaN or infinity, if ``units`` has
        another number of rows, if ``n_candidates`` is not an integer >= 2 or
        ``chunk_size`` not a positive integer, if no two units are adjacent, or if
        some query has fewer than ``n_candidates - 1`` eligible distractors.

    Notes
    -----
    - **Queries**: every row with at least one adjacent row. Its positive is its
      neighbour, or one of its two neighbours (before or after) drawn at random.
    - **Distractors** are drawn uniformly *with replacement* from the rows that are
      not "near" the query, where near means same piece and a position at most one
      away, in ANY variant: the query itself, its neighbours, and their transposed
      (or otherwise augmented) copies are never distractors, as they are not
      random units of the database. Every query needs at least
      ``n_candidates - 1`` eligible rows.
    - **Ties** get mid-ranks: ``rank = 1 + (#distractors strictly closer) + 0.5 *
      (#distractors at exactly the same distance)``, so a constant (collapsed)
      embedding scores ``(n_candidates + 1) / 2``, not 1.
    - Sampling is vectorised: all distractors are drawn at once and only those
      that hit a near row are redrawn, until none does.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_musemb.metrics import adjacency_ranks
    >>> line = np.arange(8.0).reshape(-1, 1)  # one piece, embedded on a line
    >>> adjacency_ranks(line, n_candidates=5, random_state=0)
    array([1., 1., 1., 1., 1., 1., 1., 1.])
    >>> adjacency_ranks(np.zeros((8, 3)), n_candidates=5, random_state=0)
    array([3., 3., 3., 3., 3., 3., 3., 3.])
    """
    owner = "adjacency_ranks"
    embeddings = check_array(
        embeddings, dtype=[np.float64, np.float32], input_name="embeddings"
    )
    n = embeddings.shape[0]
    n_candidates = _check_n_candidates(n_candidates, owner)
    chunk_size = check_positive_int(chunk_size, "chunk_size", owner)
    piece, position = _columns(units, n)
    if isinstance(units, Units):
        first, second = units.adjacent_pairs()
    else:
        first, second = np.arange(n - 1), np.arange(1, n)
    if first.size == 0:
        raise ValueError(
            f"{owner}: found no adjacent pair among {n} units of "
            f"{len(np.unique(piece))} pieces; adjacency needs two units of one "
            "piece and variant at consecutive positions"
        )

    # Queries and their neighbours, grouped by query in ascending row order.
    rows = np.concatenate([first, second])
    neighbours = np.concatenate([second, first])
    order = np.lexsort((neighbours, rows))
    rows, neighbours = rows[order], neighbours[order]
    queries, starts, counts = np.unique(rows, return_index=True, return_counts=True)

    n_distractors = n_candidates - 1
    pool = n - _near_counts(queries, piece, position)
    short = np.flatnonzero(pool < n_distractors)
    if short.size:
        worst = short[np.argmin(pool[short])]
        q = queries[worst]
        raise ValueError(
            f"{owner}: n_candidates={n_candidates} needs {n_distractors} eligible "
            f"distractors per query, but {short.size} of {queries.size} queries "
            f"have fewer (row {q}, piece {piece[q]}, position {position[q]} has "
            f"only {pool[worst]} of {n} units, as units of the same piece within "
            "one position are excluded); use fewer candidates or more units"
        )

    rng = _as_generator(random_state)
    positives = neighbours[starts + rng.integers(0, counts)]
    distractors = rng.integers(0, n, size=(queries.size, n_distractors))
    # Redraw the distractors that hit a near row, in row-major order, until none
    # does; each round only looks at the ones still hitting.
    q_idx, d_idx = np.nonzero(_is_near(queries[:, None], distractors, piece, position))
    while q_idx.size:
        redraw = rng.integers(0, n, size=q_idx.size)
        distractors[q_idx, d_idx] = redraw
        still = _is_near(queries[q_idx], redraw, piece, position)
        q_idx, d_idx = q_idx[still], d_idx[still]

    return _candidate_ranks(
        embeddings[queries], embeddings, positives, distractors, "euclidean", chunk_size
    )


def _candidate_ranks(
    predicted: np.ndarray,
    embeddings: np.ndarray,
    targets: np.ndarray,
    distractors: np.ndarray,
    metric: str,
    chunk_size: int,
) -> np.ndarray:
    """Mid-rank of each target among itself and its distractors, lower is closer."""
    if metric == "cosine":
        predicted, embeddings = normalize(predicted), normalize(embeddings)
    ranks = np.empty(len(targets), dtype=np.float64)
    for start in range(0, len(targets), chunk_size):
        stop = start + chunk_size
        query = predicted[start:stop, None, :]
        # target in column 0: one computation for all candidates, so equal
        # embeddings give exactly equal distances (ties)
        candidates = embeddings[
            np.column_stack([targets[start:stop], distractors[start:stop]])
        ]
        if metric == "euclidean":
            candidates -= query
            candidates *= candidates
            distance = candidates.sum(axis=-1)  # squared distance
        else:
            candidates *= query
            distance = -candidates.sum(axis=-1)  # negated cosine similarity
        closer = np.count_nonzero(distance[:, 1:] < distance[:, :1], axis=1)
        tied = np.count_nonzero(distance[:, 1:] == distance[:, :1], axis=1)
        ranks[start:stop] = 1.0 + closer + 0.5 * tied
    return ranks


def _check_statistic(statistic: Any) -> str:
    if statistic not in STATISTICS:
        raise ValueError(f"statistic must be one of {STATISTICS}, got {statistic!r}")
    return statistic


def adjacency_rank(
    embeddings: Any,
    units: Any = None,
    *,
    n_candidates: int = 100,
    statistic: str = "geometric_mean",
    random_state: Any = None,
) -> float:
    """Summary (geometric mean by default) of :func:`adjacency_ranks`.

    Lower is better: 1 means the true neighbour is always the closest candidate;
    a constant embedding scores exactly ``(n_candidates + 1) / 2``, and a random
    one (whose ranks are uniform on ``1..n_candidates``) close to their geometric
    mean ``(n_candidates!) ** (1 / n_candidates)``, 37.99 for 100 candidates.

    Parameters
    ----------
    embeddings : array-like of float, shape (n_units, n_dims)
        One embedding per unit.
    units : Units or None, default=None
        The units embedded (see :func:`adjacency_ranks`); ``None`` or a non-Units
        object means one piece in row order.
    n_candidates : int, default=100
        Size of each ranked group (positive plus distractors), at least 2.
    statistic : {"geometric_mean", "median", "mean"}, default="geometric_mean"
        How the ranks are summarised; Bretan & Heck (2019) report the geometric
        mean.
    random_state : int, RandomState, Generator or None, default=None
        Seeds the candidate groups (see :func:`adjacency_ranks`).

    Returns
    -------
    float
        The summarised rank, between 1 and ``n_candidates``.

    Raises
    ------
    ValueError
        If ``statistic`` is unknown, or for any reason listed in
        :func:`adjacency_ranks`.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_musemb.metrics import adjacency_rank
    >>> adjacency_rank(np.arange(8.0).reshape(-1, 1), n_candidates=5, random_state=0)
    1.0
    >>> adjacency_rank(np.zeros((8, 2)), n_candidates=5, statistic="median")
    3.0
    """
    statistic = _check_statistic(statistic)
    ranks = adjacency_ranks(
        embeddings, units, n_candidates=n_candidates, random_state=random_state
    )
    return _summarise(ranks, statistic)


class AdjacencyRankScorer:
    """Scorer for model selection by adjacency rank: ``scorer(estimator, X)``.

    Calls ``estimator.transform(X)`` and returns the NEGATED
    :func:`adjacency_rank` of the embeddings, with ``X`` (usually
    :class:`~sklearn_musemb.units.Units`) giving the adjacency. scikit-learn
    maximises scores, so, as with ``"neg_mean_squared_error"``, greater is better
    and ``-score`` is the rank. Build it with :func:`make_adjacency_rank_scorer`.

    Parameters
    ----------
    n_candidates : int, default=100
        Size of each ranked group, at least 2.
    statistic : {"geometric_mean", "median", "mean"}, default="geometric_mean"
        How the ranks are summarised.
    random_state : int, RandomState, Generator or None, default=0
        Seeds the candidate groups. An int (the default) gives every call the
        same groups for the same ``X``, so all parameter settings of a grid
        search are ranked on the same candidates; a RandomState or Generator is
        consumed, giving new groups at every call.

    Attributes
    ----------
    n_candidates, statistic, random_state
        The parameters.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.preprocessing import FunctionTransformer
    >>> from sklearn_musemb.metrics import make_adjacency_rank_scorer
    >>> scorer = make_adjacency_rank_scorer(n_candidates=5)
    >>> scorer
    make_adjacency_rank_scorer(n_candidates=5, statistic='geometric_mean', random_state=0)
    >>> identity = FunctionTransformer().fit(np.zeros((1, 1)))
    >>> scorer(identity, np.arange(8.0).reshape(-1, 1))
    -1.0
    """  # noqa: E501

    def __init__(
        self,
        n_candidates: int = 100,
        statistic: str = "geometric_mean",
        random_state: Any = 0,
    ) -> None:
        self.n_candidates = _check_n_candidates(
            n_candidates, "make_adjacency_rank_scorer"
        )
        self.statistic = _check_statistic(statistic)
        self.random_state = random_state

    @property
    def _kwargs(self) -> dict[str, Any]:
        return {
            "n_candidates": self.n_candidates,
            "statistic": self.statistic,
            "random_state": self.random_state,
        }

    def __call__(self, estimator: Any, X: Any, y: Any = None, **kwargs: Any) -> float:
        """Negated adjacency rank of ``estimator.transform(X)``.

        Parameters
        ----------
        estimator : object
            A fitted estimator with a ``transform`` method returning one
            embedding row per unit.
        X : Units or array-like
            The units to embed; their piece, position and variant give the
            adjacency (a non-Units ``X`` is one piece in row order).
        y : ignored
            Accepted for the scorer protocol.
        **kwargs : dict
            Ignored (metadata such as ``sample_weight`` is not used).

        Returns
        -------
        float
            ``-adjacency_rank(estimator.transform(X), X, ...)``; greater is better.

        Raises
        ------
        TypeError
            If ``estimator`` has no ``transform`` method.
        """
        transform = getattr(estimator, "transform", None)
        if not callable(transform):
            raise TypeError(
                "the adjacency-rank scorer needs an estimator with a transform "
                f"method, got {type(estimator).__name__} which has none"
            )
        embeddings = transform(X)
        return -adjacency_rank(embeddings, X, **self._kwargs)

    def __repr__(self) -> str:
        args = ", ".join(f"{key}={value!r}" for key, value in self._kwargs.items())
        return f"make_adjacency_rank_scorer({args})"


def make_adjacency_rank_scorer(
    *,
    n_candidates: int = 100,
    statistic: str = "geometric_mean",
    random_state: Any = 0,
) -> AdjacencyRankScorer:
    """A greater-is-better scorer for ``GridSearchCV(scoring=...)``.

    The scorer returns the NEGATED adjacency rank (``-adjacency_rank``) of
    ``estimator.transform(X)``, following scikit-learn's convention for losses
    (``"neg_mean_squared_error"``): higher scores are better.

    Parameters
    ----------
    n_candidates : int, default=100
        Size of each ranked group, at least 2. Every query of a scored fold needs
        at least ``n_candidates - 1`` eligible distractors: units of the fold not
        of its piece within one position of it (see :func:`adjacency_ranks`);
        otherwise the scorer raises ``ValueError`` (pass ``error_score="raise"``
        to ``GridSearchCV`` to see it rather than a NaN score).
    statistic : {"geometric_mean", "median", "mean"}, default="geometric_mean"
        How the ranks are summarised.
    random_state : int, RandomState, Generator or None, default=0
        Seeds the candidate groups. The fixed default makes every parameter
        setting of a search be scored on the same groups.

    Returns
    -------
    AdjacencyRankScorer
        Callable as ``scorer(estimator, X, y=None)``.

    Raises
    ------
    ValueError
        If ``n_candidates`` is not an integer >= 2 or ``statistic`` is unknown.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.preprocessing import FunctionTransformer
    >>> from sklearn_musemb.metrics import make_adjacency_rank_scorer
    >>> scorer = make_adjacency_rank_scorer(n_candidates=5, statistic="median")
    >>> collapsed = np.zeros((8, 2))  # every candidate ties: median rank (5 + 1) / 2
    >>> scorer(FunctionTransformer().fit(collapsed), collapsed)
    -3.0
    """
    return AdjacencyRankScorer(
        n_candidates=n_candidates, statistic=statistic, random_state=random_state
    )


#: Ready scorer: negated geometric-mean rank among 100 candidates, seed 0.
adjacency_rank_scorer = make_adjacency_rank_scorer()
