"""Sequence models over unit embeddings: the forward-prediction LSTM and its loss."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class EmbeddingLSTM(nn.Module):
    """Stacked LSTM that predicts the next embedding from a sequence of embeddings.

    The forward-prediction network of Bretan & Heck (2019, section 4.4: two stacked
    LSTMs of 200 units) and Bretan et al. (2017, section 5.0.1: three of 400). The
    sequence is read step by step; the top layer's state after the last step goes
    through a linear head to the prediction.

    Inputs are standardised with the buffers ``input_loc`` and ``input_scale`` and
    predictions mapped back with ``output_loc`` and ``output_scale`` (identity
    until :meth:`standardize` sets them;
    :class:`~sklearn_musemb.tasks.forward.ForwardPredictor` passes the mean and
    standard deviation of its training embeddings), so the LSTM sees unit-scale
    inputs while the prediction lives in the embedding space.

    Parameters
    ----------
    input_dim : int
        Size of each input embedding.
    output_dim : int, default=None
        Size of the prediction; ``None`` means ``input_dim`` (the next embedding).
    hidden_dim : int, default=200
        Units per LSTM layer.
    n_layers : int, default=2
        Stacked LSTM layers.
    head : bool, default=True
        Map the last state to the output with a linear layer. Without it the top
        layer's state (bounded by tanh, then scaled by ``output_scale``) is the
        prediction, which needs ``hidden_dim == output_dim``.
    dropout : float, default=0.0
        Dropout between LSTM layers (PyTorch's ``nn.LSTM(dropout=...)``).

    Examples
    --------
    >>> import torch
    >>> net = EmbeddingLSTM(input_dim=32, hidden_dim=16)
    >>> net(torch.zeros(4, 7, 32)).shape  # 4 sequences of 7 embeddings
    torch.Size([4, 32])
    """

    def __init__(
        self,
        input_dim: int,
        output_dim: int | None = None,
        hidden_dim: int = 200,
        n_layers: int = 2,
        head: bool = True,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        output_dim = input_dim if output_dim is None else output_dim
        if not head and hidden_dim != output_dim:
            raise ValueError(
                f"EmbeddingLSTM without a head predicts its top LSTM state, so "
                f"hidden_dim ({hidden_dim}) must equal output_dim ({output_dim})"
            )
        self.lstm = nn.LSTM(
            input_dim,
            hidden_dim,
            num_layers=n_layers,
            batch_first=True,
            dropout=dropout,
        )
        self.head = nn.Linear(hidden_dim, output_dim) if head else nn.Identity()
        self.register_buffer("input_loc", torch.zeros(input_dim))
        self.register_buffer("input_scale", torch.ones(input_dim))
        self.register_buffer("output_loc", torch.zeros(output_dim))
        self.register_buffer("output_scale", torch.ones(output_dim))

    @torch.no_grad()
    def standardize(self, loc: torch.Tensor, scale: torch.Tensor) -> None:
        """Standardise inputs with ``(loc, scale)`` and map outputs back with them.

        Parameters
        ----------
        loc, scale : torch.Tensor of shape (input_dim,)
            Mean and (positive) standard deviation of the embeddings; the output
            must live in the same space (``output_dim == input_dim``).
        """
        for name, value in (("loc", loc), ("scale", scale)):
            getattr(self, f"input_{name}").copy_(value)
            getattr(self, f"output_{name}").copy_(value)

    def forward(self, sequences: torch.Tensor) -> torch.Tensor:
        """Prediction following each sequence.

        Parameters
        ----------
        sequences : torch.Tensor of shape (batch, steps, input_dim)

        Returns
        -------
        torch.Tensor of shape (batch, output_dim)
        """
        states, _ = self.lstm((sequences - self.input_loc) / self.input_scale)
        return self.head(states[:, -1]) * self.output_scale + self.output_loc


class CosineDistanceLoss(nn.Module):
    """Mean cosine distance ``1 - cos(prediction, target)`` over the batch.

    The training loss that matches ranking by cosine similarity (Bretan et al.
    2017); ``torch.nn.CosineEmbeddingLoss`` needs a third, label argument that a
    skorch criterion does not get. A zero vector has similarity 0 to anything.

    Parameters
    ----------
    eps : float, default=1e-8
        Smallest norm used in the denominator (``F.cosine_similarity``).

    Examples
    --------
    >>> import torch
    >>> loss = CosineDistanceLoss()
    >>> loss(torch.tensor([[1., 0.], [0., 2.]]), torch.tensor([[3., 0.], [1., 0.]]))
    tensor(0.5000)
    """

    def __init__(self, eps: float = 1e-8) -> None:
        super().__init__()
        self.eps = eps

    def forward(self, prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Mean of ``1 - cos`` over rows."""
        return (
            1 - F.cosine_similarity(prediction, target, dim=-1, eps=self.eps)
        ).mean()
