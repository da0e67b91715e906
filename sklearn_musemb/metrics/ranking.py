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

import copy
from collections.abc import Callable
from numbers import Integral
from typing import TYPE_CHECKING, Any

import numpy as np
from sklearn.preprocessing import normalize
from sklearn.utils import check_array, check_random_state

from ..units.container import Units
from ..utils.validation import check_positive_int
from .statistics import _summarise

if TYPE_CHECKING:  # torch is imported on first use
    import torch

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
    device: str | torch.device | None = "cpu",
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
        Number of queries whose distractors are drawn and whose distances are
        computed at once; memory holds at most ``chunk_size * n_candidates *
        n_dims`` floats and ``chunk_size * n_candidates`` indices. The result
        does not depend on it.
    device : str, torch.device or None, default="cpu"
        Where the distances are computed: ``"cpu"`` (numpy, on the host) or a
        torch device (``"cuda"``, ``"cuda:1"``...), to which the embeddings are
        copied once and where each chunk's candidates are gathered and compared;
        only the ranks come back. ``"auto"`` picks CUDA when available, ``None``
        is the CPU. The result does not depend on it (see Notes); the
        distractors are drawn on the host.

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
        ``chunk_size`` not a positive integer, if ``device`` is not a torch
        device (or is CUDA where torch finds none), if no two units are adjacent,
        or if some query has fewer than ``n_candidates - 1`` eligible
        distractors.

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
    - Sampling is vectorised: all distractors are drawn in one stream, in
      row-major order, and only those that hit a near row are redrawn (again in
      row-major order), until none does. The stream is drawn chunk by chunk, twice:
      once to find the hits, whose replacements are then drawn, and once more,
      from a copy of the generator, while ranking; so only the hits (a fraction
      about ``3 * n_variants / n_units`` of the draws) are kept for the whole set.
      The groups are those of one big draw, whatever ``chunk_size``.
    - **Exactness**: on a torch device the distances repeat numpy's operations
      in numpy's order (differences, squares, then numpy's pairwise summation
      over the dimensions, as elementwise additions), so the ranks are the same,
      bit for bit, on every device and for every ``chunk_size``, float32 or
      float64 (barring subnormal numbers flushed to zero, which torch does not
      do by default).

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
    device = _check_device(device, owner)
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
    # The distractors are the stream of n_queries * n_distractors draws in
    # row-major order, with the draws that hit a near row replaced by redraws
    # (in row-major order, round after round, until none hits). Pass 1 draws the
    # stream chunk by chunk and keeps only the hits; their redraws follow it in
    # the generator. Pass 2 draws the same stream again, chunk by chunk, from a
    # copy of the generator taken before pass 1, and patches in the redraws.
    stream = np.random.Generator(copy.deepcopy(rng.bit_generator))
    hit_query, hit_column = [], []
    for start in range(0, queries.size, chunk_size):
        chunk = queries[start : start + chunk_size]
        drawn = rng.integers(0, n, size=(chunk.size, n_distractors))
        q_idx, d_idx = np.nonzero(_is_near(chunk[:, None], drawn, piece, position))
        hit_query.append(q_idx + start)
        hit_column.append(d_idx)
    hit_query, hit_column = np.concatenate(hit_query), np.concatenate(hit_column)
    replacement = np.empty(hit_query.size, dtype=np.int64)
    redrawn = np.arange(hit_query.size)  # hits still on a near row
    while redrawn.size:
        redraw = rng.integers(0, n, size=redrawn.size)
        replacement[redrawn] = redraw
        still = _is_near(queries[hit_query[redrawn]], redraw, piece, position)
        redrawn = redrawn[still]

    def draw(start: int, stop: int) -> np.ndarray:
        distractors = stream.integers(0, n, size=(stop - start, n_distractors))
        low, high = np.searchsorted(hit_query, [start, stop])
        distractors[hit_query[low:high] - start, hit_column[low:high]] = replacement[
            low:high
        ]
        return distractors

    return _candidate_ranks(
        embeddings[queries],
        embeddings,
        positives,
        _in_order(draw, chunk_size),
        "euclidean",
        chunk_size,
        device,
    )


def _check_device(device: Any, owner: str) -> str:
    """``device`` resolved (``"auto"``, ``None``) and checked to be usable."""
    from ..utils.torch_utils import check_device  # torch only when ranking

    return check_device(device, owner)


