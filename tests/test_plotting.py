"""sklearn_musemb.plotting: each figure's content, its errors, and the gallery
examples that use them (rendered at reduced size)."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402
from sklearn.decomposition import PCA  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402
from test_examples import load_example  # noqa: E402

from sklearn_musemb.plotting import (  # noqa: E402
    embedding_map,
    plot_dimension_radar,
    plot_embedding_map,
    plot_rank_distributions,
    plot_training_curves,
)

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def clusters(n_per: int = 20, n_features: int = 6, seed: int = 0):
    """Three well separated Gaussian clusters and their labels."""
    rng = np.random.default_rng(seed)
    X = np.vstack([rng.normal(5.0 * k, 1.0, (n_per, n_features)) for k in range(3)])
    labels = np.repeat(["mozart", "bach", "haydn"], n_per)
    return X, labels


def n_points(ax) -> int:
    return sum(len(c.get_offsets()) for c in ax.collections)


# -- plot_embedding_map -----------------------------------------------------------
def test_embedding_map_draws_one_collection_per_label_with_a_legend():
    X, labels = clusters()
    fig, ax = plt.subplots()
    returned = plot_embedding_map(X, labels, method="pca", ax=ax, s=5)
    assert returned is ax
    assert len(ax.collections) == 3
    assert n_points(ax) == 60
    # sorted label names, each collection drawn in its own colour
    legend = [text.get_text() for text in ax.get_legend().get_texts()]
    assert legend == ["bach", "haydn", "mozart"]
    colors = {tuple(c.get_facecolor()[0]) for c in ax.collections}
    assert len(colors) == 3
    assert ax.get_title() == "PCA of 60 embeddings"
    assert ax.get_xlabel().startswith("PC 1 (") and "variance" in ax.get_xlabel()
    # the points of one label are the rows of that label, projected
    bach = ax.collections[0].get_offsets()
    assert len(bach) == 20
    projected = PCA(n_components=2).fit_transform(X)
    np.testing.assert_allclose(bach, projected[labels == "bach"])


def test_embedding_map_without_labels_has_no_legend():
    X, _ = clusters()
    ax = plot_embedding_map(X, method="pca")
    assert len(ax.collections) == 1 and n_points(ax) == 60
    assert ax.get_legend() is None


def test_embedding_map_subsamples_deterministically():
    X, labels = clusters(n_per=40)
    first = plot_embedding_map(X, labels, method="pca", max_points=30)
    second = plot_embedding_map(X, labels, method="pca", max_points=30)
    assert n_points(first) == 30
    assert "drawn at random from 120" in first.get_title()
    for a, b in zip(first.collections, second.collections, strict=True):
        np.testing.assert_array_equal(a.get_offsets(), b.get_offsets())


def test_embedding_map_auto_falls_back_to_tsne_then_pca(monkeypatch):
    monkeypatch.setattr(embedding_map, "umap_available", lambda: False)
    X, labels = clusters(n_per=8)
    ax = plot_embedding_map(X, labels, random_state=0, projection_kw={"max_iter": 250})
    assert ax.get_title().startswith("t-SNE of 24")
    assert ax.get_xlabel() == "t-SNE 1" and not len(ax.get_xticks())
    monkeypatch.setattr(embedding_map, "TSNE_MAX_POINTS", 10)
    ax = plot_embedding_map(X, labels)
    assert ax.get_title().startswith("PCA of 24")


def test_embedding_map_auto_prefers_umap(monkeypatch):
    made = {}

    class FakeUMAP:
        def __init__(self, **params):
            made.update(params)

        def fit_transform(self, X):
            return X[:, :2]

    monkeypatch.setitem(sys.modules, "umap", types.SimpleNamespace(UMAP=FakeUMAP))
    monkeypatch.setattr(embedding_map, "umap_available", lambda: True)
    X, labels = clusters(n_per=4)
    ax = plot_embedding_map(X, labels, random_state=0, projection_kw={"min_dist": 0})
    assert ax.get_title() == "UMAP of 12 embeddings"
    assert made == {
        "n_components": 2,
        "random_state": 0,
        "n_neighbors": 11,  # fewer neighbours than points
        "n_jobs": 1,
        "min_dist": 0,
    }
    np.testing.assert_array_equal(
        np.vstack([c.get_offsets() for c in ax.collections]),
        np.vstack([X[labels == name, :2] for name in ("bach", "haydn", "mozart")]),
    )


def test_embedding_map_umap_without_umap_learn(monkeypatch):
    monkeypatch.setitem(sys.modules, "umap", None)  # import umap fails
    X, _ = clusters(n_per=4)
    with pytest.raises(ImportError, match=r"umap-learn.*sklearn-musemb\[plot\]"):
        plot_embedding_map(X, method="umap")


def test_plotting_without_matplotlib_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"matplotlib.*sklearn-musemb\[plot\]"):
        plot_rank_distributions({"a": [1, 2, 3]})


@pytest.mark.parametrize(
    "X, labels, kwargs, error, match",
    [
        (np.ones((5, 3)), None, {"method": "mds"}, ValueError, "'umap', 'tsne'"),
        (
            np.array([[0.0, 1.0], [np.nan, 1.0], [1.0, 2.0]]),
            None,
            {},
            ValueError,
            "NaN",
        ),
        (np.ones(6), None, {}, ValueError, "2D array"),
        (np.ones((5, 3)), ["a"] * 4, {}, ValueError, "one entry per row of X"),
        (np.ones((5, 3)), None, {"max_points": 0}, ValueError, "max_points"),
        (np.ones((5, 3)), None, {"ax": "left"}, TypeError, "matplotlib Axes"),
    ],
)
def test_embedding_map_rejects_bad_input(X, labels, kwargs, error, match):
    with pytest.raises(error, match=match):
        plot_embedding_map(X, labels, **{"method": "pca", **kwargs})


# -- plot_rank_distributions ------------------------------------------------------
def test_rank_distributions_one_box_per_method_first_on_top():
    rng = np.random.default_rng(0)
    ranks = {
        "AdjD": rng.integers(1, 10, 50),
        "VAE": rng.integers(1, 50, 80),
        "random": rng.integers(1, 101, 60),
    }
    ax = plot_rank_distributions(ranks, xlabel="rank of 100", title="ranks")
    assert [t.get_text() for t in ax.get_yticklabels()] == ["AdjD", "VAE", "random"]
    bottom, top = ax.get_ylim()
    assert bottom > top  # the first method (y=1) at the top
    assert ax.get_xscale() == "log"
    assert (ax.get_xlabel(), ax.get_title()) == ("rank of 100", "ranks")
    # a median line per box, the geometric means as diamonds at y = 1, 2, 3
    medians = [line for line in ax.lines if len(set(line.get_xdata())) == 1]
    assert {float(line.get_xdata()[0]) for line in medians} >= {
        float(np.median(r)) for r in ranks.values()
    }
    means = ax.collections[0].get_offsets()
    expected = [np.exp(np.log(r).mean()) for r in ranks.values()]
    np.testing.assert_allclose(means[:, 0], expected)
    np.testing.assert_array_equal(means[:, 1], [1, 2, 3])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["geometric mean"]


def test_rank_distributions_linear_axis_and_no_mean():
    ax = plot_rank_distributions({"a": [0, 1, 2]}, log=False, mean=None)
    assert ax.get_xscale() == "linear"
    assert not ax.collections and ax.get_legend() is None
    ax = plot_rank_distributions({"a": [0, 1, 2]}, log=False, mean="arithmetic")
    assert ax.collections[0].get_offsets()[0, 0] == 1.0


@pytest.mark.parametrize(
    "ranks, kwargs, match",
    [
        ({}, {}, "non-empty mapping"),
        ([1, 2, 3], {}, "non-empty mapping"),
        ({"a": []}, {}, "non-empty 1-d"),
        ({"a": [1.0, np.nan]}, {}, "NaN"),
        ({"a": [0, 1, 2]}, {}, "positive for a log axis"),
        ({"a": [0, 1, 2]}, {"log": False}, "positive for a geometric mean"),
        ({"a": [1, 2]}, {"mean": "median"}, "mean must be one of"),
    ],
)
def test_rank_distributions_rejects_bad_input(ranks, kwargs, match):
    with pytest.raises(ValueError, match=match):
        plot_rank_distributions(ranks, **kwargs)


def spy_on(monkeypatch, name: str) -> list:
    """Record the calls of ``sklearn_musemb.plotting.<name>`` (still drawing)."""
    import sklearn_musemb.plotting as plotting

    calls, function = [], getattr(plotting, name)

    def spy(*args, **kwargs):
        calls.append((args, kwargs))
        return function(*args, **kwargs)

    monkeypatch.setattr(plotting, name, spy)
    return calls


def test_benchmark_rank_boxplot_uses_the_plotting_function(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    from _common import rank_boxplot

    calls = spy_on(monkeypatch, "plot_rank_distributions")
    path = tmp_path / "ranks.png"
    ranks = {"a": [1, 2, 3], "b": [4, 5, 6]}
    rank_boxplot(ranks, path, xlabel="rank", title="t")
    assert path.stat().st_size > 0
    ((args, kwargs),) = calls
    assert args == (ranks,) and (kwargs["xlabel"], kwargs["title"]) == ("rank", "t")


# -- plot_dimension_radar ---------------------------------------------------------
SCORES = {
    "multi-input": {"composer": 0.8, "era": 0.75, "key": 0.6, "tempo": 0.9},
    "baseline": {"composer": 0.6, "era": 0.62, "key": 0.5, "tempo": 0.55},
}


def test_radar_one_closed_line_per_series_and_a_chance_circle():
    ax = plot_dimension_radar(SCORES, title="triplets")
    assert ax.name == "polar"
    ticks = [label.get_text() for label in ax.get_xticklabels()]
    assert ticks == ["composer", "era", "key", "tempo"]
    series, chance = ax.lines[:2], ax.lines[2]
    assert len(ax.lines) == 3
    for line, scores in zip(series, SCORES.values(), strict=True):
        radii = line.get_ydata()
        np.testing.assert_allclose(radii, [*scores.values(), scores["composer"]])
        theta = line.get_xdata()
        assert theta[0] == 0.0 and np.isclose(theta[-1], 0.0)
    np.testing.assert_allclose(chance.get_ydata(), 0.5)
    assert len(ax.patches) == 2  # the filled polygons
    legend = [text.get_text() for text in ax.get_legend().get_texts()]
    assert legend == ["multi-input", "baseline", "chance (0.5)"]
    low, high = ax.get_ylim()
    assert 0.0 <= low < 0.5 and 0.9 <= high <= 1.0
    assert ax.get_title() == "triplets"


def test_radar_single_series_dimension_order_and_limits():
    fig, ax = plt.subplots(subplot_kw={"projection": "polar"})
    scores = {"key": 0.6, "composer": 0.7, "era": 0.8, "tempo": 0.9}
    out = plot_dimension_radar(
        scores,
        dimensions=["composer", "era", "key"],
        ax=ax,
        chance=None,
        ylim=(0.4, 1.0),
        fill=False,
    )
    assert out is ax
    assert ax.get_legend() is None and len(ax.lines) == 1 and not ax.patches
    np.testing.assert_allclose(ax.lines[0].get_ydata(), [0.7, 0.8, 0.6, 0.7])
    assert ax.get_ylim() == (0.4, 1.0)


def test_radar_accepts_a_dataframe_with_one_column_per_series():
    pd = pytest.importorskip("pandas")
    ax = plot_dimension_radar(pd.DataFrame(SCORES))
    np.testing.assert_allclose(ax.lines[1].get_ydata(), [0.6, 0.62, 0.5, 0.55, 0.6])
    assert ax.get_legend().get_texts()[0].get_text() == "multi-input"


@pytest.mark.parametrize(
    "scores, kwargs, match",
    [
        ({}, {}, "non-empty mapping"),
        ({"a": 0.5, "b": 0.6}, {}, "at least 3 dimensions"),
        (
            {"m1": {"a": 1.0, "b": 1.0, "c": 1.0}, "m2": {"a": 1.0, "b": 1.0}},
            {},
            r"series 'm2' has no score for \['c'\]",
        ),
        ({"a": 0.5, "b": np.nan, "c": 0.5}, {}, "finite number"),
        ({"m": ["x"]}, {}, "must map dimension to score"),
        ({"a": 0.5, "b": 0.6, "c": 0.7}, {"dimensions": ["a", "a", "b"]}, "repeat"),
    ],
)
def test_radar_rejects_bad_input(scores, kwargs, match):
    with pytest.raises(ValueError, match=match):
        plot_dimension_radar(scores, **kwargs)


def test_radar_needs_a_polar_axes():
    _, ax = plt.subplots()
    with pytest.raises(ValueError, match="polar Axes"):
        plot_dimension_radar(SCORES, ax=ax)


def test_benchmark_radar_chart_uses_the_plotting_function(tmp_path, monkeypatch):
    pytest.importorskip("pandas")
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    from audio_similarity import DIMENSIONS_6, radar_chart

    rows = [
        {"dimensions": (d,), **{e: 0.5 + 0.05 * i for e in DIMENSIONS_6}, "all": 0.6}
        for i, d in enumerate(DIMENSIONS_6)
    ]
    rows.append({"dimensions": tuple(DIMENSIONS_6[:2]), "all": 0.9})
    calls = spy_on(monkeypatch, "plot_dimension_radar")
    path = tmp_path / "radar.png"
    radar_chart(rows, path)
    assert path.stat().st_size > 0
    ((args, _),) = calls
    (scores,) = args
    own = scores["its own dimension's triplets"]
    assert list(own) == list(DIMENSIONS_6)
    assert own == {d: 0.5 + 0.05 * i for i, d in enumerate(DIMENSIONS_6)}


# -- plot_training_curves ---------------------------------------------------------
HISTORY = [
    {"epoch": 1, "dur": 0.1, "train_loss": 1.0, "valid_loss": 1.1, "train_acc": 0.5},
    {"epoch": 2, "dur": 0.1, "train_loss": 0.7, "valid_loss": 0.9, "train_acc": 0.6},
    {
        "epoch": 3,
        "dur": 0.1,
        "train_loss": 0.5,
        "train_acc": 0.7,
        "train_loss_best": True,
    },
]


def test_training_curves_draw_the_losses_by_default():
    ax = plot_training_curves(HISTORY)
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels == ["train_loss", "valid_loss"]
    train, valid = ax.get_lines()
    np.testing.assert_array_equal(train.get_xdata(), [1, 2, 3])
    np.testing.assert_array_equal(train.get_ydata(), [1.0, 0.7, 0.5])
    # an epoch without the key leaves a gap
    np.testing.assert_array_equal(valid.get_ydata(), [1.1, 0.9, np.nan])
    assert to_rgba(train.get_color()) == to_rgba(valid.get_color())
    assert (train.get_linestyle(), valid.get_linestyle()) == ("-", "--")
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("epoch", "loss")
    assert ax.get_title() == ""


def test_training_curves_chosen_keys():
    ax = plot_training_curves(HISTORY, keys="train_acc", title="accuracy")
    assert [line.get_label() for line in ax.get_lines()] == ["train_acc"]
    assert (ax.get_ylabel(), ax.get_title()) == ("value", "accuracy")
    no_loss = [{"epoch": 1, "dur": 1.0, "acc": 0.5}, {"epoch": 2, "dur": 1.0, "acc": 1}]
    ax = plot_training_curves(no_loss)  # no loss: every non-bookkeeping key
    assert [line.get_label() for line in ax.get_lines()] == ["acc"]


def test_training_curves_unknown_key_lists_the_available_ones():
    with pytest.raises(ValueError, match=r"\['nope'\].*'dur', 'train_loss'"):
        plot_training_curves(HISTORY, keys=["train_loss", "nope"])


def test_training_curves_of_a_fitted_embedder():
    from skorch.dataset import ValidSplit

    from sklearn_musemb.embedders import AAdjDEmbedder

    rng = np.random.default_rng(0)
    X = np.stack(
        [rng.integers(40, 90, (40, 8)), rng.integers(0, 600, (40, 8))], axis=-1
    )
    model = AAdjDEmbedder(
        max_epochs=2,
        embedding_dim=4,
        module__hidden_dim=8,
        module__event_channels=4,
        train_split=ValidSplit(0.25, random_state=0),
        random_state=0,
    )
    with pytest.raises(NotFittedError):
        plot_training_curves(model)
    model.fit(X)
    ax = plot_training_curves(model)
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels == ["train_loss", "valid_loss", "train_disc_loss", "train_gen_loss"]
    assert ax.get_title() == "AAdjDEmbedder training"
    np.testing.assert_array_equal(ax.get_lines()[0].get_xdata(), [1, 2])
    # the skorch History itself works too
    ax = plot_training_curves(model.history_, keys=["valid_pair_accuracy"])
    (line,) = ax.get_lines()
    np.testing.assert_array_equal(
        line.get_ydata(), model.history_[:, "valid_pair_accuracy"]
    )


@pytest.mark.parametrize(
    "history, error, match",
    [
        ([], ValueError, "empty"),
        ("train_loss", TypeError, "skorch History"),
        ([{"epoch": 1, "note": "x"}], ValueError, "no numeric"),
    ],
)
def test_training_curves_rejects_bad_input(history, error, match):
    with pytest.raises(error, match=match):
        plot_training_curves(history)


# -- the gallery examples -----------------------------------------------------------
@pytest.fixture(scope="module")
def quick_examples(tmp_path_factory):
    """Reduced-size examples (SKLEARN_MUSEMB_QUICK=1), music21 cached in a tmp dir."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SKLEARN_MUSEMB_QUICK", "1")
        patch.setenv("SKLEARN_MUSEMB_CACHE", str(tmp_path_factory.mktemp("cache")))
        yield


