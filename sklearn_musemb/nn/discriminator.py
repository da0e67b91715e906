"""The prior discriminator of the adversarial methods (Bretan & Heck 2019, 3.1)."""

from __future__ import annotations

import torch
from torch import nn


class PriorDiscriminator(nn.Module):
    """Tell samples of the prior N(0, I) from embeddings produced by an encoder.

    A small multilayer perceptron on one embedding; it returns one logit per row,
    positive for "drawn from the prior". The adversarial embedders train it to
    separate the two and train the encoder to fool it, which pushes the aggregated
    distribution of the embeddings towards N(0, I).

    Parameters
    ----------
    embedding_dim : int, default=32
        Size of the embeddings judged.
    hidden_dim : int, default=64
        Width of the hidden layers.
    n_layers : int, default=3
        Weight layers, at least 1 (1 is a logistic regression).
    negative_slope : float, default=0.2
        Slope of LeakyReLU for negative inputs (0.2 is the usual GAN choice).

    Examples
    --------
    >>> import torch
    >>> PriorDiscriminator(embedding_dim=8)(torch.zeros(4, 8)).shape
    torch.Size([4])
    """

    def __init__(
        self,
        embedding_dim: int = 32,
        hidden_dim: int = 64,
        n_layers: int = 3,
        negative_slope: float = 0.2,
    ) -> None:
        super().__init__()
        if n_layers < 1:
            raise ValueError(f"n_layers must be at least 1, got {n_layers}")
        widths = [embedding_dim] + [hidden_dim] * (n_layers - 1)
        layers: list[nn.Module] = []
        for width_in, width_out in zip(widths[:-1], widths[1:], strict=True):
            layers += [nn.Linear(width_in, width_out), nn.LeakyReLU(negative_slope)]
        layers.append(nn.Linear(widths[-1], 1))
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Logit "sampled from the prior" of every row of ``z``."""
        return self.net(z).squeeze(-1)
