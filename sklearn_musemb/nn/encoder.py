"""The event encoder shared by every note-unit embedder (Bretan & Heck 2019, 4.3)."""

from __future__ import annotations

import torch
from torch import nn


class ResidualLinear(nn.Module):
    """``h + LeakyReLU(W h + b)``: one fully connected layer with a skip."""

    def __init__(self, width: int, negative_slope: float = 0.01) -> None:
        super().__init__()
        self.linear = nn.Linear(width, width)
        self.activation = nn.LeakyReLU(negative_slope)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return h + self.activation(self.linear(h))


def residual_stack(
    width: int, n_layers: int, negative_slope: float = 0.01
) -> nn.Sequential:
    """The ``n_layers - 3`` residual layers between the three fixed weight layers
    of :class:`EventEncoder` and :class:`~sklearn_musemb.nn.EventDecoder`.

    Examples
    --------
    >>> len(residual_stack(16, n_layers=8))
    5
    >>> residual_stack(16, n_layers=2)
    Traceback (most recent call last):
    ...
    ValueError: n_layers must be at least 3, got 2
    """
    if n_layers < 3:
        raise ValueError(f"n_layers must be at least 3, got {n_layers}")
    return nn.Sequential(
        *[ResidualLinear(width, negative_slope) for _ in range(n_layers - 3)]
    )


class EventEncoder(nn.Module):
    """Embed a unit of encoded events into a small dense vector.

    The first layer is a convolution whose kernel and stride both equal one event,
    so it learns one code per (pitch, interval) event. A convolution whose kernel
    equals its stride is exactly one linear map shared by all events, and is
    computed as such (``event_conv`` is an :class:`~torch.nn.Linear` applied to
    every event; on CPU this is 5-10x faster than ``Conv1d``). All later layers
    are fully connected with residual connections and LeakyReLU. With the default
    ``n_layers=8`` there are eight weight layers between input and embedding:
    the event convolution, a projection to ``hidden_dim``, five residual layers and
    a linear output layer (no activation, so the embedding can take any real value,
    as an N(0, I) prior needs).

    Parameters
    ----------
    event_dim : int
        Width of one encoded event (272 for two-hot, 2 for continuous).
    n_events : int
        Events per unit (40 in the paper).
    embedding_dim : int, default=32
        Size of the embedding.
    event_channels : int, default=64
        Output channels of the event convolution.
    hidden_dim : int, default=256
        Width of the fully connected layers.
    n_layers : int, default=8
        Weight layers in total, at least 3.
    negative_slope : float, default=0.01
        Slope of LeakyReLU for negative inputs.

    Examples
    --------
    >>> import torch
    >>> enc = EventEncoder(event_dim=2, n_events=40)
    >>> enc(torch.zeros(5, 40, 2)).shape
    torch.Size([5, 32])
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
        self.event_dim = event_dim
        self.n_events = n_events
        self.event_conv = nn.Linear(event_dim, event_channels)
        # Every event carries two unit-scale values (two hot bins, or two
        # standardised numbers); N(0, 1/2) weights give event codes unit variance.
        # PyTorch's default init (std ~ 1/sqrt(3 * 272) for two-hot) leaves the
        # sparse two-hot codes ~10x smaller than the continuous ones, and AdjD then
        # sits at chance for epochs.
        nn.init.normal_(self.event_conv.weight, std=0.5**0.5)
        nn.init.zeros_(self.event_conv.bias)
        self.activation = nn.LeakyReLU(negative_slope)
        self.project = nn.Linear(event_channels * n_events, hidden_dim)
        self.residual = residual_stack(hidden_dim, n_layers, negative_slope)
        self.out = nn.Linear(hidden_dim, embedding_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Embed ``x`` of shape ``(batch, n_events, event_dim)``."""
        h = self.activation(self.event_conv(x))  # (batch, n_events, channels)
        h = self.activation(self.project(h.flatten(1)))
        return self.out(self.residual(h))


class ConvEventEncoder(nn.Module):
    """Embed a unit with convolutions over its events and pooling over time.

    Every event is projected to ``event_channels`` values (one linear map shared
    by all events, as in :class:`EventEncoder`), then ``n_layers`` residual 1-d
    convolutions of width ``kernel_size`` mix neighbouring events, and the mean
    and maximum over the unit's events feed two fully connected layers. Unlike
    :class:`EventEncoder`, whose first dense layer ties every weight to one
    event position, a dropped or added note shifts the events after it without
    changing what the convolutions see, so the embedding moves little: the
    encoder of choice when units come from performances.

    Parameters
    ----------
    event_dim : int
        Width of one encoded event.
    n_events : int
        Events per unit (any length works; kept for a common signature).
    embedding_dim : int, default=32
        Size of the embedding.
    event_channels : int, default=64
        Channels of the event projection and the convolutions.
    hidden_dim : int, default=256
        Width of the fully connected layer after pooling.
    n_layers : int, default=3
        Residual convolution layers.
    kernel_size : int, default=5
        Events each convolution sees (odd).
    negative_slope : float, default=0.01
        Slope of LeakyReLU for negative inputs.

    Examples
    --------
    >>> import torch
    >>> enc = ConvEventEncoder(event_dim=98, n_events=40)
    >>> enc(torch.zeros(5, 40, 98)).shape
    torch.Size([5, 32])
    """

    def __init__(
        self,
        event_dim: int,
        n_events: int,
        embedding_dim: int = 32,
        event_channels: int = 64,
        hidden_dim: int = 256,
        n_layers: int = 3,
        kernel_size: int = 5,
        negative_slope: float = 0.01,
    ) -> None:
        super().__init__()
        if kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(
                f"kernel_size must be a positive odd int, got {kernel_size}"
            )
        self.event_dim = event_dim
        self.n_events = n_events
        self.event_proj = nn.Linear(event_dim, event_channels)
        nn.init.normal_(self.event_proj.weight, std=0.5**0.5)  # see EventEncoder
        nn.init.zeros_(self.event_proj.bias)
        self.convs = nn.ModuleList(
            nn.Conv1d(event_channels, event_channels, kernel_size, padding="same")
            for _ in range(n_layers)
        )
        self.activation = nn.LeakyReLU(negative_slope)
        self.hidden = nn.Linear(2 * event_channels, hidden_dim)
        self.out = nn.Linear(hidden_dim, embedding_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Embed ``x`` of shape ``(batch, n_events, event_dim)``."""
        h = self.activation(self.event_proj(x)).transpose(1, 2)  # (b, c, events)
        for conv in self.convs:
            h = h + self.activation(conv(h))
        pooled = torch.cat([h.mean(dim=2), h.amax(dim=2)], dim=1)
        return self.out(self.activation(self.hidden(pooled)))
