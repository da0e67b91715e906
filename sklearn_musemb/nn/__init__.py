"""PyTorch modules: encoders, decoders, heads, discriminators and losses."""

from .adjacency import AdjacencyNet
from .autoencoder import AutoencoderNet
from .decoder import EventDecoder
from .discriminator import PriorDiscriminator
from .encoder import EventEncoder, ResidualLinear
from .heads import PairClassifier

__all__ = [
    "AdjacencyNet",
    "AutoencoderNet",
    "EventDecoder",
    "EventEncoder",
    "PairClassifier",
    "PriorDiscriminator",
    "ResidualLinear",
]