def _in_order(
    draw: Callable[[int, int], np.ndarray], chunk_size: int
) -> Callable[[int, int], np.ndarray]:
    """``draw(start, stop)``, checked to be called on consecutive chunks.

    The distractors of rows ``start:stop`` are the next draws of a random stream,
    so asking for chunks out of order (or of another size) would silently change
    them.
    """
    expected = 0

    def in_order(start: int, stop: int) -> np.ndarray:
        nonlocal expected
        if start != expected or stop - start > chunk_size:
            raise RuntimeError(
                f"distractors must be drawn in consecutive chunks of at most "
                f"{chunk_size} rows; asked for rows {start}:{stop} after "
                f"{expected} rows"
            )
        expected = stop
        return draw(start, stop)

    return in_order


def _sum_like_numpy(x: torch.Tensor) -> torch.Tensor:
    """``x.sum(-1)`` with numpy's order of additions (pairwise summation).

    ``numpy.add.reduce`` over a contiguous axis of ``n`` values adds them one by
    one below 8, in 8 interleaved partial sums up to 128 (then combined pairwise,
    then the remainder one by one), and splits longer axes in two halves (a
    multiple of 8 first). Floating-point addition is correctly rounded on every
    torch device, so repeating these additions as elementwise tensor operations
    gives numpy's result bit for bit.
    """
    n = x.shape[-1]
    if n < 8:
        total = x[..., 0].clone()
        for i in range(1, n):
            total += x[..., i]
        return total
    if n <= 128:
        stop = n - n % 8
        partial = x[..., :8].clone()
        for i in range(8, stop, 8):
            partial += x[..., i : i + 8]
        p = partial.unbind(-1)
        total = ((p[0] + p[1]) + (p[2] + p[3])) + ((p[4] + p[5]) + (p[6] + p[7]))
        for i in range(stop, n):
            total += x[..., i]
        return total
    half = n // 2 - (n // 2) % 8
    return _sum_like_numpy(x[..., :half]) + _sum_like_numpy(x[..., half:])


#: Whether a CPU ``device`` computes the distances in numpy rather than torch:
#: both give the same bits, numpy faster (torch's CPU gathers and the many small
#: additions of :func:`_sum_like_numpy` are slower). Tests switch it off to check
#: the torch path, which GPUs take, on the CPU.
_NUMPY_ON_CPU = True


def _candidate_ranks(
    predicted: np.ndarray,
    embeddings: np.ndarray,
    targets: np.ndarray,
    distractors: Callable[[int, int], np.ndarray],
    metric: str,
    chunk_size: int,
    device: str,
) -> np.ndarray:
    """Mid-rank of each target among itself and its distractors, lower is closer.

    ``distractors(start, stop)`` gives the distractor rows of predictions
    ``start:stop``; it is called once per chunk, in order. On a torch device
    (other than the CPU, see :data:`_NUMPY_ON_CPU`) the embeddings, predictions
    and targets are copied there once; each chunk's candidates are gathered and
    compared there, and only the ranks come back.
    """
    import torch

    if metric == "cosine":
        predicted, embeddings = normalize(predicted), normalize(embeddings)
    if _NUMPY_ON_CPU and torch.device(device).type == "cpu":
        return _numpy_candidate_ranks(
            predicted, embeddings, targets, distractors, metric, chunk_size
        )
    # torch must not share (and warns about) read-only arrays
    predicted, embeddings, targets = (
        torch.as_tensor(np.require(array, requirements="W"), device=device)
        for array in (predicted, embeddings, np.asarray(targets, dtype=np.int64))
    )
    counts = torch.empty(len(targets), dtype=torch.float64, device=device)
    for start in range(0, len(targets), chunk_size):
        stop = min(start + chunk_size, len(targets))
        rows = torch.as_tensor(distractors(start, stop), device=device)
        # target in column 0: one computation for all candidates, so equal
        # embeddings give exactly equal distances (ties)
        rows = torch.cat([targets[start:stop, None], rows], dim=1)
        counts[start:stop] = _closer_counts(
            predicted[start:stop, None, :], embeddings[rows], metric, _sum_like_numpy
        )
    return (1.0 + 0.5 * counts).cpu().numpy()


