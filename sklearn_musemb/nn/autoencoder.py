"""Autoencoder networks of the VAE and AAE baselines (Bretan & Heck 2019, 4.1)."""

from __future__ import annotations

import torch
from torch import nn

from .decoder import EventDecoder
from .encoder import EventEncoder


class AutoencoderNet(nn.Module):
    """Event encoder plus event decoder, optionally variational.

    The encoder is the :class:`EventEncoder` every method shares. A variational
    net's encoder emits ``2 * embedding_dim`` values, read as the mean and the log
    variance of a diagonal Gaussian posterior; the embedding is the mean.

    Parameters
    ----------
    event_dim, n_events, embedding_dim : int
        See :class:`EventEncoder`.
    variational : bool, default=False
        Emit a mean and a log variance instead of a point code.
    event_channels, hidden_dim, n_layers : int
        Shared by encoder and decoder, see :class:`EventEncoder`.

    Examples
    --------
    >>> import torch
    >>> net = AutoencoderNet(event_dim=2, n_events=8, hidden_dim=16, variational=True)
    >>> mean, log_var = net.encode(torch.zeros(3, 8, 2))
    >>> mean.shape, net.decode(mean).shape
    (torch.Size([3, 32]), torch.Size([3, 8, 2]))
    """

    def __init__(
        self,
        event_dim: int,
        n_events: int,
        embedding_dim: int = 32,
        variational: bool = False,
        event_channels: int = 64,
        hidden_dim: int = 256,
        n_layers: int = 8,
    ) -> None:
        super().__init__()
        self.variational = variational
        shape = {
            "event_channels": event_channels,
            "hidden_dim": hidden_dim,
            "n_layers": n_layers,
        }
        code_dim = 2 * embedding_dim if variational else embedding_dim
        self.encoder = EventEncoder(event_dim, n_events, code_dim, **shape)
        self.decoder = EventDecoder(event_dim, n_events, embedding_dim, **shape)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``(mean, log variance)`` of a variational net, ``(code, None)`` else."""
        code = self.encoder(x)
        if not self.variational:
            return code, None
        mean, log_var = code.chunk(2, dim=-1)
        return mean, log_var

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """Embedding (the posterior mean of a variational net) of encoded units."""
        return self.encode(x)[0]

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Raw per-event outputs for codes ``z``."""
        return self.decoder(z)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Reconstruction of ``x`` from its embedding (no sampling)."""
        return self.decode(self.embed(x))
