"""The training losses and the small networks of the Bretan & Heck methods.

Every loss is checked against an independent reference (NumPy by hand, or
torch.distributions / torch's BCE), never against itself.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy.special import log_softmax

from sklearn_musemb.encodings import two_hot_bins
from sklearn_musemb.nn import AutoencoderNet, EventDecoder, PriorDiscriminator
from sklearn_musemb.nn.losses import (
    ReconstructionLoss,
    dssm_logits,
    euclidean_similarity,
    kl_to_standard_normal,
    prior_discriminator_loss,
    prior_generator_loss,
    reconstruction_loss,
)


def _rng(seed=0):
    return np.random.default_rng(seed)


def _tensor(array):
    return torch.as_tensor(np.asarray(array, dtype=np.float32))


# -- euclidean_similarity and the DSSM logits ------------------------------------------


def test_euclidean_similarity_matches_numpy_reference():
    a, b = _rng().normal(size=(2, 7, 5))
    expected = 1.0 / (1.0 + np.linalg.norm(a - b, axis=1))
    got = euclidean_similarity(_tensor(a), _tensor(b)).numpy()
    assert got.shape == (7,)
    np.testing.assert_allclose(got, expected, rtol=1e-5)
    # identical rows are maximally similar, distant rows nearly dissimilar
    same = euclidean_similarity(_tensor(a), _tensor(a))
    np.testing.assert_allclose(same, 1.0, rtol=1e-5)
    far = euclidean_similarity(torch.zeros(1, 2), torch.tensor([[3e4, 4e4]]))
    np.testing.assert_allclose(far.numpy(), [1.0 / 50_001], rtol=1e-5)


def test_euclidean_similarity_gradient_is_finite_where_points_meet():
    a = torch.tensor([[1.0, -2.0, 0.5], [0.0, 0.0, 0.0]], requires_grad=True)
    b = a.detach().clone()
    euclidean_similarity(a, b).sum().backward()
    assert torch.isfinite(a.grad).all()
    # and it is the true gradient where the points differ
    a = torch.tensor([[3.0, 4.0]], requires_grad=True)
    euclidean_similarity(a, torch.zeros(1, 2)).sum().backward()
    # d/da 1 / (1 + |a|) = -a / (|a| (1 + |a|)^2) = -a / 180
    np.testing.assert_allclose(a.grad.numpy(), [[-3 / 180, -4 / 180]], rtol=1e-5)


def test_dssm_logits_shape_positive_first_and_cross_entropy():
    rng = _rng(1)
    n, k, d = 5, 3, 4
    query, positive = rng.normal(size=(2, n, d))
    negatives = rng.normal(size=(n, k, d))
    logits = dssm_logits(_tensor(query), _tensor(positive), _tensor(negatives))
    assert logits.shape == (n, 1 + k)

    candidates = np.concatenate([positive[:, None], negatives], axis=1)
    distance = np.linalg.norm(candidates - query[:, None], axis=-1)
    expected = 1.0 / (1.0 + distance)
    np.testing.assert_allclose(logits.numpy(), expected, rtol=1e-5)
    # column 0 is the positive: it is the largest logit exactly when the
    # positive is the nearest candidate
    near = _tensor(query) + 1e-3
    best = dssm_logits(_tensor(query), near, _tensor(negatives)).argmax(1)
    assert (best == 0).all()

    ce = F.cross_entropy(logits, torch.zeros(n, dtype=torch.long)).item()
    by_hand = -np.mean(log_softmax(expected, axis=1)[:, 0])
    assert ce == pytest.approx(by_hand, rel=1e-5)


def test_dssm_scale_multiplies_the_logits():
    rng = _rng(2)
    q, p = _tensor(rng.normal(size=(4, 3))), _tensor(rng.normal(size=(4, 3)))
    neg = _tensor(rng.normal(size=(4, 2, 3)))
    plain = dssm_logits(q, p, neg)
    scaled = dssm_logits(q, p, neg, scale=10.0)
    np.testing.assert_allclose(scaled, 10 * plain, rtol=1e-6)
    # a larger scale sharpens the softmax: lower loss when the positive is nearest
    target = torch.zeros(4, dtype=torch.long)
    p_near = q + 0.01
    loss_1 = F.cross_entropy(dssm_logits(q, p_near, neg), target)
    loss_10 = F.cross_entropy(dssm_logits(q, p_near, neg, scale=10.0), target)
    assert loss_10 < loss_1


# -- reconstruction --------------------------------------------------------------------


def _fold(pitch):
    while pitch < 24:
        pitch += 12
    while pitch >= 96:
        pitch -= 12
    return pitch


def test_two_hot_reconstruction_is_summed_cross_entropy_per_unit():
    rng = _rng(3)
    # pitches 10 and 100 lie outside 24..95 and fold by octaves (to 34 and 88);
    # 2500 ms is past the last 10 ms bin and is clipped to bin 199
    events = np.array(
        [[[60, 33], [10, 0], [100, 2500]], [[24, 1999], [95, 5], [127, 120]]]
    )
    output = rng.normal(scale=2.0, size=(2, 3, 272))
    got = reconstruction_loss(_tensor(output), torch.as_tensor(events)).item()

    total = 0.0
    for unit, logits in zip(events, output, strict=True):
        for (pitch, ioi), row in zip(unit, logits, strict=True):
            pitch_bin = _fold(pitch) - 24
            ioi_bin = min(ioi // 10, 199)
            total -= log_softmax(row[:72])[pitch_bin]
            total -= log_softmax(row[72:])[ioi_bin]
    assert got == pytest.approx(total / 2, rel=1e-5)
    # the package folds 10 and 100 to the same bins as the reference above
    assert two_hot_bins(torch.tensor([[[10, 0], [100, 0]]]))[0].tolist() == [[10, 64]]

    # folding is by octaves, not clipping: 10 scores like 34, not like 24
    folded = events.copy()
    folded[0, 1, 0] = 34
    clipped = events.copy()
    clipped[0, 1, 0] = 24
    same = reconstruction_loss(_tensor(output), torch.as_tensor(folded)).item()
    other = reconstruction_loss(_tensor(output), torch.as_tensor(clipped)).item()
    assert got == pytest.approx(same, rel=1e-6)
    assert got != pytest.approx(other, rel=1e-6)


def test_two_hot_reconstruction_is_averaged_over_units_not_events():
    events = torch.tensor([[[60, 100]] * 4])  # one unit of 4 events
    flat = torch.zeros(1, 4, 272)  # uniform logits
    per_event = np.log(72) + np.log(200)
    assert reconstruction_loss(flat, events).item() == pytest.approx(4 * per_event)
    two_units = reconstruction_loss(flat.repeat(2, 1, 1), events.repeat(2, 1, 1))
    assert two_units.item() == pytest.approx(4 * per_event)


def test_continuous_reconstruction_is_half_squared_error_per_unit():
    rng = _rng(4)
    output, target = rng.normal(size=(2, 5, 6, 2))
    expected = 0.5 * np.sum((output - target) ** 2) / 5
    got = reconstruction_loss(_tensor(output), _tensor(target)).item()
    assert got == pytest.approx(expected, rel=1e-5)
    module = ReconstructionLoss()(_tensor(output), _tensor(target)).item()
    assert module == pytest.approx(expected, rel=1e-5)


# -- KL and the adversarial prior ------------------------------------------------------


def test_kl_to_standard_normal_matches_torch_distributions():
    rng = _rng(5)
    mean = _tensor(rng.normal(scale=1.5, size=(6, 4)))
    log_var = _tensor(rng.normal(scale=0.8, size=(6, 4)))
    posterior = torch.distributions.Normal(mean, (0.5 * log_var).exp())
    prior = torch.distributions.Normal(torch.zeros(6, 4), torch.ones(6, 4))
    expected = torch.distributions.kl_divergence(posterior, prior).sum(-1).mean()
    got = kl_to_standard_normal(mean, log_var)
    assert got.item() == pytest.approx(expected.item(), rel=1e-5)
    assert got.item() > 0.5  # non-trivial


def test_prior_discriminator_loss_is_bce_real_ones_fake_zeros():
    rng = _rng(6)
    real, fake = rng.normal(scale=2.0, size=(2, 9))

    def log_sigmoid(x):
        return -np.log1p(np.exp(-x))

    expected = -np.mean(log_sigmoid(real)) - np.mean(log_sigmoid(-fake))
    got = prior_discriminator_loss(_tensor(real), _tensor(fake)).item()
    assert got == pytest.approx(expected, rel=1e-5)
    gen = prior_generator_loss(_tensor(fake)).item()
    assert gen == pytest.approx(-np.mean(log_sigmoid(fake)), rel=1e-5)


def test_prior_discriminator_loss_is_minimised_by_telling_real_from_fake():
    big, small = torch.full((4,), 10.0), torch.full((4,), -10.0)
    right = prior_discriminator_loss(big, small).item()
    undecided = prior_discriminator_loss(torch.zeros(4), torch.zeros(4)).item()
    wrong = prior_discriminator_loss(small, big).item()
    assert right < 1e-3 < undecided < wrong
    real = torch.zeros(4, requires_grad=True)
    fake = torch.zeros(4, requires_grad=True)
    prior_discriminator_loss(real, fake).backward()
    assert (real.grad < 0).all() and (fake.grad > 0).all()
    # the generator wants the opposite: fakes called real
    assert prior_generator_loss(big).item() < 1e-3 < prior_generator_loss(small).item()


# -- small networks --------------------------------------------------------------------


def _linears(module):
    return [m for m in module.modules() if isinstance(m, torch.nn.Linear)]


@pytest.mark.parametrize("n_layers", [1, 2, 4])
def test_prior_discriminator_layers_and_output_shape(n_layers):
    disc = PriorDiscriminator(embedding_dim=6, hidden_dim=9, n_layers=n_layers)
    assert disc(torch.zeros(5, 6)).shape == (5,)
    linears = _linears(disc)
    assert len(linears) == n_layers
    assert linears[0].in_features == 6 and linears[-1].out_features == 1
    if n_layers > 1:
        assert linears[0].out_features == 9


@pytest.mark.parametrize("n_layers", [0, -1])
def test_prior_discriminator_refuses_fewer_than_one_layer(n_layers):
    with pytest.raises(ValueError, match="n_layers must be at least 1"):
        PriorDiscriminator(n_layers=n_layers)


@pytest.mark.parametrize("event_dim", [2, 272])
def test_event_decoder_output_shape_and_depth(event_dim):
    dec = EventDecoder(event_dim, n_events=5, embedding_dim=3, hidden_dim=8, n_layers=4)
    assert dec(torch.zeros(7, 3)).shape == (7, 5, event_dim)
    assert len(_linears(dec)) == 4


@pytest.mark.parametrize("n_layers", [2, 0])
def test_event_decoder_refuses_fewer_than_three_layers(n_layers):
    with pytest.raises(ValueError, match="n_layers must be at least 3"):
        EventDecoder(2, n_events=5, n_layers=n_layers)


def test_variational_autoencoder_net_encodes_mean_and_log_variance():
    torch.manual_seed(0)
    net = AutoencoderNet(
        event_dim=2, n_events=5, embedding_dim=3, variational=True, hidden_dim=8
    )
    x = torch.randn(4, 5, 2)
    mean, log_var = net.encode(x)
    assert mean.shape == log_var.shape == (4, 3)
    assert not torch.equal(mean, log_var)
    torch.testing.assert_close(net.embed(x), mean)
    torch.testing.assert_close(torch.cat([mean, log_var], -1), net.encoder(x))
    # the decoder takes the embedding, not the 2 * embedding_dim encoder output
    assert net.decode(mean).shape == (4, 5, 2)
    torch.testing.assert_close(net(x), net.decode(mean))


def test_plain_autoencoder_net_encodes_a_point_code():
    torch.manual_seed(0)
    net = AutoencoderNet(event_dim=272, n_events=5, embedding_dim=3, hidden_dim=8)
    x = torch.randn(4, 5, 272)
    code, log_var = net.encode(x)
    assert code.shape == (4, 3) and log_var is None
    torch.testing.assert_close(net.embed(x), code)
    assert net(x).shape == (4, 5, 272)