def _closer_counts(
    query: Any, candidates: Any, metric: str, total: Callable[[Any], Any]
) -> Any:
    """Twice the mid-rank of ``candidates[:, 0]`` minus 2, of numpy or torch arrays.

    That is ``2 * (#candidates strictly closer to the query) + (#as close)``, an
    integer, so the mid-rank ``1 + count / 2`` is computed once, in float64.
    ``total(x)`` sums over the last axis; ``candidates`` is consumed.
    """
    if metric == "euclidean":
        candidates -= query
        candidates *= candidates
        distance = total(candidates)  # squared distance
    else:
        candidates *= query
        distance = -total(candidates)  # negated cosine similarity
    closer = (distance[:, 1:] < distance[:, :1]).sum(1)
    tied = (distance[:, 1:] == distance[:, :1]).sum(1)
    return 2 * closer + tied


def _numpy_candidate_ranks(
    predicted: np.ndarray,
    embeddings: np.ndarray,
    targets: np.ndarray,
    distractors: Callable[[int, int], np.ndarray],
    metric: str,
    chunk_size: int,
) -> np.ndarray:
    """:func:`_candidate_ranks` in numpy on the host (cosine: rows normalised).

    The candidates of every chunk are gathered into one buffer, allocated once:
    a fresh array per chunk costs more in page faults than the arithmetic.
    """
    counts = np.empty(len(targets), dtype=np.float64)
    buffer = None
    for start in range(0, len(targets), chunk_size):
        stop = min(start + chunk_size, len(targets))
        rows = np.column_stack([targets[start:stop], distractors(start, stop)])
        if buffer is None:
            buffer = np.empty(
                (min(chunk_size, len(targets)), rows.shape[1], embeddings.shape[1]),
                dtype=embeddings.dtype,
            )
        # target in column 0: one computation for all candidates, so equal
        # embeddings give exactly equal distances (ties)
        candidates = buffer[: stop - start]
        np.take(embeddings, rows, axis=0, out=candidates, mode="clip")  # rows valid
        counts[start:stop] = _closer_counts(
            predicted[start:stop, None, :],
            candidates,
            metric,
            lambda x: x.sum(axis=-1),
        )
    return 1.0 + 0.5 * counts


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
    chunk_size: int = 1024,
    device: str | torch.device | None = "cpu",
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
    chunk_size : int, default=1024
        Queries ranked at once (see :func:`adjacency_ranks`).
    device : str, torch.device or None, default="cpu"
        Where the distances are computed: ``"cpu"`` (numpy) or a torch device
        (see :func:`adjacency_ranks`); ``"auto"`` uses CUDA when available. The
        result does not depend on it.

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
        embeddings,
        units,
        n_candidates=n_candidates,
        random_state=random_state,
        chunk_size=chunk_size,
        device=device,
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
    device : str, torch.device or None, default="cpu"
        Where the distances are computed (see :func:`adjacency_ranks`); checked
        when scoring. The score does not depend on it.

    Attributes
    ----------
    n_candidates, statistic, random_state, device
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
        device: str | torch.device | None = "cpu",
    ) -> None:
        self.n_candidates = _check_n_candidates(
            n_candidates, "make_adjacency_rank_scorer"
        )
        self.statistic = _check_statistic(statistic)
        self.random_state = random_state
        self.device = device  # checked when scoring: torch is imported on first use

    @property
    def _kwargs(self) -> dict[str, Any]:
        kwargs = {
            "n_candidates": self.n_candidates,
            "statistic": self.statistic,
            "random_state": self.random_state,
        }
        if not (isinstance(self.device, str) and self.device == "cpu"):
            kwargs["device"] = self.device
        return kwargs

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
    device: str | torch.device | None = "cpu",
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
    device : str, torch.device or None, default="cpu"
        Where the distances are computed: ``"cpu"`` (numpy) or a torch device
        (see :func:`adjacency_ranks`); ``"auto"`` uses CUDA when available. The
        score does not depend on it.

    Returns
    -------
    AdjacencyRankScorer
        Callable as ``scorer(estimator, X, y=None)``.

    Raises
    ------
    ValueError
        If ``n_candidates`` is not an integer >= 2 or ``statistic`` is unknown
        (a bad ``device`` raises when scoring).

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
        n_candidates=n_candidates,
        statistic=statistic,
        random_state=random_state,
        device=device,
    )


#: Ready scorer: negated geometric-mean rank among 100 candidates, seed 0.
adjacency_rank_scorer = make_adjacency_rank_scorer()
