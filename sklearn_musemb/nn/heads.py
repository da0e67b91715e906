"""Small heads that sit on top of embeddings during training."""

from __future__ import annotations

import torch
from torch import nn


class PairClassifier(nn.Module):
    """A deliberately small related / not-related classifier on two embeddings.

    The two embeddings are concatenated and passed through one hidden layer, so most
    of the work of telling adjacent units from random ones has to be done by the
    encoder (Bretan & Heck 2019, section 3.2).

    Parameters
    ----------
    embedding_dim : int
        Size of each embedding.
    hidden_dim : int, default=32
        Width of the single hidden layer.
    negative_slope : float, default=0.01
        Slope of LeakyReLU for negative inputs.

    Examples
    --------
    >>> import torch
    >>> head = PairClassifier(embedding_dim=32)
    >>> head(torch.zeros(4, 32), torch.zeros(4, 32)).shape
    torch.Size([4, 2])
    """

    def __init__(
        self, embedding_dim: int, hidden_dim: int = 32, negative_slope: float = 0.01
    ) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(2 * embedding_dim, hidden_dim),
            nn.LeakyReLU(negative_slope),
            nn.Linear(hidden_dim, 2),
        )

    def forward(self, first: torch.Tensor, second: torch.Tensor) -> torch.Tensor:
        """Two logits (not related, related) per pair."""
        return self.net(torch.cat([first, second], dim=-1))
