"""Embedding estimators: fit on units, transform them into dense vectors.

The six methods of Bretan & Heck (2019) on 40-note units, all with the same
event encoder: :class:`VAEEmbedder`, :class:`AAEEmbedder`, :class:`DSSMEmbedder`,
:class:`AdjDEmbedder`, and the adversarial :class:`ADSSMEmbedder` and
:class:`AAdjDEmbedder` (``adversarial=True`` on the DSSM and AdjD).

:class:`ContrastiveEmbedder` goes beyond the papers: NT-Xent over neighbours and
performed versions of each unit (:class:`~sklearn_musemb.units.PerformanceModel`),
the package's choice for retrieval that survives real performances.

The seven piano-roll models of Bretan et al. (2017) on 4-beat units, all with the
same tied-weight convolutional autoencoder (:mod:`.piano_roll`):
:class:`DenoisingRollEmbedder` (three corruptions), :class:`ContextRollEmbedder`
(next unit or both neighbours), :class:`ComposerRollEmbedder` and
:class:`RegularizedRollEmbedder`.

The audio embedders take feature maps (:mod:`sklearn_musemb.audio`):
:class:`TagTripletEmbedder` (Schindler & Knees 2019: triplets chosen by LSI tag
relatedness) and :class:`ConditionalSimilarityEmbedder` (paper 002: a conditional
similarity network with one masked sub-space per musical dimension).
"""

from .adjacency import AAdjDEmbedder, ADjDEmbedder, AdjDEmbedder
from .audio import AudioEmbedder
from .autoencoders import AAEEmbedder, VAEEmbedder
from .base import NetEmbedder, UnitEmbedder
from .conditional import ConditionalSimilarityEmbedder
from .contrastive import ContrastiveEmbedder
from .dssm import ADSSMEmbedder, DSSMEmbedder
from .piano_roll import (
    ComposerRollEmbedder,
    ContextRollEmbedder,
    DenoisingRollEmbedder,
    RegularizedRollEmbedder,
    RollEmbedder,
)
from .tag_triplet import TagTripletEmbedder

__all__ = [
    "AAEEmbedder",
    "AAdjDEmbedder",
    "ADSSMEmbedder",
    "ADjDEmbedder",
    "AdjDEmbedder",
    "AudioEmbedder",
    "ComposerRollEmbedder",
    "ConditionalSimilarityEmbedder",
    "ContextRollEmbedder",
    "ContrastiveEmbedder",
    "DSSMEmbedder",
    "DenoisingRollEmbedder",
    "NetEmbedder",
    "RegularizedRollEmbedder",
    "RollEmbedder",
    "TagTripletEmbedder",
    "UnitEmbedder",
    "VAEEmbedder",
]
