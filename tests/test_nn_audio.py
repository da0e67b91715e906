"""The audio backbones, the conditional masks and the triplet losses."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from sklearn_musemb.nn.audio import InceptionCNN, MultiInputInceptionCNN, ParallelCNN
from sklearn_musemb.nn.conditional import ConditionalNet, block_masks
from sklearn_musemb.nn.triplet import (
    batch_hard_triplet_loss,
    cosine_distances,
    semihard_triplet_loss,
    squared_euclidean,
)


@pytest.mark.parametrize("shape", [(1, 1), (1, 7), (80, 130), (128, 259)])
def test_backbones_take_any_map_size(shape):
    torch.manual_seed(0)
    X = torch.randn(3, *shape)
    assert ParallelCNN(shape, embedding_dim=5, channels=(2, 3))(X).shape == (3, 5)
    assert InceptionCNN(shape, embedding_dim=4, width=2, n_blocks=2)(X).shape == (3, 4)


def test_parallel_cnn_has_two_stacks_with_rectangular_kernels():
    net = ParallelCNN((80, 130), channels=(4, 8))
    spectral = [
        m.kernel_size for m in net.spectral.modules() if isinstance(m, torch.nn.Conv2d)
    ]
    temporal = [
        m.kernel_size for m in net.temporal.modules() if isinstance(m, torch.nn.Conv2d)
    ]
    assert spectral == [(7, 3)] * 2 and temporal == [(3, 7)] * 2
    assert any(isinstance(m, torch.nn.ELU) for m in net.modules())
    assert isinstance(net.input_norm, torch.nn.BatchNorm2d)


def test_inception_embedding_is_layer_normalised():
    net = InceptionCNN((16, 20), embedding_dim=12, width=2, n_blocks=2).eval()
    out = net(torch.randn(4, 16, 20))
    torch.testing.assert_close(out.mean(dim=1), torch.zeros(4), atol=1e-5, rtol=0)
    torch.testing.assert_close(
        out.std(dim=1, unbiased=False), torch.ones(4), atol=1e-3, rtol=0
    )


def test_multi_input_uses_every_input_and_pads_narrow_ones():
    torch.manual_seed(0)
    net = MultiInputInceptionCNN(
        (40, 20),
        inputs=(24, 4, 12),
        embedding_dim=6,
        width=2,
        branch_blocks=1,
        n_blocks=1,
        branch_size=16,
    ).eval()
    X = torch.randn(2, 40, 20)
    base = net(X)
    for start, stop in [(0, 24), (24, 28), (28, 40)]:
        changed = X.clone()
        changed[:, start:stop] += 1.0
        assert not torch.allclose(net(changed), base), (start, stop)
    # the 4-bin and 12-bin inputs were zero-padded to 16 bins before their branch
    stems = [branch[0][0][0] for branch in net.branches]
    assert all(isinstance(conv, torch.nn.Conv2d) for conv in stems)


def test_multi_input_rejects_inputs_that_do_not_add_up():
    with pytest.raises(ValueError, match="summing to the 40 bins"):
        MultiInputInceptionCNN((40, 20), inputs=(24, 4))


def test_block_masks_are_disjoint_and_cover_the_embedding():
    masks = block_masks(6, 256)
    assert torch.equal(masks.sum(dim=0), torch.ones(256))
    assert set(masks.sum(dim=1).tolist()) == {42.0, 43.0}


def test_learned_masks_get_gradients_and_fixed_ones_do_not():
    learned = ConditionalNet((8, 8), 6, 3, masks="learned", width=2, n_blocks=1)
    fixed = ConditionalNet((8, 8), 6, 3, masks="fixed", width=2, n_blocks=1)
    assert [n for n, _ in learned.named_parameters() if n == "masks"] == ["masks"]
    assert "masks" not in dict(fixed.named_parameters())
    learned.dimension_masks().sum().backward()
    assert learned.masks.grad is not None and (learned.masks.grad != 0).all()
    with pytest.raises(ValueError, match="masks must be one of"):
        ConditionalNet((8, 8), 6, 3, masks="soft")


def test_distances_match_their_definitions():
    rng = np.random.default_rng(0)
    E = rng.normal(size=(7, 5))
    sq = squared_euclidean(torch.tensor(E)).numpy()
    np.testing.assert_allclose(sq, ((E[:, None] - E[None]) ** 2).sum(-1), atol=1e-9)
    unit = E / np.linalg.norm(E, axis=1, keepdims=True)
    np.testing.assert_allclose(
        cosine_distances(torch.tensor(E)).numpy(), 1 - unit @ unit.T, atol=1e-9
    )


def _random_masks(n, rng):
    labels = rng.integers(0, 3, size=n)
    same = labels[:, None] == labels[None, :]
    off = ~np.eye(n, dtype=bool)
    return torch.tensor(same & off), torch.tensor(~same & off)


def test_batch_hard_loss_equals_brute_force():
    rng = np.random.default_rng(1)
    D = rng.uniform(0, 2, size=(9, 9))
    positive, negative = _random_masks(9, rng)
    loss, n = batch_hard_triplet_loss(torch.tensor(D), positive, negative, margin=0.3)
    hinges = []
    for a in range(9):
        pos, neg = np.flatnonzero(positive[a]), np.flatnonzero(negative[a])
        if len(pos) and len(neg):
            hinges.append(max(0.0, D[a, pos].max() - D[a, neg].min() + 0.3))
    assert int(n) == len(hinges)
    assert float(loss) == pytest.approx(np.mean(hinges))


def test_semihard_loss_equals_brute_force():
    rng = np.random.default_rng(2)
    D = rng.uniform(0, 2, size=(8, 8))
    positive, negative = _random_masks(8, rng)
    loss, n = semihard_triplet_loss(torch.tensor(D), positive, negative, margin=0.4)
    hinges = []
    for a, p in itertools.product(range(8), range(8)):
        neg = np.flatnonzero(negative[a])
        if not positive[a, p] or not len(neg):
            continue
        farther = [D[a, k] for k in neg if D[a, k] > D[a, p]]
        chosen = min(farther) if farther else D[a, neg].max()
        hinges.append(max(0.0, D[a, p] - chosen + 0.4))
    assert int(n) == len(hinges)
    assert float(loss) == pytest.approx(np.mean(hinges))


@pytest.mark.parametrize("loss_fn", [batch_hard_triplet_loss, semihard_triplet_loss])
def test_losses_without_triplets_are_zero_but_keep_the_graph(loss_fn):
    E = torch.randn(4, 3, requires_grad=True)
    none = torch.zeros(4, 4, dtype=torch.bool)
    loss, n = loss_fn(squared_euclidean(E), none, ~none, margin=1.0)
    assert float(loss) == 0.0 and int(n) == 0
    loss.backward()
    assert E.grad is not None
