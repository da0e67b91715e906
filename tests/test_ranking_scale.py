"""Ranking at scale: chunked drawing, torch devices, and results identical to before.

The forward-prediction and adjacency ranks must not change with ``chunk_size`` or
``device`` (committed benchmark figures depend on them). The references below are
the straightforward implementations the chunked code replaced: every distractor
drawn at once, then each prediction ranked on its own.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.preprocessing import normalize

import sklearn_musemb.metrics.ranking as ranking
from sklearn_musemb.metrics import (
    adjacency_rank,
    adjacency_ranks,
    make_adjacency_rank_scorer,
)
from sklearn_musemb.metrics.ranking import _in_order, _is_near, _sum_like_numpy
from sklearn_musemb.tasks.forward import forward_prediction_ranks
from sklearn_musemb.units import Units

CUDA = torch.cuda.is_available()


# -- references ------------------------------------------------------------------------
def mid_rank(predicted: np.ndarray, candidates: np.ndarray, metric: str) -> float:
    """Rank of ``candidates[0]`` among ``candidates`` by closeness to ``predicted``."""
    if metric == "euclidean":
        distance = ((candidates - predicted) ** 2).sum(axis=-1)
    else:
        distance = -(candidates * predicted).sum(axis=-1)
    closer = np.count_nonzero(distance[1:] < distance[0])
    return 1.0 + closer + 0.5 * np.count_nonzero(distance[1:] == distance[0])


def reference_forward_ranks(
    predicted, embeddings, targets, unit_ids, n_candidates, metric, seed
) -> np.ndarray:
    """All distractors in one draw, then one prediction at a time."""
    rng = np.random.default_rng(seed)  # a Generator is used as it is
    n = len(embeddings)
    unit_ids = np.arange(n) if unit_ids is None else unit_ids
    group = np.unique(unit_ids, return_inverse=True)[1]
    grouped = np.argsort(group, kind="stable")
    size = np.bincount(group)
    start = (np.cumsum(size) - size)[group[targets]][:, None]
    excluded = size[group[targets]][:, None]
    draw = rng.integers(0, n - excluded, size=(len(targets), n_candidates - 1))
    distractors = grouped[draw + excluded * (draw >= start)]
    dtype = np.result_type(predicted, embeddings)
    predicted, embeddings = predicted.astype(dtype), embeddings.astype(dtype)
    if metric == "cosine":  # unit rows; a zero row stays zero
        predicted, embeddings = normalize(predicted), normalize(embeddings)
    return np.array(
        [
            mid_rank(predicted[i], embeddings[[t, *distractors[i]]], metric)
            for i, t in enumerate(targets)
        ]
    )


def reference_adjacency_ranks(embeddings, units, n_candidates, seed) -> np.ndarray:
    """Positives, all distractors at once, redraws of near ones, row by row."""
    rng = np.random.default_rng(seed)  # a Generator is used as it is
    n = len(embeddings)
    piece, position = units.piece, units.position
    first, second = units.adjacent_pairs()
    rows = np.concatenate([first, second])
    neighbours = np.concatenate([second, first])
    order = np.lexsort((neighbours, rows))
    rows, neighbours = rows[order], neighbours[order]
    queries, starts, counts = np.unique(rows, return_index=True, return_counts=True)
    positives = neighbours[starts + rng.integers(0, counts)]
    distractors = rng.integers(0, n, size=(queries.size, n_candidates - 1))
    q_idx, d_idx = np.nonzero(_is_near(queries[:, None], distractors, piece, position))
    while q_idx.size:
        redraw = rng.integers(0, n, size=q_idx.size)
        distractors[q_idx, d_idx] = redraw
        still = _is_near(queries[q_idx], redraw, piece, position)
        q_idx, d_idx = q_idx[still], d_idx[still]
    return np.array(
        [
            mid_rank(
                embeddings[q],
                embeddings[[positives[i], *distractors[i]]],
                "euclidean",
            )
            for i, q in enumerate(queries)
        ]
    )


def forward_case(seed: int, dtype, n_dims: int, ties: bool):
    rng = np.random.default_rng(seed)
    embeddings = rng.normal(size=(300, n_dims)).astype(dtype)
    if ties:  # coarse values and duplicated rows: many exact ties
        embeddings = np.round(embeddings)
        embeddings[150:] = embeddings[:150]
    targets = rng.integers(0, 300, 97)
    predicted = (embeddings[targets] + rng.normal(size=(97, n_dims))).astype(dtype)
    return predicted, embeddings, targets


def make_units(rng: np.random.Generator, n_pieces: int, variants: int) -> Units:
    piece, position, variant = [], [], []
    for v in range(variants):
        for p in range(n_pieces):
            length = int(rng.integers(5, 40))
            piece += [p] * length
            position += list(range(length))
            variant += [v] * length
    n = len(piece)
    units = Units(
        np.zeros((n, 1, 2), dtype=np.int16),
        piece=piece,
        position=position,
        variant=variant,
    )
    return units[rng.permutation(n)]


def permuted_case(dtype, metric: str):
    """Embeddings that permute one vector; zero (euclidean) or constant predictions."""
    rng = np.random.default_rng(0)
    base = rng.normal(size=100) * np.exp(2 * rng.normal(size=100))
    embeddings = np.stack([rng.permutation(base) for _ in range(300)]).astype(dtype)
    targets = rng.integers(0, 300, 200)
    predicted = np.full((200, 100), 0.0 if metric == "euclidean" else 1.0, dtype)
    return predicted, embeddings, targets


class RecordingGenerator(np.random.Generator):
    """A PCG64 Generator that records the size of every ``integers`` draw."""

    def __init__(self, seed: int) -> None:
        super().__init__(np.random.PCG64(seed))
        self.sizes: list[int] = []

    def integers(self, low, high=None, size=None, **kwargs):
        drawn = super().integers(low, high, size=size, **kwargs)
        self.sizes.append(np.size(drawn))
        return drawn


@pytest.fixture
def torch_on_cpu(monkeypatch):
    """Take the torch path (the one GPUs take) on the CPU."""
    monkeypatch.setattr(ranking, "_NUMPY_ON_CPU", False)


# -- identical to the straightforward implementation -----------------------------------
@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("use_torch", [False, True])
def test_forward_ranks_equal_reference(metric, dtype, use_torch, monkeypatch):
    monkeypatch.setattr(ranking, "_NUMPY_ON_CPU", not use_torch)
    for seed, (n_dims, ties) in enumerate([(3, True), (37, False), (150, True)]):
        predicted, embeddings, targets = forward_case(seed, dtype, n_dims, ties)
        unit_ids = None if seed % 2 else np.arange(300) // 3
        expected = reference_forward_ranks(
            predicted, embeddings, targets, unit_ids, 25, metric, seed
        )
        for chunk_size in (1, 10, 97, 1024):
            ranks = forward_prediction_ranks(
                predicted,
                embeddings,
                targets,
                unit_ids=unit_ids,
                n_candidates=25,
                metric=metric,
                random_state=seed,
                chunk_size=chunk_size,
            )
            np.testing.assert_array_equal(ranks, expected)
        if ties:
            assert np.any(expected % 1 == 0.5)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("use_torch", [False, True])
def test_adjacency_ranks_equal_reference(dtype, use_torch, monkeypatch):
    monkeypatch.setattr(ranking, "_NUMPY_ON_CPU", not use_torch)
    rng = np.random.default_rng(0)
    for seed, variants in enumerate([1, 3]):
        units = make_units(rng, 6, variants)
        embeddings = rng.normal(size=(len(units), 19)).astype(dtype)
        expected = reference_adjacency_ranks(embeddings, units, 30, seed)
        for chunk_size in (1, 7, len(units), 4096):
            ranks = adjacency_ranks(
                embeddings,
                units,
                n_candidates=30,
                random_state=seed,
                chunk_size=chunk_size,
            )
            np.testing.assert_array_equal(ranks, expected)


def test_generator_left_where_one_draw_leaves_it():
    """A Generator passed in is consumed exactly as by the one-draw code."""
    predicted, embeddings, targets = forward_case(0, np.float64, 5, False)
    ours, theirs = np.random.default_rng(3), np.random.default_rng(3)
    unit_ids = np.arange(300) // 2
    forward_prediction_ranks(
        predicted,
        embeddings,
        targets,
        unit_ids=unit_ids,
        n_candidates=40,
        random_state=ours,
        chunk_size=8,
    )
    reference_forward_ranks(
        predicted, embeddings, targets, unit_ids, 40, "euclidean", theirs
    )
    assert ours.integers(0, 2**62) == theirs.integers(0, 2**62)

    units = make_units(np.random.default_rng(1), 5, 2)
    embeddings = np.random.default_rng(1).normal(size=(len(units), 4))
    ours, theirs = np.random.default_rng(4), np.random.default_rng(4)
    adjacency_ranks(embeddings, units, n_candidates=20, random_state=ours, chunk_size=5)
    reference_adjacency_ranks(embeddings, units, 20, theirs)
    assert ours.integers(0, 2**62) == theirs.integers(0, 2**62)


# -- torch path ------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sum_like_numpy_is_numpys_sum_bit_for_bit(dtype):
    rng = np.random.default_rng(0)
    naive_differs = 0
    for n_dims in [*range(1, 40), 64, 127, 128, 129, 200, 256, 300, 1000]:
        # wide dynamic range: the order of the additions shows in the last bits
        x = rng.normal(size=(7, 11, n_dims)) * np.exp(rng.normal(size=(7, 11, n_dims)))
        x = x.astype(dtype)
        got = _sum_like_numpy(torch.from_numpy(x)).numpy()
        np.testing.assert_array_equal(got, x.sum(axis=-1), err_msg=f"{n_dims} dims")
        naive = np.zeros(x.shape[:-1], dtype=dtype)
        for i in range(n_dims):
            naive += x[..., i]
        naive_differs += not np.array_equal(naive, got)
    assert naive_differs > 20  # the check would see another order


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_cpu_torch_path_equals_numpy_path(metric, monkeypatch):
    rng = np.random.default_rng(5)
    embeddings = rng.normal(size=(500, 100)).astype(np.float32)
    targets = rng.integers(0, 500, 300)
    predicted = embeddings[targets] + rng.normal(size=(300, 100)).astype(np.float32)
    kwargs = {"n_candidates": 200, "metric": metric, "random_state": 1}
    numpy_ranks = forward_prediction_ranks(predicted, embeddings, targets, **kwargs)
    monkeypatch.setattr(ranking, "_NUMPY_ON_CPU", False)
    torch_ranks = forward_prediction_ranks(
        predicted, embeddings, targets, chunk_size=64, **kwargs
    )
    np.testing.assert_array_equal(torch_ranks, numpy_ranks)


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_last_bit_ties_follow_numpy(metric, dtype, monkeypatch):
    """Candidates equally far in exact arithmetic: only the rounding separates them.

    Every embedding is a permutation of one vector, so its distance to a zero (or
    constant) prediction is one sum in another order; which candidates tie and
    which are closer depends on the last bits, so the torch path must add as
    numpy does.
    """
    predicted, embeddings, targets = permuted_case(dtype, metric)
    kwargs = {"n_candidates": 50, "metric": metric, "random_state": 0}
    expected = reference_forward_ranks(
        predicted, embeddings, targets, None, 50, metric, 0
    )
    assert len(np.unique(expected)) > 10  # neither all tied nor all equal
    monkeypatch.setattr(ranking, "_NUMPY_ON_CPU", False)
    ranks = forward_prediction_ranks(predicted, embeddings, targets, **kwargs)
    np.testing.assert_array_equal(ranks, expected)


def test_auto_and_none_devices_give_the_same_ranks():
    predicted, embeddings, targets = forward_case(2, np.float32, 16, True)
    ranks = {
        str(device): forward_prediction_ranks(
            predicted,
            embeddings,
            targets,
            n_candidates=30,
            random_state=0,
            device=device,
        )
        for device in ("cpu", "auto", None, torch.device("cpu"))
    }
    for other in ranks.values():
        np.testing.assert_array_equal(other, ranks["cpu"])


@pytest.mark.skipif(not CUDA, reason="needs a CUDA device")
@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_cuda_equals_cpu(metric, dtype):
    predicted, embeddings, targets = forward_case(4, dtype, 100, True)
    kwargs = {"n_candidates": 100, "metric": metric, "random_state": 0}
    cpu = forward_prediction_ranks(predicted, embeddings, targets, **kwargs)
    cuda = forward_prediction_ranks(
        predicted, embeddings, targets, device="cuda", chunk_size=7, **kwargs
    )
    np.testing.assert_array_equal(cuda, cpu)
    predicted, embeddings, targets = permuted_case(dtype, metric)
    cpu = forward_prediction_ranks(predicted, embeddings, targets, **kwargs)
    cuda = forward_prediction_ranks(
        predicted, embeddings, targets, device="cuda", **kwargs
    )
    np.testing.assert_array_equal(cuda, cpu)
    units = make_units(np.random.default_rng(0), 8, 2)
    emb = np.random.default_rng(0).normal(size=(len(units), 33)).astype(dtype)
    np.testing.assert_array_equal(
        adjacency_ranks(emb, units, n_candidates=50, random_state=0, device="cuda"),
        adjacency_ranks(emb, units, n_candidates=50, random_state=0),
    )


# -- bounded memory --------------------------------------------------------------------
@pytest.mark.usefixtures("torch_on_cpu")
def test_forward_distractors_drawn_per_chunk():
    predicted, embeddings, targets = forward_case(0, np.float64, 4, False)
    rng = RecordingGenerator(0)
    ranks = forward_prediction_ranks(
        predicted,
        embeddings,
        targets,
        n_candidates=50,
        random_state=rng,
        chunk_size=10,
    )
    assert max(rng.sizes) <= 10 * 49  # never all 97 x 49 at once
    assert sum(rng.sizes) == 97 * 49
    assert len(rng.sizes) == 10  # ceil(97 / 10) chunks
    np.testing.assert_array_equal(
        ranks,
        forward_prediction_ranks(
            predicted, embeddings, targets, n_candidates=50, random_state=0
        ),
    )


def test_adjacency_distractors_drawn_per_chunk():
    units = make_units(np.random.default_rng(0), 10, 2)
    embeddings = np.random.default_rng(0).normal(size=(len(units), 3))
    rng = RecordingGenerator(0)
    ranks = adjacency_ranks(
        embeddings, units, n_candidates=40, random_state=rng, chunk_size=16
    )
    # positives (one per query), then chunks, then redraws of the near hits
    assert rng.sizes[0] == len(ranks)
    assert max(rng.sizes[1:]) <= 16 * 39
    np.testing.assert_array_equal(
        ranks, adjacency_ranks(embeddings, units, n_candidates=40, random_state=0)
    )


def test_candidates_are_ranked_as_they_are_drawn(monkeypatch):
    """Each chunk's distractors are asked for as the chunk is ranked."""
    events = []
    original = ranking._numpy_candidate_ranks

    def spy(predicted, embeddings, targets, distractors, metric, chunk_size):
        def draw(start, stop):
            events.append(("draw", start))
            return distractors(start, stop)

        return original(predicted, embeddings, targets, draw, metric, chunk_size)

    closer_counts = ranking._closer_counts

    def ranked(query, *args):
        events.append(("rank", len(query)))
        return closer_counts(query, *args)

    monkeypatch.setattr(ranking, "_numpy_candidate_ranks", spy)
    monkeypatch.setattr(ranking, "_closer_counts", ranked)
    predicted, embeddings, targets = forward_case(0, np.float64, 4, False)
    forward_prediction_ranks(
        predicted, embeddings, targets, n_candidates=5, chunk_size=40
    )
    draws = [event for event in events if event[0] == "draw"]
    assert draws == [("draw", 0), ("draw", 40), ("draw", 80)]
    # each chunk is ranked before the next one is drawn (97 predictions)
    assert events == [
        ("draw", 0), ("rank", 40), ("draw", 40), ("rank", 40), ("draw", 80),
        ("rank", 17),
    ]  # fmt: skip


