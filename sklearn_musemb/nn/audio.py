"""Convolutional backbones that embed audio feature maps (bins x frames).

- :class:`ParallelCNN`: the Deep Parallel Neural Network of Schindler & Knees (2019,
  section IV-A): batch norm on the input, then two stacks that do not share weights,
  one with kernels tall in frequency and pooling over time (timbre), one with
  kernels long in time and pooling over frequency (rhythm); every convolution has
  batch norm and ELU; the two stacks are concatenated into a dense embedding.
- :class:`InceptionCNN`: the baseline backbone of the conditional similarity network
  (paper 002, Fig. 2a): a convolution and max pooling, then Inception blocks (a
  naive module followed by a dimension-reduction module), a dense layer and layer
  normalisation of the embedding.
- :class:`MultiInputInceptionCNN`: its multi-input variant (Fig. 2b): one branch per
  stacked input (a convolution and two Inception blocks), the narrow inputs
  zero-padded to ``branch_size`` bins (CENS: 12 -> 16), every branch pooled to a
  ``branch_size`` x ``branch_size`` map, the maps concatenated and processed like
  the baseline.

All of them take ``(batch, bins, frames)`` and size their pooling from the input
shape, so inputs as small as one bin by one frame work (scikit-learn's estimator
checks use such inputs); the papers' shapes get the papers' pooling.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn


def _conv_block(
    in_channels: int, out_channels: int, kernel: tuple[int, int], activation: type
) -> nn.Sequential:
    """Convolution ('same' padding) + batch norm + activation."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel, padding="same", bias=False),
        nn.BatchNorm2d(out_channels),
        activation(),
    )


def _pool_size(size: int, wanted: int) -> int:
    """A pooling window no larger than the axis it pools."""
    return max(1, min(wanted, size))


