"""PyTorch modules: encoders, decoders, heads, discriminators, sequence models and
losses."""

from .adjacency import AdjacencyNet
from .autoencoder import AutoencoderNet
from .decoder import EventDecoder
from .discriminator import PriorDiscriminator
from .encoder import EventEncoder, ResidualLinear
from .heads import PairClassifier
from .sequence import CosineDistanceLoss, EmbeddingLSTM

__all__ = [
    "AdjacencyNet",
    "AutoencoderNet",
    "CosineDistanceLoss",
    "EmbeddingLSTM",
    "EventDecoder",
    "EventEncoder",
    "PairClassifier",
    "PriorDiscriminator",
    "ResidualLinear",
]
