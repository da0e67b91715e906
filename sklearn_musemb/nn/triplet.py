"""Triplet losses with online mining inside a batch.

Both take boolean ``positive`` / ``negative`` masks of shape ``(n, n)`` saying which
items of the batch may serve as positive or negative for each anchor (the caller
excludes the diagonal and any same-album pairs), so one matrix of distances per
batch replaces gathering triplets item by item.

- :func:`batch_hard_triplet_loss` (Schindler & Knees 2019): per anchor the hardest
  positive (farthest) and the hardest negative (closest) by squared Euclidean
  distance, hinge with a margin.
- :func:`semihard_triplet_loss` (FaceNet's semi-hard mining, as paper 002 uses it):
  per anchor-positive pair the closest negative that is farther than the positive;
  when there is none, the farthest negative.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def squared_euclidean(embeddings: torch.Tensor) -> torch.Tensor:
    """All pairwise squared Euclidean distances of the rows, ``(n, n)``.

    Computed from the Gram matrix (no square root, so the gradient is finite on
    the diagonal) and clipped at zero against rounding.

    Examples
    --------
    >>> import torch
    >>> squared_euclidean(torch.tensor([[0., 0.], [3., 4.]]))
    tensor([[ 0., 25.],
            [25.,  0.]])
    """
    norms = embeddings.square().sum(dim=1)
    gram = embeddings @ embeddings.T
    return (norms[:, None] + norms[None, :] - 2.0 * gram).clamp_min(0.0)


def cosine_distances(embeddings: torch.Tensor) -> torch.Tensor:
    """All pairwise cosine distances ``1 - cos`` of the rows, ``(n, n)``.

    Examples
    --------
    >>> import torch
    >>> cosine_distances(torch.tensor([[1., 0.], [0., 2.]]))
    tensor([[0., 1.],
            [1., 0.]])
    """
    unit = F.normalize(embeddings, dim=1)
    return (1.0 - unit @ unit.T).clamp_min(0.0)


def _zero_loss(distances: torch.Tensor) -> torch.Tensor:
    # keeps the graph (and the device) when a batch holds no valid triplet
    return distances.sum() * 0.0


def batch_hard_triplet_loss(
    distances: torch.Tensor,
    positive: torch.Tensor,
    negative: torch.Tensor,
    margin: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Hinge loss of each anchor's hardest positive and hardest negative.

    Parameters
    ----------
    distances : tensor of shape (n, n)
        Pairwise distances of the batch's embeddings.
    positive, negative : bool tensors of shape (n, n)
        Allowed positives and negatives of each anchor (row).
    margin : float
        The enforced gap between positive and negative distances.

    Returns
    -------
    loss : scalar tensor
        Mean hinge over anchors that have at least one positive and one negative
        (zero, still attached to the graph, when no anchor has).
    n_triplets : scalar tensor
        How many anchors formed a triplet.

    Examples
    --------
    >>> import torch
    >>> d = torch.tensor([[0., 1., 3.], [1., 0., 2.], [3., 2., 0.]])
    >>> pos = torch.tensor([[0, 1, 0], [1, 0, 0], [0, 0, 0]], dtype=torch.bool)
    >>> neg = torch.tensor([[0, 0, 1], [0, 0, 1], [0, 0, 0]], dtype=torch.bool)
    >>> loss, n = batch_hard_triplet_loss(d, pos, neg, margin=1.5)
    >>> float(loss), int(n)
    (0.25, 2)
    """
    valid = positive.any(dim=1) & negative.any(dim=1)
    if not bool(valid.any()):
        return _zero_loss(distances), valid.sum()
    hardest_positive = distances.masked_fill(~positive, float("-inf")).amax(dim=1)
    hardest_negative = distances.masked_fill(~negative, float("inf")).amin(dim=1)
    hinge = F.relu(hardest_positive - hardest_negative + margin)
    return hinge[valid].mean(), valid.sum()


def semihard_triplet_loss(
    distances: torch.Tensor,
    positive: torch.Tensor,
    negative: torch.Tensor,
    margin: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Hinge loss of every anchor-positive pair with a semi-hard negative.

    For the pair ``(a, p)`` the negative is the closest ``n`` with
    ``d(a, n) > d(a, p)`` (semi-hard when within ``margin``; beyond it the hinge is
    zero anyway); when no negative is farther than the positive, the farthest
    negative is used.

    Parameters and return values as in :func:`batch_hard_triplet_loss`, except that
    ``n_triplets`` counts anchor-positive pairs. Memory grows as ``n ** 3`` booleans
    and floats: keep batches in the hundreds.

    Examples
    --------
    >>> import torch
    >>> d = torch.tensor([[0., 1., 1.2], [1., 0., 2.], [1.2, 2., 0.]])
    >>> pos = torch.tensor([[0, 1, 0], [1, 0, 0], [0, 0, 0]], dtype=torch.bool)
    >>> neg = torch.tensor([[0, 0, 1], [0, 0, 1], [0, 0, 0]], dtype=torch.bool)
    >>> loss, n = semihard_triplet_loss(d, pos, neg, margin=0.5)
    >>> round(float(loss), 4), int(n)
    (0.15, 2)
    """
    pairs = positive & negative.any(dim=1, keepdim=True)
    if not bool(pairs.any()):
        return _zero_loss(distances), pairs.sum()
    anchor_positive = distances[:, :, None]  # (a, p, 1)
    anchor_negative = distances[:, None, :]  # (a, 1, n)
    farther = negative[:, None, :] & (anchor_negative > anchor_positive)
    semihard = anchor_negative.masked_fill(~farther, float("inf")).amin(dim=2)
    farthest = distances.masked_fill(~negative, float("-inf")).amax(dim=1)
    chosen = torch.where(torch.isfinite(semihard), semihard, farthest[:, None])
    hinge = F.relu(distances - chosen + margin)
    return hinge[pairs].mean(), pairs.sum()
