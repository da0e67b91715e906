"""PyTorch modules: encoders, heads and the networks the embedders train."""

from .adjacency import AdjacencyNet
from .encoder import EventEncoder, ResidualLinear
from .heads import PairClassifier

__all__ = ["AdjacencyNet", "EventEncoder", "PairClassifier", "ResidualLinear"]
