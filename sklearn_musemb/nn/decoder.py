"""The decoder of the autoencoder baselines: the event encoder run backwards."""

from __future__ import annotations

import torch
from torch import nn

from .encoder import residual_stack


class EventDecoder(nn.Module):
    """Map an embedding back to one output vector per event.

    The mirror image of :class:`~sklearn_musemb.nn.EventEncoder`: a linear layer
    from the embedding to ``hidden_dim``, residual fully connected layers, a
    projection to ``event_channels`` per event and a per-event linear map to
    ``event_dim`` outputs (the transpose of the encoder's event convolution). With
    ``n_layers=8`` it has eight weight layers, like the encoder.

    The output is raw: logits of the pitch and inter-onset bins for two-hot
    input, standardised values for continuous input
    (``sklearn_musemb.nn.losses.reconstruction_loss`` knows which).

    Parameters
    ----------
    event_dim : int
        Width of one encoded event (272 for two-hot, 2 for continuous).
    n_events : int
        Events per unit.
    embedding_dim : int, default=32
        Size of the embedding decoded.
    event_channels : int, default=64
        Width of the per-event code before the last layer.
    hidden_dim : int, default=256
        Width of the fully connected layers.
    n_layers : int, default=8
        Weight layers in total, at least 3.
    negative_slope : float, default=0.01
        Slope of LeakyReLU for negative inputs.

    Examples
    --------
    >>> import torch
    >>> dec = EventDecoder(event_dim=272, n_events=40, hidden_dim=32)
    >>> dec(torch.zeros(5, 32)).shape
    torch.Size([5, 40, 272])
    """

    def __init__(
        self,
        event_dim: int,
        n_events: int,
        embedding_dim: int = 32,
        event_channels: int = 64,
        hidden_dim: int = 256,
        n_layers: int = 8,
        negative_slope: float = 0.01,
    ) -> None:
        super().__init__()
        self.n_events = n_events
        self.event_channels = event_channels
        self.activation = nn.LeakyReLU(negative_slope)
        self.inp = nn.Linear(embedding_dim, hidden_dim)
        self.residual = residual_stack(hidden_dim, n_layers, negative_slope)
        self.project = nn.Linear(hidden_dim, event_channels * n_events)
        self.event_out = nn.Linear(event_channels, event_dim)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Decode ``z`` of shape ``(batch, embedding_dim)`` to
        ``(batch, n_events, event_dim)``."""
        h = self.residual(self.activation(self.inp(z)))
        h = self.activation(self.project(h))
        return self.event_out(h.view(len(z), self.n_events, self.event_channels))
