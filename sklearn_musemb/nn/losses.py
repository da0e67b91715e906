"""Training losses of the note-unit embedders (Bretan & Heck 2019, section 3)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..encodings import N_PITCH_BINS, two_hot_bins

#: Keeps the gradient of the Euclidean distance finite when two embeddings meet.
_DISTANCE_EPS = 1e-12


def euclidean_similarity(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``1 / (1 + D(a, b))`` row by row, with ``D`` the Euclidean distance (Eq. 1).

    Examples
    --------
    >>> import torch
    >>> euclidean_similarity(torch.zeros(2, 2), torch.tensor([[3., 4.], [0., 0.]]))
    tensor([0.1667, 1.0000])
    """
    distance = ((a - b).square().sum(-1) + _DISTANCE_EPS).sqrt()
    return 1.0 / (1.0 + distance)


def cosine_similarity(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Cosine similarity along the last axis; a zero vector has 0 with anything.

    Examples
    --------
    >>> import torch
    >>> a, b = torch.tensor([[1., 0.], [0., 0.]]), torch.tensor([[2., 0.], [1., 1.]])
    >>> cosine_similarity(a, b)
    tensor([1., 0.])
    """
    return F.cosine_similarity(a, b, dim=-1)


#: Similarities :func:`dssm_logits` accepts, by name.
SIMILARITIES = {"euclidean": euclidean_similarity, "cosine": cosine_similarity}


def dssm_logits(
    query: torch.Tensor,
    positive: torch.Tensor,
    negatives: torch.Tensor,
    scale: float = 1.0,
    similarity: str = "euclidean",
) -> torch.Tensor:
    """Logits of the DSSM softmax: scaled similarities of a query to its candidates.

    Cross-entropy of these logits against class 0 (the positive) is
    ``-log P(positive | query)`` of Bretan & Heck (2019), Eq. 2-3: with the
    Euclidean similarity ``1 / (1 + D)`` the DSSM loss, with the cosine (the
    paper's 4.4) the chroma-prediction loss. ``scale``
    multiplies the similarities before the softmax (the smoothing factor of the
    original DSSM; the paper's equation has 1). With ``scale=1`` similarities lie
    in (0, 1], so even negatives infinitely far away leave the positive a
    probability of only ``e / (e + k)``: the loss cannot fall below
    ``log(1 + k / e)`` (0.75 for ``k=3``, as the example shows).

    Parameters
    ----------
    query, positive : torch.Tensor of shape (n, d)
    negatives : torch.Tensor of shape (n, k, d)
        ``k`` negatives per query.
    scale : float, default=1.0
    similarity : {"euclidean", "cosine"}, default="euclidean"
        A key of :data:`SIMILARITIES`.

    Returns
    -------
    torch.Tensor of shape (n, 1 + k)
        Column 0 is the positive.

    Examples
    --------
    >>> import torch
    >>> import torch.nn.functional as F
    >>> q = torch.zeros(1, 2)
    >>> logits = dssm_logits(q, q, torch.full((1, 3, 2), 100.))
    >>> round(F.cross_entropy(logits, torch.tensor([0])).item(), 3)
    0.747
    """
    candidates = torch.cat([positive.unsqueeze(1), negatives], dim=1)
    return scale * SIMILARITIES[similarity](query.unsqueeze(1), candidates)


def reconstruction_loss(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Negative log-likelihood of the input units under a decoder's output.

    Two-hot input (``output`` 272 wide, ``target`` the compact integer events): a
    categorical over the 72 pitch bins plus one over the 200 inter-onset bins per
    event, i.e. cross-entropy against :func:`~sklearn_musemb.encodings.two_hot_bins`.
    Any other input (``target`` the float encoding itself: the standardised
    continuous pairs, the relative encoding): a unit-variance Gaussian, i.e.
    half the squared error. Either way the loss is
    summed over events and averaged over units, the scale on which a KL term in
    nats is comparable.

    Parameters
    ----------
    output : torch.Tensor of shape (n, n_events, event_dim)
        Decoder output (logits for two-hot).
    target : torch.Tensor of shape (n, n_events, 2)
        Integer ``(pitch, inter-onset ms)`` events for two-hot output, the
        continuous encoding for continuous output.

    Examples
    --------
    >>> import torch
    >>> events = torch.tensor([[[60, 100]]])
    >>> perfect = torch.full((1, 1, 272), -50.)
    >>> perfect[0, 0, [36, 82]] = 50.
    >>> reconstruction_loss(perfect, events).item()
    0.0
    """
    n_units = len(output)
    if target.is_floating_point():
        return 0.5 * (output - target).square().sum() / n_units
    pitch_bin, ioi_bin = two_hot_bins(target)
    pitch_logits = output[..., :N_PITCH_BINS].flatten(0, -2)
    ioi_logits = output[..., N_PITCH_BINS:].flatten(0, -2)
    nll = F.cross_entropy(pitch_logits, pitch_bin.flatten(), reduction="sum")
    nll = nll + F.cross_entropy(ioi_logits, ioi_bin.flatten(), reduction="sum")
    return nll / n_units


class ReconstructionLoss(torch.nn.Module):
    """:func:`reconstruction_loss` as a criterion module (skorch's ``criterion``).

    Examples
    --------
    >>> import torch
    >>> ReconstructionLoss()(torch.zeros(2, 3, 2), torch.ones(2, 3, 2)).item()
    3.0
    """

    def forward(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return reconstruction_loss(output, target)


def kl_to_standard_normal(mean: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    """KL divergence of N(mean, exp(log_var)) from N(0, I), summed over dimensions
    and averaged over rows.

    Examples
    --------
    >>> import torch
    >>> kl_to_standard_normal(torch.zeros(3, 4), torch.zeros(3, 4)).item()
    0.0
    """
    kl = 0.5 * (mean.square() + log_var.exp() - 1.0 - log_var).sum(-1)
    return kl.mean()


def prior_discriminator_loss(
    real_logits: torch.Tensor, fake_logits: torch.Tensor
) -> torch.Tensor:
    """Binary cross-entropy of a discriminator told prior samples (1) from
    embeddings (0).

    Examples
    --------
    >>> import torch
    >>> round(prior_discriminator_loss(torch.zeros(4), torch.zeros(4)).item(), 4)
    1.3863
    """
    bce = F.binary_cross_entropy_with_logits
    real = bce(real_logits, torch.ones_like(real_logits))
    fake = bce(fake_logits, torch.zeros_like(fake_logits))
    return real + fake


def prior_generator_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """Non-saturating generator loss: make the discriminator call embeddings prior
    samples.

    Examples
    --------
    >>> import torch
    >>> round(prior_generator_loss(torch.zeros(4)).item(), 4)
    0.6931
    """
    return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))


def nt_xent_loss(
    first: torch.Tensor, second: torch.Tensor, temperature: float = 0.1
) -> torch.Tensor:
    """NT-Xent (normalised temperature-scaled cross-entropy, SimCLR) of paired views.

    Row ``i`` of ``first`` and row ``i`` of ``second`` are two views of one
    item (a positive pair). Every one of the ``2n`` views is classified among
    the other ``2n - 1`` by cosine similarity over ``temperature``: its partner
    is the right answer, the ``2n - 2`` views of the other items are in-batch
    negatives. The loss is the mean cross-entropy over all ``2n`` views.

    Parameters
    ----------
    first, second : torch.Tensor of shape (n, dim)
        The two views (projections), ``n >= 2``.
    temperature : float, default=0.1
        Softmax temperature (> 0); smaller values weigh hard negatives more.

    Returns
    -------
    torch.Tensor
        Scalar loss.

    Examples
    --------
    >>> import torch
    >>> a = torch.eye(2)
    >>> round(nt_xent_loss(a, a, temperature=1.0).item(), 4)
    0.5514
    """
    n = len(first)
    z = F.normalize(torch.cat([first, second]).float(), dim=1)
    logits = z @ z.T / temperature
    self_pair = torch.eye(2 * n, dtype=torch.bool, device=z.device)
    logits = logits.masked_fill(self_pair, float("-inf"))
    partner = torch.cat([torch.arange(n, 2 * n), torch.arange(n)]).to(z.device)
    return F.cross_entropy(logits, partner)


class NTXentLoss(torch.nn.Module):
    """:func:`nt_xent_loss` as a criterion module (skorch's ``criterion``).

    Parameters
    ----------
    temperature : float, default=0.1
        Softmax temperature.

    Examples
    --------
    >>> import torch
    >>> round(NTXentLoss(temperature=1.0)(torch.eye(2), torch.eye(2)).item(), 4)
    0.5514
    """

    def __init__(self, temperature: float = 0.1) -> None:
        super().__init__()
        self.temperature = temperature

    def forward(self, first: torch.Tensor, second: torch.Tensor) -> torch.Tensor:
        return nt_xent_loss(first, second, self.temperature)
