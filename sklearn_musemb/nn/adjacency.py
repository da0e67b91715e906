"""The adjacency discriminator network (Bretan & Heck 2019, section 3.2)."""

from __future__ import annotations

import torch
from torch import nn

from .encoder import EventEncoder
from .heads import PairClassifier


class AdjacencyNet(nn.Module):
    """Tied-tower encoder plus a small related / not-related pair classifier.

    Both units of a pair go through the same :class:`EventEncoder`; their embeddings
    are concatenated and classified by a :class:`PairClassifier`.

    Parameters
    ----------
    event_dim, n_events, embedding_dim : int
        See :class:`EventEncoder`.
    event_channels, hidden_dim, n_layers : int
        See :class:`EventEncoder`.
    classifier_hidden_dim : int, default=32
        Hidden width of the pair classifier.

    Examples
    --------
    >>> import torch
    >>> net = AdjacencyNet(event_dim=2, n_events=8, hidden_dim=16)
    >>> x = torch.zeros(3, 8, 2)
    >>> net(x, x).shape, net.embed(x).shape
    (torch.Size([3, 2]), torch.Size([3, 32]))
    """

    def __init__(
        self,
        event_dim: int,
        n_events: int,
        embedding_dim: int = 32,
        event_channels: int = 64,
        hidden_dim: int = 256,
        n_layers: int = 8,
        classifier_hidden_dim: int = 32,
    ) -> None:
        super().__init__()
        self.encoder = EventEncoder(
            event_dim,
            n_events,
            embedding_dim=embedding_dim,
            event_channels=event_channels,
            hidden_dim=hidden_dim,
            n_layers=n_layers,
        )
        self.classifier = PairClassifier(embedding_dim, classifier_hidden_dim)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """Embedding of encoded units ``x``."""
        return self.encoder(x)

    def forward(self, first: torch.Tensor, second: torch.Tensor) -> torch.Tensor:
        """Logits ``(not related, related)`` of each pair of encoded units."""
        return self.classifier(self.encoder(first), self.encoder(second))