class ParallelCNN(nn.Module):
    """Two parallel CNN stacks (timbre and rhythm) into one embedding (DPNN).

    Parameters
    ----------
    input_shape : (int, int)
        ``(n_bins, n_frames)`` of the input maps, e.g. (80, 130).
    embedding_dim : int, default=256
        Size of the embedding.
    channels : sequence of int, default=(16, 32, 64, 64)
        Feature maps of each convolution of each stack.
    spectral_kernel, temporal_kernel : (int, int), default=(7, 3), (3, 7)
        ``(bins, frames)`` kernels of the timbre stack (tall in frequency) and of
        the rhythm stack (long in time).
    pool : int, default=2
        Pooling factor per layer: over frames in the timbre stack, over bins in
        the rhythm stack (the other axis is pooled by 2 after the first layer).

    Examples
    --------
    >>> import torch
    >>> net = ParallelCNN((80, 130), embedding_dim=8, channels=(4, 8))
    >>> net(torch.randn(3, 80, 130)).shape
    torch.Size([3, 8])
    """

    def __init__(
        self,
        input_shape: Sequence[int],
        embedding_dim: int = 256,
        channels: Sequence[int] = (16, 32, 64, 64),
        spectral_kernel: Sequence[int] = (7, 3),
        temporal_kernel: Sequence[int] = (3, 7),
        pool: int = 2,
    ) -> None:
        super().__init__()
        n_bins, n_frames = (int(s) for s in input_shape)
        self.input_norm = nn.BatchNorm2d(1)
        self.spectral = self._stack(
            n_bins, n_frames, channels, spectral_kernel, pool, 1
        )
        self.temporal = self._stack(
            n_bins, n_frames, channels, temporal_kernel, pool, 0
        )
        self.embedding = nn.Linear(2 * int(channels[-1]), int(embedding_dim))

    @staticmethod
    def _stack(
        n_bins: int,
        n_frames: int,
        channels: Sequence[int],
        kernel: Sequence[int],
        pool: int,
        pooled_axis: int,
    ) -> nn.Sequential:
        layers: list[nn.Module] = []
        size = [n_bins, n_frames]
        previous = 1
        for i, width in enumerate(channels):
            layers.append(_conv_block(previous, int(width), tuple(kernel), nn.ELU))
            window = [1, 1]
            window[pooled_axis] = _pool_size(size[pooled_axis], pool)
            if i == 0:  # halve the other axis once, so later layers see further
                other = 1 - pooled_axis
                window[other] = _pool_size(size[other], 2)
            layers.append(nn.MaxPool2d(tuple(window)))
            size = [s // w for s, w in zip(size, window, strict=True)]
            previous = int(width)
        # what is left of the pooled axis is summarised by its maximum
        layers.append(nn.AdaptiveMaxPool2d(1))
        layers.append(nn.Flatten())
        return nn.Sequential(*layers)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        X = self.input_norm(X.unsqueeze(1))
        return self.embedding(torch.cat([self.spectral(X), self.temporal(X)], dim=1))


class NaiveInception(nn.Module):
    """1x1, 3x3 and 5x5 convolutions and a 3x3 max pool side by side, concatenated."""

    def __init__(self, in_channels: int, width: int) -> None:
        super().__init__()
        self.paths = nn.ModuleList(
            _conv_block(in_channels, width, (k, k), nn.ReLU) for k in (1, 3, 5)
        )
        self.pool = nn.MaxPool2d(3, stride=1, padding=1)
        self.out_channels = 3 * width + in_channels

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        return torch.cat([path(X) for path in self.paths] + [self.pool(X)], dim=1)


class ReductionInception(nn.Module):
    """The dimension-reduction Inception module: 1x1 convolutions before 3x3 and
    5x5 ones and after the max pool, so the output width stays ``4 * width``."""

    def __init__(self, in_channels: int, width: int) -> None:
        super().__init__()
        reduce = max(1, width // 2)
        self.paths = nn.ModuleList(
            [
                _conv_block(in_channels, width, (1, 1), nn.ReLU),
                nn.Sequential(
                    _conv_block(in_channels, reduce, (1, 1), nn.ReLU),
                    _conv_block(reduce, width, (3, 3), nn.ReLU),
                ),
                nn.Sequential(
                    _conv_block(in_channels, reduce, (1, 1), nn.ReLU),
                    _conv_block(reduce, width, (5, 5), nn.ReLU),
                ),
                nn.Sequential(
                    nn.MaxPool2d(3, stride=1, padding=1),
                    _conv_block(in_channels, width, (1, 1), nn.ReLU),
                ),
            ]
        )
        self.out_channels = 4 * width

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        return torch.cat([path(X) for path in self.paths], dim=1)


def _inception_blocks(
    in_channels: int, width: int, n_blocks: int, size: list[int]
) -> tuple[nn.Sequential, int, list[int]]:
    """``n_blocks`` x (naive + reduction module + 2x2 max pool where room is left)."""
    layers: list[nn.Module] = []
    for _ in range(n_blocks):
        naive = NaiveInception(in_channels, width)
        reduction = ReductionInception(naive.out_channels, width)
        window = tuple(_pool_size(s, 2) for s in size)
        layers += [naive, reduction, nn.MaxPool2d(window)]
        size = [s // w for s, w in zip(size, window, strict=True)]
        in_channels = reduction.out_channels
    return nn.Sequential(*layers), in_channels, size


def _stem(
    in_channels: int, width: int, size: list[int]
) -> tuple[nn.Sequential, list[int]]:
    """The first convolution and 2x2 max pool of a backbone or branch."""
    window = tuple(_pool_size(s, 2) for s in size)
    stem = nn.Sequential(
        _conv_block(in_channels, width, (3, 3), nn.ReLU), nn.MaxPool2d(window)
    )
    return stem, [s // w for s, w in zip(size, window, strict=True)]


class _EmbeddingHead(nn.Module):
    """Global average pool, a dense layer and layer norm of the embedding."""

    def __init__(self, in_channels: int, embedding_dim: int) -> None:
        super().__init__()
        self.dense = nn.Linear(in_channels, embedding_dim)
        self.norm = nn.LayerNorm(embedding_dim)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        return self.norm(self.dense(X.mean(dim=(2, 3))))


class InceptionCNN(nn.Module):
    """Single-input Inception backbone of the conditional similarity network.

    Parameters
    ----------
    input_shape : (int, int)
        ``(n_bins, n_frames)`` of the input, e.g. (128, 130) for 3 s of log-mel.
    embedding_dim : int, default=256
        Size of the (layer-normalised) embedding.
    width : int, default=32
        Channels of every Inception path (a block outputs ``4 * width``).
    n_blocks : int, default=6
        Inception blocks (the paper has six).

    Examples
    --------
    >>> import torch
    >>> net = InceptionCNN((16, 20), embedding_dim=6, width=4, n_blocks=2)
    >>> net(torch.randn(2, 16, 20)).shape
    torch.Size([2, 6])
    """

    def __init__(
        self,
        input_shape: Sequence[int],
        embedding_dim: int = 256,
        width: int = 32,
        n_blocks: int = 6,
    ) -> None:
        super().__init__()
        size = [int(s) for s in input_shape]
        self.stem, size = _stem(1, int(width), size)
        self.blocks, channels, _ = _inception_blocks(
            int(width), int(width), int(n_blocks), size
        )
        self.head = _EmbeddingHead(channels, int(embedding_dim))

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        return self.head(self.blocks(self.stem(X.unsqueeze(1))))


class MultiInputInceptionCNN(nn.Module):
    """Multi-input Inception backbone: one branch per input, merged at a fixed size.

    Parameters
    ----------
    input_shape : (int, int)
        ``(n_bins, n_frames)`` of the stacked inputs.
    inputs : sequence of int
        Bins of each stacked input, in order, summing to ``n_bins``: e.g.
        ``(128, 30, 12)`` for log-mel, cyclic tempogram and CENS chroma.
    embedding_dim : int, default=256
    width : int, default=32
        Channels of every Inception path.
    branch_blocks : int, default=2
        Inception blocks of each branch (the paper has two).
    n_blocks : int, default=4
        Inception blocks after the merge.
    branch_size : int, default=16
        Inputs narrower than this are zero-padded to it, and every branch output
        is pooled to ``branch_size x branch_size`` before the merge.

    Examples
    --------
    >>> import torch
    >>> net = MultiInputInceptionCNN(
    ...     (40, 20), inputs=(24, 4, 12), embedding_dim=6, width=4,
    ...     branch_blocks=1, n_blocks=1, branch_size=8)
    >>> net(torch.randn(2, 40, 20)).shape
    torch.Size([2, 6])
    """

    def __init__(
        self,
        input_shape: Sequence[int],
        inputs: Sequence[int],
        embedding_dim: int = 256,
        width: int = 32,
        branch_blocks: int = 2,
        n_blocks: int = 4,
        branch_size: int = 16,
    ) -> None:
        super().__init__()
        n_bins, n_frames = (int(s) for s in input_shape)
        self.inputs = [int(b) for b in inputs]
        if sum(self.inputs) != n_bins or min(self.inputs) < 1:
            raise ValueError(
                f"inputs {tuple(self.inputs)} must be positive bin counts summing to "
                f"the {n_bins} bins of the input"
            )
        self.branch_size = int(branch_size)
        self.branches = nn.ModuleList()
        for bins in self.inputs:
            size = [max(bins, self.branch_size), n_frames]
            stem, size = _stem(1, int(width), size)
            blocks, channels, _ = _inception_blocks(
                int(width), int(width), int(branch_blocks), size
            )
            self.branches.append(nn.Sequential(stem, blocks))
        merged = [self.branch_size, self.branch_size]
        self.blocks, channels, _ = _inception_blocks(
            channels * len(self.inputs), int(width), int(n_blocks), merged
        )
        self.head = _EmbeddingHead(channels, int(embedding_dim))

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        maps = []
        for branch, part in zip(
            self.branches, X.split(self.inputs, dim=1), strict=True
        ):
            missing = self.branch_size - part.shape[1]
            if missing > 0:  # zero-pad narrow inputs (CENS) along the bin axis
                part = F.pad(part, (0, 0, 0, missing))
            out = branch(part.unsqueeze(1))
            maps.append(F.adaptive_avg_pool2d(out, self.branch_size))
        return self.head(self.blocks(torch.cat(maps, dim=1)))
