"""compare_rank_distributions against scipy, Bonferroni, and its input checks."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from sklearn_musemb.metrics.statistics import compare_rank_distributions


def samples():
    rng = np.random.default_rng(0)
    return {
        "good": rng.integers(1, 10, 200).astype(float),
        "medium": rng.integers(1, 40, 150).astype(float),
        "bad": rng.integers(1, 101, 100).astype(float),
    }


def test_per_method_summaries_match_numpy_and_scipy():
    ranks = samples()
    result = compare_rank_distributions(ranks)
    table = result.methods
    assert table["method"].tolist() == ["good", "medium", "bad"]
    for i, values in enumerate(ranks.values()):
        assert table["n"][i] == values.size
        assert table["median"][i] == np.median(values)
        assert table["geometric_mean"][i] == pytest.approx(stats.gmean(values))
        assert table["mean"][i] == pytest.approx(values.mean())
        q75, q25 = np.percentile(values, [75, 25])
        assert table["iqr"][i] == pytest.approx(q75 - q25)
        assert table["std"][i] == pytest.approx(np.std(values, ddof=1))
        assert table["skew"][i] == pytest.approx(stats.skew(values))


def test_known_summary_values():
    result = compare_rank_distributions({"a": [1, 2, 4, 8], "b": [1, 1, 1, 2]})
    a = {key: column[0] for key, column in result.methods.items()}
    assert a["median"] == 3.0
    assert a["geometric_mean"] == pytest.approx(64 ** (1 / 4))  # 2.828
    assert a["iqr"] == pytest.approx(5.0 - 1.75)


@pytest.mark.parametrize("equal_var", [False, True])
def test_pairwise_t_tests_match_scipy_in_insertion_order(equal_var):
    ranks = samples()
    result = compare_rank_distributions(ranks, equal_var=equal_var)
    pairs = [("good", "medium"), ("good", "bad"), ("medium", "bad")]
    table = result.pairwise
    assert list(zip(table["method_a"], table["method_b"])) == pairs
    for k, (a, b) in enumerate(pairs):
        ref = stats.ttest_ind(ranks[a], ranks[b], equal_var=equal_var)
        assert table["t_statistic"][k] == pytest.approx(ref.statistic)
        assert table["p_value"][k] == pytest.approx(ref.pvalue)
        assert table["p_bonferroni"][k] == pytest.approx(min(1.0, 3 * ref.pvalue))
        assert table["mean_difference"][k] == pytest.approx(
            ranks[a].mean() - ranks[b].mean()
        )
    assert result.n_comparisons == 3
    assert result.test == ("student" if equal_var else "welch")


def test_welch_and_student_differ_when_spreads_and_sizes_differ():
    ranks = samples()
    welch = compare_rank_distributions(ranks).pairwise["t_statistic"]
    student = compare_rank_distributions(ranks, equal_var=True).pairwise["t_statistic"]
    assert np.all(np.abs(welch - student) > 0.5)


def test_bonferroni_multiplies_by_the_number_of_pairs_and_caps_at_one():
    rng = np.random.default_rng(1)
    base = rng.integers(1, 50, 300).astype(float)
    ranks = {"a": base, "b": base[::-1].copy(), "c": base + 0.01, "d": base + 40}
    result = compare_rank_distributions(ranks)
    table = result.pairwise
    assert result.n_comparisons == 6
    np.testing.assert_allclose(
        table["p_bonferroni"], np.minimum(6 * table["p_value"], 1.0)
    )
    # a vs b: same values, p = 1, corrected p capped at 1 (not 6)
    assert table["p_value"][0] == pytest.approx(1.0)
    assert table["p_bonferroni"][0] == 1.0
    assert np.all(table["p_bonferroni"] <= 1.0)
    # only the pairs with "d" are significant
    expected = ["d" in (a, b) for a, b in zip(table["method_a"], table["method_b"])]
    assert table["significant"].tolist() == expected


def test_significance_uses_the_corrected_p_value_against_alpha():
    ranks = samples()
    table = compare_rank_distributions(ranks)["pairwise"]
    p = table["p_bonferroni"][0]
    assert 0 < p < 1  # good vs medium: a threshold between the two alphas
    below = compare_rank_distributions(ranks, alpha=p * 0.99)["pairwise"]
    above = compare_rank_distributions(ranks, alpha=min(p * 1.01, 0.99))["pairwise"]
    assert not below["significant"][0] and above["significant"][0]


@pytest.mark.parametrize("center", ["median", "mean", "trimmed"])
def test_levene_matches_scipy_across_all_methods(center):
    ranks = samples()
    result = compare_rank_distributions(ranks, center=center)
    ref = stats.levene(*ranks.values(), center=center)
    assert result.levene["statistic"] == pytest.approx(ref.statistic)
    assert result.levene["p_value"] == pytest.approx(ref.pvalue)
    assert result.levene["significant"] == (ref.pvalue < 0.05)


def test_levene_is_not_significant_for_equal_spreads():
    rng = np.random.default_rng(2)
    ranks = {name: rng.integers(1, 50, 400).astype(float) for name in "abc"}
    assert not compare_rank_distributions(ranks).levene["significant"]


def test_tables_become_data_frames():
    pd = pytest.importorskip("pandas")
    result = compare_rank_distributions(samples())
    assert pd.DataFrame(result.methods).shape == (3, 8)
    assert pd.DataFrame(result.pairwise).shape == (3, 7)


@pytest.mark.parametrize(
    "ranks, error, match",
    [
        ([[1, 2], [3, 4]], TypeError, "must be a mapping"),
        ({"a": [1, 2, 3]}, ValueError, "at least two methods"),
        ({"a": [1, 2], "b": [[1, 2]]}, ValueError, "must be 1-d"),
        ({"a": [1, 2], "b": [3]}, ValueError, "at least 2 per method"),
        ({"a": [1, 2], "b": [3, np.nan]}, ValueError, "NaN"),
        ({"a": [1, 2], "b": [0, 3]}, ValueError, "must be positive"),
    ],
)
def test_bad_ranks_raise(ranks, error, match):
    with pytest.raises(error, match=match):
        compare_rank_distributions(ranks)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"alpha": 0.0}, "alpha must be a finite number > 0"),
        ({"alpha": 1.0}, r"alpha must be in \(0, 1\)"),
        ({"center": "mode"}, "center must be"),
    ],
)
def test_bad_options_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        compare_rank_distributions(samples(), **kwargs)
