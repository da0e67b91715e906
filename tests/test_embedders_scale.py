"""The embedders' scale machinery: precision, block copies, blocked statistics,
and the batch sharding of data-parallel training."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from skorch.dataset import Dataset

from sklearn_musemb.embedders import AAdjDEmbedder, AdjDEmbedder
from sklearn_musemb.embedders import base as embedders_base
from sklearn_musemb.embedders.base import IndexBatches
from sklearn_musemb.utils.distributed import DataParallel


def note_units(n: int = 60, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.stack(
        [rng.integers(40, 90, (n, 8)), rng.integers(0, 600, (n, 8))], axis=-1
    )


def light(cls=AdjDEmbedder, **params):
    return cls(max_epochs=1, batch_size=16, random_state=0, module__hidden_dim=16,
               **params)  # fmt: skip


@pytest.mark.parametrize("cls", [AdjDEmbedder, AAdjDEmbedder])
def test_bf16_trains_and_returns_float32(cls):
    X = note_units()
    Z = light(cls, precision="bf16").fit(X).transform(X)
    assert Z.dtype == np.float32 and np.isfinite(Z).all()
    # bf16 rounds, so it is close to, not equal to, the fp32 embedding
    Z32 = light(cls).fit(X).transform(X)
    assert not np.array_equal(Z, Z32)


def test_unknown_precision_is_named_at_fit_and_transform():
    X = note_units()
    with pytest.raises(ValueError, match="AdjDEmbedder: precision must be one of"):
        light(precision="fp16").fit(X)
    emb = light().fit(X).set_params(precision="fp8")
    with pytest.raises(ValueError, match="precision must be one of"):
        emb.transform(X)


def test_transform_does_not_depend_on_the_host_block(monkeypatch):
    X = note_units(70)
    emb = light().fit(X)
    Z = emb.transform(X)
    monkeypatch.setattr(embedders_base, "_HOST_BLOCK_ROWS", 7)  # 16-row batches
    np.testing.assert_array_equal(emb.transform(X), Z)


def test_continuous_statistics_in_blocks_equal_numpys(monkeypatch):
    X = note_units(50)
    monkeypatch.setattr(embedders_base, "_STATS_BLOCK_ROWS", 7)
    emb = light(representation="continuous").fit(X)
    events = X.reshape(-1, 2).astype(np.float64)
    np.testing.assert_allclose(emb.event_mean_, events.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(emb.event_scale_, events.std(axis=0), rtol=1e-12)


class FakeAccelerator:
    def __init__(self, rank: int, world: int) -> None:
        self.process_index, self.num_processes, self.device = rank, world, "cpu"


def batches(rank: int, world: int, n: int = 10, batch_size: int = 4, min_size=1):
    generator = torch.Generator().manual_seed(0)
    iterator = IndexBatches(
        Dataset(np.arange(n), None), batch_size, shuffle=True, device="cpu",
        generator=generator, min_size=min_size,
        parallel=DataParallel(FakeAccelerator(rank, world)),
    )  # fmt: skip
    return [X.tolist() for X, _ in iterator]


def test_processes_share_every_batch_without_overlap():
    alone = batches(0, 1)
    shares = [batches(rank, 2) for rank in (0, 1)]
    assert len(shares[0]) == len(shares[1]) == len(alone)
    for whole, first, second in zip(alone, *shares, strict=True):
        assert sorted(first + second) == sorted(whole)
        assert not set(first) & set(second)


def test_last_batch_too_small_to_share_joins_the_one_before():
    # 10 items, batches of 4: the last 2 cannot give 2 processes 2 rows each,
    # so the global batches are 4 and 6 rows, and process 0 gets 2 and 3
    assert [len(b) for b in batches(0, 2, min_size=2)] == [2, 3]


def test_too_few_items_for_the_processes_is_named():
    with pytest.raises(ValueError, match="3 training items cannot be shared by 4"):
        batches(0, 4, n=3)
    # a single process keeps the old behaviour: one batch of all 3 items
    (only,) = batches(0, 1, n=3)
    assert sorted(only) == [0, 1, 2]
