"""The tied-weight convolutional autoencoder of Bretan et al. (2017), section 4.

:class:`RollEncoder` maps a piano roll (60 pitches x 96 ticks by default) to the
embedding: convolutions, the first with a 12 x 6 kernel (one octave by a sixteenth
note) at a stride of its own size, later ones at strides half their kernel, then
fully connected layers; every hidden layer is followed by batch norm and ELU.
:class:`TiedRollDecoder` runs the same layers backwards with the *transposed
encoder weights* (``W' = W^T``): it owns only its biases and batch norms, so a
change to an encoder weight changes the decoder. :class:`RollNet` puts them together
with an optional composer head on the embedding.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

#: The encoder's default convolutions, ``(kernel_pitches, kernel_ticks)`` each: the
#: paper's 12 x 6 first kernel (stride 12 x 6), then kernels strided by half.
DEFAULT_KERNELS = ((12, 6), (2, 4), (2, 2), (2, 2))


def conv_strides(kernels: Sequence[Sequence[int]]) -> list[tuple[int, int]]:
    """Strides of the encoder's convolutions: the first kernel's own size, then half.

    Examples
    --------
    >>> conv_strides([(12, 6), (2, 4), (2, 2)])
    [(12, 6), (1, 2), (1, 1)]
    """
    strides = [tuple(int(k) for k in kernels[0])]
    strides += [tuple(max(1, int(k) // 2) for k in kernel) for kernel in kernels[1:]]
    return strides


def _conv_out(size: int, kernel: int, stride: int) -> int:
    return (size - kernel) // stride + 1


class RollEncoder(nn.Module):
    """Convolutional encoder of piano rolls into an embedding (the paper's Fig. 1).

    Parameters
    ----------
    n_pitches, n_ticks : int, default=60, 96
        Height and width of the input roll.
    embedding_dim : int, default=100
        Size of the embedding (the last fully connected layer, linear).
    channels : sequence of int, default=(32, 64, 64, 128)
        Feature maps of each convolution; as many as ``kernels``.
    kernels : sequence of (int, int), default=DEFAULT_KERNELS
        Kernel of each convolution; strides follow :func:`conv_strides`.
    hidden_dims : sequence of int, default=(512, 256)
        Fully connected layers between the convolutions and the embedding (the
        paper has three fully connected layers in all: two hidden, one out).

    Raises
    ------
    ValueError
        If ``channels`` and ``kernels`` differ in length or a convolution leaves
        no output.

    Examples
    --------
    >>> import torch
    >>> enc = RollEncoder(embedding_dim=8, channels=(4, 4, 4, 4), hidden_dims=(16,))
    >>> enc(torch.zeros(3, 60, 96)).shape
    torch.Size([3, 8])
    >>> enc.conv_shapes[-1]
    (2, 5)
    """

    def __init__(
        self,
        n_pitches: int = 60,
        n_ticks: int = 96,
        embedding_dim: int = 100,
        channels: Sequence[int] = (32, 64, 64, 128),
        kernels: Sequence[Sequence[int]] = DEFAULT_KERNELS,
        hidden_dims: Sequence[int] = (512, 256),
    ) -> None:
        super().__init__()
        if len(channels) != len(kernels) or not kernels:
            raise ValueError(
                f"channels ({len(channels)}) and kernels ({len(kernels)}) must give "
                "one entry per convolution, at least one"
            )
        if any(int(k) < 1 for kernel in kernels for k in kernel):
            raise ValueError(f"kernel sizes must be positive, got {list(kernels)}")
        self.strides = conv_strides(kernels)
        #: (height, width) of the input and of every convolution's output.
        self.conv_shapes: list[tuple[int, int]] = [(n_pitches, n_ticks)]
        self.convs, self.conv_norms = nn.ModuleList(), nn.ModuleList()
        in_channels = 1
        for out_channels, kernel, stride in zip(
            channels, kernels, self.strides, strict=True
        ):
            kernel = tuple(int(k) for k in kernel)
            height, width = self.conv_shapes[-1]
            shape = (
                _conv_out(height, kernel[0], stride[0]),
                _conv_out(width, kernel[1], stride[1]),
            )
            if min(shape) < 1:
                raise ValueError(
                    f"a {kernel} kernel at stride {stride} does not fit a "
                    f"{height} x {width} input; use smaller kernels or a larger roll"
                )
            self.conv_shapes.append(shape)
            self.convs.append(nn.Conv2d(in_channels, out_channels, kernel, stride))
            self.conv_norms.append(nn.BatchNorm2d(out_channels))
            in_channels = out_channels
        self.flat_dim = in_channels * shape[0] * shape[1]
        widths = [self.flat_dim, *hidden_dims, embedding_dim]
        self.fcs = nn.ModuleList(
            nn.Linear(a, b) for a, b in zip(widths[:-1], widths[1:], strict=True)
        )
        self.fc_norms = nn.ModuleList(nn.BatchNorm1d(b) for b in hidden_dims)

    def forward(self, roll: torch.Tensor) -> torch.Tensor:
        h = roll.unsqueeze(1)
        for conv, norm in zip(self.convs, self.conv_norms, strict=True):
            h = F.elu(norm(conv(h)))
        h = h.flatten(1)
        for fc, norm in zip(self.fcs[:-1], self.fc_norms, strict=True):
            h = F.elu(norm(fc(h)))
        return self.fcs[-1](h)


class TiedRollDecoder(nn.Module):
    """Decoder that reuses a :class:`RollEncoder`'s weights, transposed (``W' = W^T``).

    Every fully connected layer runs as ``h W`` (the encoder's ``W h`` transposed)
    and every convolution as the transposed convolution with the same kernel
    tensor and stride. Only the biases (of the layer's output side) and the batch
    norms are the decoder's own. Hidden layers use batch norm and ELU like the
    encoder; the output roll is linear (the paper's cosine loss does not care
    about its scale).

    The encoder is passed to :meth:`forward` rather than stored, so its weights
    are held once (in ``state_dict`` and in the optimizer).

    Parameters
    ----------
    encoder : RollEncoder
        The encoder whose layout (not weights) the decoder mirrors.

    Examples
    --------
    >>> import torch
    >>> enc = RollEncoder(embedding_dim=8, channels=(4, 4, 4, 4), hidden_dims=(16,))
    >>> dec = TiedRollDecoder(enc)
    >>> dec(torch.zeros(3, 8), enc).shape
    torch.Size([3, 60, 96])
    >>> n_params = lambda m: sum(p.numel() for p in m.parameters())
    >>> n_params(dec) < n_params(enc) // 4  # biases and batch norms only
    True
    """

    def __init__(self, encoder: RollEncoder) -> None:
        super().__init__()
        self.fc_biases = nn.ParameterList(
            nn.Parameter(torch.zeros(fc.in_features)) for fc in encoder.fcs
        )
        self.fc_norms = nn.ModuleList(
            nn.BatchNorm1d(fc.in_features) for fc in encoder.fcs
        )
        self.conv_biases = nn.ParameterList(
            nn.Parameter(torch.zeros(conv.in_channels)) for conv in encoder.convs
        )
        # the first convolution's input is the roll itself: no norm there
        self.conv_norms = nn.ModuleList(
            nn.BatchNorm2d(conv.in_channels) for conv in list(encoder.convs)[1:]
        )
        shapes, strides = encoder.conv_shapes, encoder.strides
        # A strided convolution drops the input's last rows when (size - kernel)
        # is not a multiple of the stride; output_padding puts them back.
        self.output_padding = []
        for conv, stride, (h_in, w_in), (h_out, w_out) in zip(
            encoder.convs, strides, shapes[:-1], shapes[1:], strict=True
        ):
            kernel = conv.kernel_size
            self.output_padding.append(
                (
                    h_in - ((h_out - 1) * stride[0] + kernel[0]),
                    w_in - ((w_out - 1) * stride[1] + kernel[1]),
                )
            )
        self.last_conv_shape = (encoder.convs[-1].out_channels, *shapes[-1])

    def forward(self, h: torch.Tensor, encoder: RollEncoder) -> torch.Tensor:
        fcs = list(encoder.fcs)
        for i in reversed(range(len(fcs))):
            h = F.elu(
                self.fc_norms[i](F.linear(h, fcs[i].weight.t(), self.fc_biases[i]))
            )
        h = h.view(-1, *self.last_conv_shape)
        for i in reversed(range(len(encoder.convs))):
            conv = encoder.convs[i]
            h = F.conv_transpose2d(
                h,
                conv.weight,
                self.conv_biases[i],
                stride=conv.stride,
                output_padding=self.output_padding[i],
            )
            if i > 0:
                h = F.elu(self.conv_norms[i - 1](h))
        return h.squeeze(1)


class RollNet(nn.Module):
    """Encoder, optional tied decoder and optional composer head (Bretan et al. 2017).

    - ``decoder=True, n_classes=0``: the denoising, next-unit and context models;
    - ``decoder=False, n_classes=k``: the composer model (embedding -> softmax);
    - ``decoder=True, n_classes=k``: the regularized model (embedding -> hidden
      layer of ``classifier_hidden_dim`` ELU units -> softmax, beside the decoder).

    Parameters
    ----------
    n_pitches, n_ticks, embedding_dim, channels, kernels, hidden_dims
        As in :class:`RollEncoder`.
    decoder : bool, default=True
        Build the tied decoder.
    n_classes : int, default=0
        Classes of the composer head; 0 for none.
    classifier_hidden_dim : int or None, default=None
        Hidden ELU layer of the head; ``None`` puts the softmax directly on the
        embedding.

    Examples
    --------
    >>> import torch
    >>> net = RollNet(embedding_dim=8, channels=(4, 4, 4, 4), hidden_dims=(16,),
    ...               n_classes=3, classifier_hidden_dim=5)
    >>> h = net.embed(torch.zeros(2, 60, 96))
    >>> net.decode(h).shape, net.classify(h).shape
    (torch.Size([2, 60, 96]), torch.Size([2, 3]))
    """

    def __init__(
        self,
        n_pitches: int = 60,
        n_ticks: int = 96,
        embedding_dim: int = 100,
        channels: Sequence[int] = (32, 64, 64, 128),
        kernels: Sequence[Sequence[int]] = DEFAULT_KERNELS,
        hidden_dims: Sequence[int] = (512, 256),
        decoder: bool = True,
        n_classes: int = 0,
        classifier_hidden_dim: int | None = None,
    ) -> None:
        super().__init__()
        self.encoder = RollEncoder(
            n_pitches, n_ticks, embedding_dim, channels, kernels, hidden_dims
        )
        self.decoder = TiedRollDecoder(self.encoder) if decoder else None
        if n_classes and classifier_hidden_dim:
            self.classifier = nn.Sequential(
                nn.Linear(embedding_dim, classifier_hidden_dim),
                nn.ELU(),
                nn.Linear(classifier_hidden_dim, n_classes),
            )
        elif n_classes:
            self.classifier = nn.Linear(embedding_dim, n_classes)
        else:
            self.classifier = None

    def embed(self, roll: torch.Tensor) -> torch.Tensor:
        return self.encoder(roll)

    def decode(self, embedding: torch.Tensor) -> torch.Tensor:
        if self.decoder is None:
            raise RuntimeError("this RollNet was built with decoder=False")
        return self.decoder(embedding, self.encoder)

    def classify(self, embedding: torch.Tensor) -> torch.Tensor:
        if self.classifier is None:
            raise RuntimeError("this RollNet was built with n_classes=0")
        return self.classifier(embedding)

    def forward(self, roll: torch.Tensor) -> torch.Tensor:
        return self.embed(roll)
