"""Embedding estimators: fit on units, transform them into dense vectors.

The six methods of Bretan & Heck (2019) on 40-note units, all with the same
event encoder: :class:`VAEEmbedder`, :class:`AAEEmbedder`, :class:`DSSMEmbedder`,
:class:`AdjDEmbedder`, and the adversarial :class:`ADSSMEmbedder` and
:class:`AAdjDEmbedder` (``adversarial=True`` on the DSSM and AdjD).
"""

from .adjacency import AAdjDEmbedder, ADjDEmbedder, AdjDEmbedder
from .autoencoders import AAEEmbedder, VAEEmbedder
from .base import UnitEmbedder
from .dssm import ADSSMEmbedder, DSSMEmbedder

__all__ = [
    "AAEEmbedder",
    "AAdjDEmbedder",
    "ADSSMEmbedder",
    "ADjDEmbedder",
    "AdjDEmbedder",
    "DSSMEmbedder",
    "UnitEmbedder",
    "VAEEmbedder",
]