def test_chunks_must_be_drawn_in_order():
    draw = _in_order(lambda start, stop: np.zeros((stop - start, 2)), 10)
    draw(0, 10)
    with pytest.raises(RuntimeError, match="consecutive chunks"):
        draw(20, 30)
    with pytest.raises(RuntimeError, match="at most 10 rows"):
        _in_order(lambda start, stop: None, 10)(0, 11)


# -- devices ---------------------------------------------------------------------------
@pytest.mark.parametrize("device", ["gpu", "cuda:x", 3.5])
def test_bad_device_raises(device):
    predicted, embeddings, targets = forward_case(0, np.float64, 4, False)
    with pytest.raises(ValueError, match="forward_prediction_ranks: device=.*torch"):
        forward_prediction_ranks(predicted, embeddings, targets, device=device)
    with pytest.raises(ValueError, match="adjacency_ranks: device=.*torch"):
        adjacency_ranks(np.zeros((20, 2)), n_candidates=5, device=device)
    scorer = make_adjacency_rank_scorer(n_candidates=5, device=device)

    class Identity:
        def transform(self, X):
            return X

    with pytest.raises(ValueError, match="device="):
        scorer(Identity(), np.arange(20.0).reshape(-1, 1))


@pytest.mark.skipif(CUDA, reason="CUDA is available here")
def test_cuda_without_cuda_raises():
    with pytest.raises(ValueError, match="device='cuda' but torch finds no CUDA"):
        adjacency_rank(np.zeros((20, 2)), n_candidates=5, device="cuda")


def test_scorer_passes_device_and_shows_it_when_not_cpu(monkeypatch):
    scorer = make_adjacency_rank_scorer(n_candidates=5, device="auto")
    assert repr(scorer) == (
        "make_adjacency_rank_scorer(n_candidates=5, statistic='geometric_mean', "
        "random_state=0, device='auto')"
    )
    assert "device" not in repr(make_adjacency_rank_scorer(n_candidates=5))

    class Identity:
        def transform(self, X):
            return X

    passed = {}
    adjacency_rank = ranking.adjacency_rank

    def spy(*args, **kwargs):
        passed.update(kwargs)
        return adjacency_rank(*args, **kwargs)

    monkeypatch.setattr(ranking, "adjacency_rank", spy)
    line = np.arange(20.0).reshape(-1, 1)
    assert scorer(Identity(), line) == -1.0
    assert passed["device"] == "auto"
