"""Shared machinery of the embedders trained on adjacent units (DSSM and AdjD)."""

from __future__ import annotations

import numpy as np
import torch

from ..units.container import Units
from ..utils.validation import check_positive_int
from .base import UnitEmbedder


class AdjacentPairEmbedder(UnitEmbedder):
    """Base class of the embedders that learn from adjacent units plus negatives.

    skorch iterates over the adjacent pairs of the training units
    (:meth:`~sklearn_musemb.units.Units.adjacent_pairs`); each batch draws, on the
    device, a random direction per pair (so "before" and "after" neighbours both
    count) and ``n_negatives`` random training units per pair. A random unit is the
    true neighbour with probability about ``1 / n_units``; such collisions are not
    filtered. Subclasses set ``n_negatives`` in ``__init__``.

    Not used directly; see :class:`~sklearn_musemb.embedders.DSSMEmbedder` and
    :class:`~sklearn_musemb.embedders.AdjDEmbedder`.
    """

    _abstract = True

    def _check_params(self) -> None:
        super()._check_params()
        check_positive_int(self.n_negatives, "n_negatives", type(self).__name__)

    def _training_data(
        self, units: Units, y: object = None
    ) -> tuple[np.ndarray, np.ndarray]:
        first, second = units.adjacent_pairs()
        if len(first) == 0:
            raise ValueError(
                f"{type(self).__name__} needs at least one pair of adjacent units "
                f"to train, found none among n_samples={len(units)} units of "
                f"{len(np.unique(units.piece))} piece(s); a piece must yield at "
                "least 2 consecutive units"
            )
        return first.astype(np.int64), second.astype(np.int64)

    def _sample_rows(
        self, first: torch.Tensor, second: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Rows of anchors, their neighbours and ``n_negatives`` negatives each.

        Returns
        -------
        anchor, positive : torch.Tensor of shape (n_pairs,)
        negative : torch.Tensor of shape (n_pairs * n_negatives,)
            The negatives of anchor ``i`` are rows ``i * k .. i * k + k - 1``.
        """
        rng, device = self._torch_rng, first.device
        swap = torch.rand(len(first), generator=rng, device=device) < 0.5
        anchor = torch.where(swap, second, first)
        positive = torch.where(swap, first, second)
        negative = torch.randint(
            len(self._events_on_device),
            (len(first) * self.n_negatives,),
            generator=rng,
            device=device,
        )
        return anchor, positive, negative
