"""The tied-weight convolutional autoencoder of Bretan et al. (2017) as torch modules.

Shapes (default 60 x 96 rolls and a layout that needs ``output_padding``), the tied
weights (``W' = W^T``: the decoder owns only biases and batch norms, reads the
encoder's weights, and sends its gradients there), and the layout checks.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from sklearn_musemb.nn.piano_roll import (
    DEFAULT_KERNELS,
    RollEncoder,
    RollNet,
    TiedRollDecoder,
    conv_strides,
)

SMALL = {"embedding_dim": 8, "channels": (3, 4, 5, 6), "hidden_dims": (16, 7)}

#: A 40 x 50 roll whose kernels leave remainders: (40 - 12) % 12 = 4 and
#: (50 - 6) % 6 = 2 in the first convolution, (8 - 5) % 2 = 1 in the second.
ODD_LAYOUT = {
    "n_pitches": 40,
    "n_ticks": 50,
    "embedding_dim": 6,
    "channels": (3, 4),
    "kernels": ((12, 6), (2, 5)),
    "hidden_dims": (10,),
}


def make_net(**kwargs) -> RollNet:
    torch.manual_seed(0)
    return RollNet(**{**SMALL, **kwargs})


# -------------------------------------------------------------------- strides
def test_conv_strides_first_kernel_own_size_then_half():
    assert conv_strides(DEFAULT_KERNELS) == [(12, 6), (1, 2), (1, 1), (1, 1)]
    # a 1-wide kernel still moves by one
    assert conv_strides([(4, 4), (1, 3), (6, 1)]) == [(4, 4), (1, 1), (3, 1)]


def test_encoder_strides_and_shapes_follow_the_kernels():
    enc = RollEncoder(**SMALL)
    assert enc.strides == conv_strides(DEFAULT_KERNELS)
    assert [conv.stride for conv in enc.convs] == enc.strides
    assert [conv.kernel_size for conv in enc.convs] == list(DEFAULT_KERNELS)
    # 60 x 96: 12 x 6 at stride 12 x 6 -> 5 x 16, then (2, 4) at (1, 2) -> 4 x 7,
    # then (2, 2) at (1, 1) twice -> 3 x 6 -> 2 x 5
    assert enc.conv_shapes == [(60, 96), (5, 16), (4, 7), (3, 6), (2, 5)]
    assert enc.flat_dim == 6 * 2 * 5
    assert [fc.in_features for fc in enc.fcs] == [60, 16, 7]
    assert [fc.out_features for fc in enc.fcs] == [16, 7, 8]


# --------------------------------------------------------------------- shapes
def test_default_roll_shapes_through_embed_decode_classify():
    net = make_net(n_classes=3, classifier_hidden_dim=5)
    roll = (torch.rand(4, 60, 96) < 0.05).float()
    h = net.embed(roll)
    assert h.shape == (4, 8)
    assert torch.equal(net(roll), h)  # forward is the embedding
    assert net.decode(h).shape == (4, 60, 96)
    assert net.classify(h).shape == (4, 3)
    assert isinstance(net.classifier, nn.Sequential)  # hidden ELU layer, then out
    assert net.classifier[0].out_features == 5


def test_paper_default_layout_embeds_into_100_dimensions():
    net = RollNet()
    net.eval()
    h = net.embed(torch.zeros(2, 60, 96))
    assert h.shape == (2, 100)
    assert net.decode(h).shape == (2, 60, 96)
    assert [conv.out_channels for conv in net.encoder.convs] == [32, 64, 64, 128]
    assert [fc.out_features for fc in net.encoder.fcs] == [512, 256, 100]


def test_classifier_without_hidden_layer_is_one_linear_map():
    net = make_net(n_classes=4)
    assert isinstance(net.classifier, nn.Linear)
    assert (net.classifier.in_features, net.classifier.out_features) == (8, 4)


def test_non_default_roll_needs_output_padding_and_gets_its_shape_back():
    net = make_net(**ODD_LAYOUT)
    enc, dec = net.encoder, net.decoder
    assert enc.conv_shapes == [(40, 50), (3, 8), (2, 2)]
    # the rows and columns each strided convolution drops are put back
    assert dec.output_padding == [(4, 2), (0, 1)]
    roll = (torch.rand(5, 40, 50) < 0.1).float()
    h = net.embed(roll)
    assert h.shape == (5, 6)
    assert net.decode(h).shape == (5, 40, 50)


@pytest.mark.parametrize(
    "n_pitches, n_ticks, kernels",
    [
        (60, 96, DEFAULT_KERNELS),
        (48, 96, ((12, 6), (2, 4))),
        (36, 47, ((12, 5), (3, 3), (1, 2))),
        (25, 31, ((5, 7), (3, 3))),
    ],
)
def test_decoder_output_matches_the_input_roll_for_many_layouts(
    n_pitches, n_ticks, kernels
):
    net = make_net(
        n_pitches=n_pitches,
        n_ticks=n_ticks,
        channels=(2,) * len(kernels),
        kernels=kernels,
        hidden_dims=(6,),
    )
    out = net.decode(net.embed(torch.rand(3, n_pitches, n_ticks)))
    assert out.shape == (3, n_pitches, n_ticks)
    # output_padding must stay below the stride (torch refuses it otherwise)
    for (ph, pw), (sh, sw) in zip(
        net.decoder.output_padding, net.encoder.strides, strict=True
    ):
        assert 0 <= ph < sh and 0 <= pw < sw


# --------------------------------------------------------------- tied weights
def weight_names(module: nn.Module) -> list[str]:
    return [name for name, p in module.named_parameters() if p.dim() > 1]


def test_decoder_owns_no_weight_tensors_only_biases_and_batch_norms():
    net = make_net()
    dec = net.decoder
    # every parameter of the decoder is a vector: a bias or a batch-norm scale/shift
    assert all(p.dim() == 1 for p in dec.parameters())
    owners = {
        name.rsplit(".", 1)[0]
        for name, _ in dec.named_parameters(remove_duplicate=False)
    }
    for owner in owners:
        module = dec.get_submodule(owner)
        assert isinstance(module, nn.BatchNorm1d | nn.BatchNorm2d | nn.ParameterList), (
            owner
        )
    assert not weight_names(dec)
    # far fewer numbers than the encoder it mirrors
    n_dec = sum(p.numel() for p in dec.parameters())
    n_enc = sum(p.numel() for p in net.encoder.parameters())
    assert n_dec < n_enc // 4
    # the encoder is not stored inside the decoder
    assert not any(isinstance(m, RollEncoder) for m in dec.modules())


def test_encoder_weights_appear_once_in_parameters_and_state_dict():
    net = make_net()
    enc = net.encoder
    expected = [f"encoder.convs.{i}.weight" for i in range(len(enc.convs))] + [
        f"encoder.fcs.{i}.weight" for i in range(len(enc.fcs))
    ]
    # with duplicates kept, the only matrices / kernels are the encoder's, once each
    names = [
        name for name, p in net.named_parameters(remove_duplicate=False) if p.dim() > 1
    ]
    assert sorted(names) == sorted(expected)
    state = net.state_dict()
    assert sorted(k for k, v in state.items() if v.dim() > 1) == sorted(expected)
    # no tensor of the state dict shares storage with another
    pointers = [v.data_ptr() for v in state.values() if v.numel()]
    assert len(pointers) == len(set(pointers))
    # and the optimizer would see each encoder weight once
    all_params = list(net.parameters())
    assert sum(p is enc.convs[0].weight for p in all_params) == 1
    assert sum(p is enc.fcs[0].weight for p in all_params) == 1


def _decode_fixed(net: RollNet, h: torch.Tensor) -> torch.Tensor:
    net.eval()
    with torch.no_grad():
        return net.decode(h)


@pytest.mark.parametrize("layer", ["convs.0", "convs.1", "convs.3"])
def test_changing_an_encoder_conv_kernel_changes_the_decoder(layer):
    net = make_net(n_classes=2)
    h = torch.randn(4, 8, generator=torch.Generator().manual_seed(1))
    before = _decode_fixed(net, h)
    with torch.no_grad():
        net.encoder.get_submodule(layer).weight.mul_(-1.5)
    after = _decode_fixed(net, h)
    assert after.shape == before.shape
    assert not torch.allclose(before, after, atol=1e-4)


@pytest.mark.parametrize("layer", ["fcs.0", "fcs.1", "fcs.2"])
def test_changing_an_encoder_fc_weight_changes_the_decoder(layer):
    net = make_net(n_classes=2)
    h = torch.randn(4, 8, generator=torch.Generator().manual_seed(1))
    before = _decode_fixed(net, h)
    with torch.no_grad():
        net.encoder.get_submodule(layer).weight.mul_(-1.5)
    assert not torch.allclose(before, _decode_fixed(net, h), atol=1e-4)


def test_decoder_ignores_what_it_does_not_share():
    # control for the two tests above: the encoder's biases and batch norms and the
    # classifier are not the decoder's, so changing them leaves decode unchanged
    net = make_net(n_classes=2, classifier_hidden_dim=3)
    h = torch.randn(4, 8, generator=torch.Generator().manual_seed(1))
    before = _decode_fixed(net, h)
    with torch.no_grad():
        for name, p in net.named_parameters():
            if not name.startswith("decoder.") and not name.endswith("weight"):
                p.add_(1.0)  # encoder biases and classifier biases
        for norm in [*net.encoder.conv_norms, *net.encoder.fc_norms]:
            norm.weight.mul_(3.0)
        net.classifier[0].weight.mul_(-2.0)
    torch.testing.assert_close(_decode_fixed(net, h), before)


def test_decoder_applies_the_transposed_encoder_weights():
    """One convolution, one linear layer: decode is exactly ``convT(elu(bn(h W)))``.

    The transposed convolution is computed independently as the adjoint of the
    encoder's convolution (the gradient of ``<conv(x), y>`` with respect to ``x``).
    """
    torch.manual_seed(0)
    net = RollNet(
        n_pitches=24, n_ticks=12, embedding_dim=5, channels=(3,),
        kernels=((12, 6),), hidden_dims=(),
    )  # fmt: skip
    net.eval()
    conv, fc = net.encoder.convs[0], net.encoder.fcs[0]
    dec = net.decoder
    with torch.no_grad():
        for p in dec.parameters():  # random decoder biases and norms, to be used
            p.copy_(torch.randn_like(p) * 0.3 + 1.0)
    h = torch.randn(4, 5)
    norm = dec.fc_norms[0]
    hidden = F.elu(norm(h @ fc.weight + dec.fc_biases[0]))  # W' = W^T: h W
    y = hidden.view(4, 3, 2, 2)
    x = torch.zeros(4, 1, 24, 12, requires_grad=True)
    (
        F.conv2d(x, conv.weight.detach(), stride=conv.stride) * y.detach()
    ).sum().backward()
    expected = x.grad.squeeze(1) + dec.conv_biases[0].detach()
    with torch.no_grad():
        torch.testing.assert_close(net.decode(h), expected, atol=1e-5, rtol=1e-5)


def test_gradients_of_a_decoder_only_loss_reach_the_encoder_weights():
    net = make_net()
    net.train()
    h = torch.randn(6, 8)  # a fixed embedding: the encoder's forward is not used
    target = (torch.rand(6, 60, 96) < 0.05).float()
    loss = F.mse_loss(net.decode(h), target)
    loss.backward()
    enc = net.encoder
    for layer in [*enc.convs, *enc.fcs]:
        assert layer.weight.grad is not None
        assert layer.weight.grad.abs().sum() > 0
        # the encoder's own biases play no part in decoding
        assert layer.bias.grad is None
    for norm in [*enc.conv_norms, *enc.fc_norms]:
        assert norm.weight.grad is None
    # and the decoder's own biases learn too
    assert all(b.grad is not None for b in net.decoder.fc_biases)
    assert all(b.grad is not None for b in net.decoder.conv_biases)


def test_one_optimizer_step_on_the_decoder_loss_moves_the_encoder_weights():
    net = make_net()
    net.train()
    before = net.encoder.fcs[0].weight.detach().clone()
    conv_before = net.encoder.convs[2].weight.detach().clone()
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    h = torch.randn(6, 8)
    net.decode(h).pow(2).mean().backward()
    opt.step()
    assert not torch.equal(before, net.encoder.fcs[0].weight)
    assert not torch.equal(conv_before, net.encoder.convs[2].weight)


def test_tied_decoder_can_be_built_from_an_encoder_alone():
    enc = RollEncoder(**SMALL)
    dec = TiedRollDecoder(enc)
    enc.eval()
    dec.eval()
    out = dec(enc(torch.rand(2, 60, 96)), enc)
    assert out.shape == (2, 60, 96)
    assert dec.last_conv_shape == (6, 2, 5)
    # the first convolution's input is the roll: no batch norm there
    assert len(dec.conv_norms) == len(enc.convs) - 1
    assert [b.numel() for b in dec.conv_biases] == [1, 3, 4, 5]
    assert [b.numel() for b in dec.fc_biases] == [60, 16, 7]


# ------------------------------------------------------------ invalid layouts
@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"channels": (4, 4, 4)}, r"channels \(3\) and kernels \(4\)"),
        ({"channels": (4,), "kernels": ((12, 6), (2, 2))}, r"channels \(1\)"),
        ({"channels": (), "kernels": ()}, "at least one"),
        # 12 x 6 at stride 12 x 6 on 60 x 96 -> 5 x 16; a 6-row kernel cannot fit
        ({"channels": (4, 4), "kernels": ((12, 6), (6, 2))}, "does not fit"),
        ({"n_pitches": 10, "channels": (4,), "kernels": ((12, 6),)}, "does not fit"),
        ({"n_ticks": 5, "channels": (4,), "kernels": ((12, 6),)}, "does not fit"),
    ],
)
def test_invalid_layouts_raise_value_error(kwargs, match):
    with pytest.raises(ValueError, match=match):
        RollEncoder(**{**SMALL, **kwargs})
    with pytest.raises(ValueError, match=match):
        RollNet(**{**SMALL, **kwargs})


def test_layout_error_names_kernel_stride_and_input():
    with pytest.raises(
        ValueError, match=r"\(2, 20\) kernel at stride \(1, 10\) does not fit a 5 x 16"
    ):
        RollEncoder(channels=(2, 2), kernels=((12, 6), (2, 20)))


@pytest.mark.filterwarnings("ignore:Initializing zero-element tensors:UserWarning")
@pytest.mark.parametrize("kernels", [((0, 6),), ((12, 6), (0, 2))])
def test_zero_size_kernel_raises_value_error(kernels):
    with pytest.raises(ValueError, match="kernel sizes must be positive"):
        RollEncoder(channels=(2,) * len(kernels), kernels=kernels)


def test_decode_and_classify_refuse_when_not_built():
    net = make_net(decoder=False, n_classes=3)
    assert net.decoder is None
    h = net.embed(torch.zeros(2, 60, 96))
    with pytest.raises(RuntimeError, match="decoder=False"):
        net.decode(h)
    assert net.classify(h).shape == (2, 3)

    net = make_net()  # decoder, no classes
    assert net.classifier is None
    h = net.embed(torch.zeros(2, 60, 96))
    with pytest.raises(RuntimeError, match="n_classes=0"):
        net.classify(h)
    assert net.decode(h).shape == (2, 60, 96)
