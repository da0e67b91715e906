"""PyTorch modules: encoders, decoders, heads, discriminators, sequence models and
losses."""

from .adjacency import AdjacencyNet
from .autoencoder import AutoencoderNet
from .contrastive import ContrastiveNet
from .decoder import EventDecoder
from .discriminator import PriorDiscriminator
from .encoder import ConvEventEncoder, EventEncoder, ResidualLinear
from .heads import PairClassifier
from .sequence import CosineDistanceLoss, EmbeddingLSTM

__all__ = [
    "AdjacencyNet",
    "AutoencoderNet",
    "ContrastiveNet",
    "ConvEventEncoder",
    "CosineDistanceLoss",
    "EmbeddingLSTM",
    "EventDecoder",
    "EventEncoder",
    "PairClassifier",
    "PriorDiscriminator",
    "ResidualLinear",
]
