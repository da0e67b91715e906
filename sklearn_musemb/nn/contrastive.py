"""The contrastive network: the shared event encoder plus a projection head."""

from __future__ import annotations

import torch
from torch import nn

from .encoder import ConvEventEncoder, EventEncoder

#: Encoders by name (``module__encoder``).
ENCODERS = {"dense": EventEncoder, "conv": ConvEventEncoder}


class ContrastiveNet(nn.Module):
    """An event encoder plus a projection head used in training only.

    As in SimCLR, the contrastive loss sees ``project(embed(x))``, a small MLP on
    top of the embedding; the embedding itself (``embed``) is what ``transform``
    returns, which keeps information the loss would otherwise squeeze out.

    Parameters
    ----------
    event_dim, n_events, embedding_dim : int
        See :class:`EventEncoder`.
    event_channels, hidden_dim, n_layers : int
        See :class:`EventEncoder`; ``n_layers=None`` takes the encoder's own
        default (8 dense, 3 convolution layers).
    encoder : {"dense", "conv"}, default="conv"
        :class:`ConvEventEncoder` (convolutions and pooling over the events:
        a dropped or added note only shifts what follows) or the papers'
        :class:`EventEncoder` (one dense layer over all event positions).
    projection_dim : int, default=64
        Output width of the projection head (its hidden layer has
        ``hidden_dim`` units).

    Examples
    --------
    >>> import torch
    >>> net = ContrastiveNet(event_dim=98, n_events=8, hidden_dim=16)
    >>> x = torch.zeros(3, 8, 98)
    >>> net.embed(x).shape, net(x).shape
    (torch.Size([3, 32]), torch.Size([3, 64]))
    """

    def __init__(
        self,
        event_dim: int,
        n_events: int,
        embedding_dim: int = 32,
        event_channels: int = 64,
        hidden_dim: int = 256,
        n_layers: int | None = None,
        encoder: str = "conv",
        projection_dim: int = 64,
    ) -> None:
        super().__init__()
        if encoder not in ENCODERS:
            raise ValueError(
                f"encoder must be one of {tuple(ENCODERS)}, got {encoder!r}"
            )
        depth = {} if n_layers is None else {"n_layers": n_layers}
        self.encoder = ENCODERS[encoder](
            event_dim,
            n_events,
            embedding_dim=embedding_dim,
            event_channels=event_channels,
            hidden_dim=hidden_dim,
            **depth,
        )
        self.projector = nn.Sequential(
            nn.Linear(embedding_dim, hidden_dim),
            nn.ReLU(),
            nn.Linear(hidden_dim, projection_dim),
        )

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """Embedding of encoded units ``x``."""
        return self.encoder(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Projection of the embedding of ``x`` (what the loss compares)."""
        return self.projector(self.encoder(x))
