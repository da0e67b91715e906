"""Device encodings: exact bins, folding, padding and shapes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sklearn_musemb.encodings import (
    TWO_HOT_DIM,
    continuous,
    event_dim,
    piano_roll,
    two_hot,
)
from sklearn_musemb.nn import AdjacencyNet, EventEncoder
from sklearn_musemb.utils.pitch import fold_pitch


def test_two_hot_bins_are_exact():
    events = torch.tensor([[[24, 0], [95, 9], [60, 33], [96, 1999], [23, 5000]]])
    x = two_hot(events)
    assert x.shape == (1, 5, TWO_HOT_DIM) and x.dtype == torch.float32
    hot = [row.nonzero().flatten().tolist() for row in x[0]]
    # pitch bin = pitch - 24 after octave folding; interval bin = 72 + ms // 10
    assert hot == [[0, 72], [71, 72], [36, 75], [60, 72 + 199], [11, 72 + 199]]
    assert torch.all(x.sum(-1) == 2)


def test_fold_pitch_keeps_pitch_class_and_range():
    pitch = np.arange(0, 128)
    folded = fold_pitch(pitch, 24, 96)
    assert folded.min() >= 24 and folded.max() <= 95
    np.testing.assert_array_equal(folded % 12, pitch % 12)
    np.testing.assert_array_equal(folded[24:96], pitch[24:96])
    with pytest.raises(ValueError, match="multiple of 12"):
        fold_pitch(pitch, 24, 90)


def test_continuous_standardises():
    events = torch.tensor([[[60, 100], [72, 300]]])
    x = continuous(events, torch.tensor([66.0, 200.0]), torch.tensor([6.0, 100.0]))
    assert x.tolist() == [[[-1.0, -1.0], [1.0, 1.0]]]


def test_event_dim_rejects_unknown_representation():
    assert event_dim("two_hot") == 272 and event_dim("continuous") == 2
    with pytest.raises(ValueError, match="'piano'"):
        event_dim("piano")


def test_piano_roll_places_onsets_and_ignores_padding():
    events = torch.tensor(
        [
            [[36, 0], [95, 95], [30, 10], [-1, -1]],
            [[60, 48], [-1, -1], [-1, -1], [-1, -1]],
        ]
    )
    roll = piano_roll(events)
    assert roll.shape == (2, 60, 96)
    assert roll[0].sum() == 3 and roll[1].sum() == 1
    assert roll[0, 0, 0] == 1 and roll[0, 59, 95] == 1
    assert roll[0, 42 - 36, 10] == 1  # 30 folds up an octave to 42
    assert roll[1, 24, 48] == 1


def test_piano_roll_is_binary_for_repeated_onsets_and_empty_units():
    events = torch.tensor(
        [
            [[60, 5], [60, 5], [96, 5], [84, 5]],  # 96 folds onto 84
            [[48, 5], [36, 5], [-1, -1], [-1, -1]],
            [[-1, -1], [-1, -1], [-1, -1], [-1, -1]],
        ]
    )
    roll = piano_roll(events)
    assert roll.max() == 1
    assert roll.sum(dim=(1, 2)).tolist() == [2.0, 2.0, 0.0]
    assert roll[0, 60 - 36, 5] == 1 and roll[0, 84 - 36, 5] == 1
    assert roll[1, 48 - 36, 5] == 1 and roll[1, 0, 5] == 1
    with pytest.raises(ValueError, match="tick 5 is outside a unit of n_ticks=4"):
        piano_roll(events, n_ticks=4)


def test_piano_roll_rejects_ticks_outside_the_unit():
    with pytest.raises(ValueError, match="n_ticks=96"):
        piano_roll(torch.tensor([[[60, 96]]]))


@pytest.mark.parametrize("dim", [272, 2])
def test_encoder_shapes_and_layer_count(dim):
    enc = EventEncoder(dim, 40, embedding_dim=32, hidden_dim=64)
    assert enc(torch.zeros(3, 40, dim)).shape == (3, 32)
    weight_layers = [m for m in enc.modules() if isinstance(m, torch.nn.Linear)]
    assert len(weight_layers) == 8  # the paper's eight layers
    with pytest.raises(ValueError, match="at least 3"):
        EventEncoder(dim, 40, n_layers=2)


def test_event_layer_is_a_convolution_with_kernel_equal_stride():
    enc = EventEncoder(TWO_HOT_DIM, 4, event_channels=8, hidden_dim=8)
    x = two_hot(
        torch.tensor(
            [
                [[60, 33], [62, 250], [64, 0], [96, 5000]],
                [[24, 10], [95, 1999], [48, 500], [60, 33]],
            ]
        )
    )
    seen = {}

    def record(module, inputs, output):
        seen["input"], seen["output"] = inputs[0], output

    handle = enc.event_conv.register_forward_hook(record)
    try:
        enc(x)
    finally:
        handle.remove()
    # the encoder feeds the events themselves, one 272-wide event per step
    assert seen["input"].shape == (2, 4, TWO_HOT_DIM)
    torch.testing.assert_close(seen["input"], x)
    assert enc.event_conv.weight.shape == (8, TWO_HOT_DIM)
    # ... and its output is the strided convolution of the flat two-hot sequence
    conv = torch.nn.functional.conv1d(
        x.reshape(2, 1, -1),
        enc.event_conv.weight[:, None, :],
        enc.event_conv.bias,
        stride=TWO_HOT_DIM,
    )
    torch.testing.assert_close(seen["output"], conv.transpose(1, 2))


def test_adjacency_net_ties_the_towers():
    net = AdjacencyNet(event_dim=2, n_events=4, hidden_dim=8)
    encoders = [m for m in net.modules() if isinstance(m, EventEncoder)]
    assert len(encoders) == 1 and encoders[0] is net.encoder
    params = {id(p) for p in net.parameters()}
    tower = {id(p) for p in net.encoder.parameters()}
    head = {id(p) for p in net.classifier.parameters()}
    assert params == tower | head and not tower & head
    # both units of a pair go through that one encoder
    calls = []
    handle = net.encoder.register_forward_hook(lambda m, i, o: calls.append(i[0]))
    a, b = torch.rand(5, 4, 2), torch.rand(5, 4, 2)
    try:
        net(a, b)
    finally:
        handle.remove()
    assert len(calls) == 2 and calls[0] is a and calls[1] is b
