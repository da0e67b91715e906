"""Embedding estimators: fit on units, transform them into dense vectors."""

from .adjacency import ADjDEmbedder, AdjDEmbedder
from .base import UnitEmbedder

__all__ = ["ADjDEmbedder", "AdjDEmbedder", "UnitEmbedder"]
