"""Comparing methods by their distributions of ranks (Bretan et al. 2017, 5.1).

Bretan et al. (2017) compare the rank distributions of seven embeddings on the
forward-prediction task: per model the median rank, a "spread" and the skew;
pairwise t-tests between all models with a Bonferroni correction; and Levene's
test of equal variances across all models. :func:`compare_rank_distributions`
computes all of that from one array of ranks per method (e.g.
:func:`~sklearn_musemb.metrics.adjacency_ranks` of each embedding, on the same
units and seed).
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import combinations
from typing import Any

import numpy as np
from scipy import stats
from sklearn.utils import Bunch, check_array

from ..utils.validation import check_finite_number


def _summarise(values: np.ndarray, statistic: str) -> float:
    """``values`` summarised by ``"geometric_mean"``, ``"median"`` or ``"mean"``.

    The geometric mean needs positive values (callers ensure it).
    """
    if statistic == "geometric_mean":
        return float(np.exp(np.mean(np.log(values))))
    if statistic == "median":
        return float(np.median(values))
    return float(np.mean(values))


def _check_samples(ranks: Any, owner: str) -> dict[Any, np.ndarray]:
    """The rank arrays of ``ranks`` as 1-d float64 arrays, checked."""
    if not isinstance(ranks, Mapping):
        raise TypeError(
            f"{owner}: ranks must be a mapping from method name to an array of "
            f"ranks, got {type(ranks).__name__}"
        )
    if len(ranks) < 2:
        raise ValueError(
            f"{owner}: needs the ranks of at least two methods, got {len(ranks)}"
        )
    samples = {}
    for name, values in ranks.items():
        where = f"ranks[{name!r}]"
        values = check_array(
            values, ensure_2d=False, dtype=np.float64, input_name=where
        )
        if values.ndim != 1:
            raise ValueError(
                f"{owner}: {where} must be 1-d (one rank per query), got shape "
                f"{values.shape}"
            )
        if values.size < 2:
            raise ValueError(
                f"{owner}: {where} has {values.size} rank(s); a t-test needs at "
                "least 2 per method"
            )
        if values.min() <= 0:
            raise ValueError(
                f"{owner}: ranks must be positive (1 is best), {where} holds "
                f"{values.min()}"
            )
        samples[name] = values
    return samples


def compare_rank_distributions(
    ranks: Mapping[Any, Any],
    *,
    alpha: float = 0.05,
    equal_var: bool = False,
    center: str = "median",
) -> Bunch:
    """Per-method summaries and significance tests between rank distributions.

    Follows Bretan et al. (2017), section 5.1: per method the median, spread and
    skew of its ranks; a two-sided t-test between every pair of methods
    (:func:`scipy.stats.ttest_ind`) with Bonferroni-corrected p-values; and
    Levene's test (:func:`scipy.stats.levene`) of equal variances across all
    methods.

    Parameters
    ----------
    ranks : mapping of name to array-like of float, shape (n_queries,)
        One array of positive ranks per method (1 is best). The arrays may have
        different lengths; at least two methods with at least two ranks each.
    alpha : float, default=0.05
        Family-wise significance level: a pair is significant when its
        Bonferroni-corrected p-value is below ``alpha`` (its raw p-value below
        ``alpha / n_comparisons``); Levene's test is significant when its
        p-value is below ``alpha``.
    equal_var : bool, default=False
        ``False``: Welch's t-test (no equal-variance assumption; the spreads of
        rank distributions differ, which is what Levene's test looks at).
        ``True``: Student's t-test. The paper does not say which it used.
    center : {"median", "mean", "trimmed"}, default="median"
        Passed to :func:`scipy.stats.levene`. ``"mean"`` is Levene's original
        test; ``"median"`` (scipy's default, the Brown-Forsythe variant) is
        robust to the skew of rank distributions.

    Returns
    -------
    Bunch
        methods : dict of str to ndarray
            One entry per method, in the order of ``ranks``: ``method``, ``n``,
            ``median``, ``geometric_mean``, ``mean``, ``iqr`` (75th minus 25th
            percentile), ``std`` (sample standard deviation, ``ddof=1``) and
            ``skew`` (:func:`scipy.stats.skew`, biased estimator).
        pairwise : dict of str to ndarray
            One entry per pair ``(a, b)``, ``a`` before ``b`` in ``ranks``:
            ``method_a``, ``method_b``, ``mean_difference`` (mean of ``a`` minus
            mean of ``b``), ``t_statistic``, ``p_value``, ``p_bonferroni``
            (``min(1, p_value * n_comparisons)``) and ``significant``.
        levene : dict
            ``statistic`` (W), ``p_value`` and ``significant``.
        n_comparisons : int
            ``k * (k - 1) / 2`` for ``k`` methods.
        alpha : float
            The significance level used (the ``alpha`` argument).
        test : str
            ``"welch"`` or ``"student"``.

        ``pandas.DataFrame(result.methods)`` and
        ``pandas.DataFrame(result.pairwise)`` turn the tables into data frames
        (pandas is not a dependency of the package).

    Raises
    ------
    TypeError
        If ``ranks`` is not a mapping.
    ValueError
        If fewer than two methods are given, an array is not 1-d, has fewer
        than two values, holds NaN, infinity or a non-positive rank, or if
        ``alpha`` is not in (0, 1) or ``center`` is unknown.

    Notes
    -----
    The paper's "spread" is not defined; both the interquartile range and the
    standard deviation are reported. Its significance threshold, p < 0.00037
    for 21 comparisons, is not 0.05 / 21 (0.0024) nor 0.01 / 21 (0.00048); here
    the threshold is ``alpha / n_comparisons``. Ranks are strongly skewed, so
    comparing ``np.log(ranks)`` (the t-test then compares geometric means) may
    suit better; pass the logs if so. A t-test between two constant samples
    gives NaN (scipy warns).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_musemb.metrics.statistics import compare_rank_distributions
    >>> rng = np.random.default_rng(0)
    >>> result = compare_rank_distributions({
    ...     "AdjD": rng.integers(1, 20, 500),
    ...     "DSSM": rng.integers(1, 60, 500),
    ...     "random": rng.integers(1, 101, 500)})
    >>> [str(m) for m in result.methods["method"]]
    ['AdjD', 'DSSM', 'random']
    >>> result.n_comparisons, result.test
    (3, 'welch')
    >>> result.pairwise["significant"].tolist()
    [True, True, True]
    >>> bool(result.levene["significant"])
    True
    """
    owner = "compare_rank_distributions"
    samples = _check_samples(ranks, owner)
    alpha = check_finite_number(alpha, "alpha", owner, strict=True)
    if alpha >= 1:
        raise ValueError(f"{owner}: alpha must be in (0, 1), got {alpha}")
    if center not in ("median", "mean", "trimmed"):
        raise ValueError(
            f"{owner}: center must be 'median', 'mean' or 'trimmed', got {center!r}"
        )
    names = list(samples)
    values = list(samples.values())
    methods = {
        "method": np.array(names, dtype=object),
        "n": np.array([v.size for v in values]),
        "median": np.array([_summarise(v, "median") for v in values]),
        "geometric_mean": np.array([_summarise(v, "geometric_mean") for v in values]),
        "mean": np.array([_summarise(v, "mean") for v in values]),
        "iqr": np.array([stats.iqr(v) for v in values]),
        "std": np.array([np.std(v, ddof=1) for v in values]),
        "skew": np.array([stats.skew(v) for v in values]),
    }

    pairs = list(combinations(range(len(names)), 2))
    tests = [
        stats.ttest_ind(values[i], values[j], equal_var=bool(equal_var))
        for i, j in pairs
    ]
    p_value = np.array([float(test.pvalue) for test in tests])
    p_bonferroni = np.minimum(p_value * len(pairs), 1.0)
    pairwise = {
        "method_a": np.array([names[i] for i, _ in pairs], dtype=object),
        "method_b": np.array([names[j] for _, j in pairs], dtype=object),
        "mean_difference": np.array(
            [methods["mean"][i] - methods["mean"][j] for i, j in pairs]
        ),
        "t_statistic": np.array([float(test.statistic) for test in tests]),
        "p_value": p_value,
        "p_bonferroni": p_bonferroni,
        "significant": p_bonferroni < alpha,
    }
    levene = stats.levene(*values, center=center)
    return Bunch(
        methods=methods,
        pairwise=pairwise,
        levene={
            "statistic": float(levene.statistic),
            "p_value": float(levene.pvalue),
            "significant": bool(levene.pvalue < alpha),
        },
        n_comparisons=len(pairs),
        alpha=alpha,
        test="student" if equal_var else "welch",
    )
