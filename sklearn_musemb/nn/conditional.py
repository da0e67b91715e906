"""A conditional similarity network: one backbone, one masked sub-space per dimension.

Veit et al.'s conditional similarity networks, as paper 002 uses them: the
embedding is split into sub-spaces, one per musical dimension (genre, tempo,
key...), by non-negative masks; a dimension's distance is the distance of the
masked embeddings. Masks are fixed disjoint blocks of equal size, or learned.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .audio import InceptionCNN, MultiInputInceptionCNN

#: Mask kinds :class:`ConditionalNet` takes.
MASKS = ("fixed", "learned")


def block_masks(n_dimensions: int, embedding_dim: int) -> torch.Tensor:
    """Disjoint 0/1 masks splitting ``embedding_dim`` into near-equal blocks.

    Examples
    --------
    >>> block_masks(2, 5)
    tensor([[1., 1., 1., 0., 0.],
            [0., 0., 0., 1., 1.]])
    """
    masks = torch.zeros(n_dimensions, embedding_dim)
    for i, block in enumerate(np.array_split(np.arange(embedding_dim), n_dimensions)):
        masks[i, block] = 1.0
    return masks


class ConditionalNet(nn.Module):
    """An Inception backbone (single- or multi-input) and per-dimension masks.

    Parameters
    ----------
    input_shape : (int, int)
        ``(n_bins, n_frames)`` of the input maps.
    embedding_dim : int
        Size of the full (layer-normalised) embedding.
    n_dimensions : int
        Musical dimensions, one sub-space each.
    inputs : sequence of int or None, default=None
        ``None``: one input (:class:`~sklearn_musemb.nn.audio.InceptionCNN`);
        otherwise the bins of each stacked input
        (:class:`~sklearn_musemb.nn.audio.MultiInputInceptionCNN`).
    masks : {"fixed", "learned"}, default="fixed"
        Disjoint equal blocks, or learned masks (kept non-negative by a ReLU) that
        start at 0.9 on the dimension's block and 0.1 elsewhere.
    width : int, default=32
        Channels of every Inception path.
    n_blocks : int or None, default=None
        Inception blocks of the single-input backbone (``None``: the paper's 6),
        or after the merge of the multi-input one (``None``: 4).
    branch_blocks, branch_size : int, default=2, 16
        Multi-input only: Inception blocks per branch, and the bins narrow inputs
        are padded to and every branch is pooled to (the paper's 16 x 16 maps).

    Examples
    --------
    >>> import torch
    >>> net = ConditionalNet((16, 12), embedding_dim=6, n_dimensions=3, width=4,
    ...                      n_blocks=1)
    >>> net(torch.randn(2, 16, 12)).shape
    torch.Size([2, 6])
    >>> net.dimension_masks().sum(dim=1).tolist()
    [2.0, 2.0, 2.0]
    """

    def __init__(
        self,
        input_shape: Sequence[int],
        embedding_dim: int,
        n_dimensions: int,
        inputs: Sequence[int] | None = None,
        masks: str = "fixed",
        width: int = 32,
        n_blocks: int | None = None,
        branch_blocks: int = 2,
        branch_size: int = 16,
    ) -> None:
        super().__init__()
        if masks not in MASKS:
            raise ValueError(f"masks must be one of {MASKS}, got {masks!r}")
        if inputs is None:
            self.backbone = InceptionCNN(
                input_shape, embedding_dim, width, 6 if n_blocks is None else n_blocks
            )
        else:
            self.backbone = MultiInputInceptionCNN(
                input_shape,
                inputs,
                embedding_dim,
                width,
                branch_blocks,
                4 if n_blocks is None else n_blocks,
                branch_size,
            )
        start = block_masks(int(n_dimensions), int(embedding_dim))
        if masks == "learned":
            # every entry starts positive (ReLU passes no gradient at zero), the
            # dimension's own block higher: a disjoint split the training may blur
            self.masks = nn.Parameter(0.1 + 0.8 * start)
        else:
            self.register_buffer("masks", start)

    def dimension_masks(self) -> torch.Tensor:
        """Non-negative masks, ``(n_dimensions, embedding_dim)``."""
        return F.relu(self.masks)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        return self.backbone(X)