def run_example(name: str, monkeypatch) -> list:
    """Run examples/<name>.py and return its figures (shown as by sphinx-gallery)."""
    monkeypatch.setattr(plt, "show", lambda *args, **kwargs: None)
    # maps by PCA: UMAP's compilation or t-SNE would take most of the test's time
    monkeypatch.setattr(embedding_map, "umap_available", lambda: False)
    monkeypatch.setattr(embedding_map, "TSNE_MAX_POINTS", 0)
    saved = sys.modules.pop("_corpus", None)  # re-read SKLEARN_MUSEMB_QUICK
    try:
        example = load_example(name)
    finally:
        sys.modules.pop("_corpus", None)
        if saved is not None:
            sys.modules["_corpus"] = saved
    assert example.QUICK
    figures = [plt.figure(number) for number in plt.get_fignums()]
    for figure in figures:
        figure.canvas.draw()
    return figures


@pytest.mark.usefixtures("quick_examples")
def test_example_embedding_map(monkeypatch):
    (figure,) = run_example("plot_embedding_map", monkeypatch)
    assert len(figure.axes) == 2
    for ax in figure.axes:
        legend = [text.get_text() for text in ax.get_legend().get_texts()]
        assert legend == ["bach", "haydn", "mozart"]
        assert "PCA of" in ax.get_title()


@pytest.mark.usefixtures("quick_examples")
def test_example_method_ranks(monkeypatch):
    (figure,) = run_example("plot_method_ranks", monkeypatch)
    (ax,) = figure.axes
    labels = [label.get_text() for label in ax.get_yticklabels()]
    assert labels == ["AdjD", "DSSM", "handcrafted", "random"]
    assert len(ax.collections[0].get_offsets()) == 4


@pytest.mark.usefixtures("quick_examples")
def test_example_dimension_radar(monkeypatch):
    (figure,) = run_example("plot_dimension_radar", monkeypatch)
    (ax,) = figure.axes
    assert ax.name == "polar"
    ticks = [label.get_text() for label in ax.get_xticklabels()]
    assert ticks == ["composer", "register", "pace", "texture"]
    assert len(ax.lines) == 3  # two embeddings and chance


@pytest.mark.usefixtures("quick_examples")
def test_example_training_curves(monkeypatch):
    (figure,) = run_example("plot_training_curves", monkeypatch)
    losses, accuracies = figure.axes
    assert {line.get_label() for line in losses.get_lines()} == {
        "train_loss",
        "valid_loss",
        "train_disc_loss",
        "train_gen_loss",
    }
    assert len(accuracies.get_lines()) == 2
