"""Embedding estimators: fit on units, transform them into dense vectors.

The six methods of Bretan & Heck (2019) on 40-note units, all with the same
event encoder: :class:`VAEEmbedder`, :class:`AAEEmbedder`, :class:`DSSMEmbedder`,
:class:`AdjDEmbedder`, and the adversarial :class:`ADSSMEmbedder` and
:class:`AAdjDEmbedder` (``adversarial=True`` on the DSSM and AdjD).

The seven piano-roll models of Bretan et al. (2017) on 4-beat units, all with the
same tied-weight convolutional autoencoder (:mod:`.piano_roll`):
:class:`DenoisingRollEmbedder` (three corruptions), :class:`ContextRollEmbedder`
(next unit or both neighbours), :class:`ComposerRollEmbedder` and
:class:`RegularizedRollEmbedder`.
"""

from .adjacency import AAdjDEmbedder, ADjDEmbedder, AdjDEmbedder
from .autoencoders import AAEEmbedder, VAEEmbedder
from .base import NetEmbedder, UnitEmbedder
from .dssm import ADSSMEmbedder, DSSMEmbedder
from .piano_roll import (
    ComposerRollEmbedder,
    ContextRollEmbedder,
    DenoisingRollEmbedder,
    RegularizedRollEmbedder,
    RollEmbedder,
)

__all__ = [
    "AAEEmbedder",
    "AAdjDEmbedder",
    "ADSSMEmbedder",
    "ADjDEmbedder",
    "AdjDEmbedder",
    "ComposerRollEmbedder",
    "ContextRollEmbedder",
    "DSSMEmbedder",
    "DenoisingRollEmbedder",
    "NetEmbedder",
    "RegularizedRollEmbedder",
    "RollEmbedder",
    "UnitEmbedder",
    "VAEEmbedder",
]
