"""The embedding methods the ``musemb`` command trains, by short name."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from typing import Any


@dataclass(frozen=True)
class Method:
    """A trainable method: its class, the units it takes, whether it needs labels."""

    name: str
    class_name: str
    units: str  # "notes" (segment_notes) or "beats" (segment_beats)
    supervised: bool = False
    summary: str = ""

    @property
    def estimator_class(self) -> type:
        return getattr(import_module("sklearn_musemb.embedders"), self.class_name)

    def make(self, **params: Any) -> Any:
        return self.estimator_class(**params)


METHODS = {
    m.name: m
    for m in (
        Method(
            "contrastive", "ContrastiveEmbedder", "notes",
            summary="contrastive (NT-Xent), robust to performance timing",
        ),
        Method("adjd", "AdjDEmbedder", "notes", summary="adjacency discriminator"),
        Method("a-adjd", "AAdjDEmbedder", "notes", summary="AdjD + adversarial prior"),
        Method("dssm", "DSSMEmbedder", "notes", summary="deep structured semantic"),
        Method("a-dssm", "ADSSMEmbedder", "notes", summary="DSSM + adversarial prior"),
        Method("vae", "VAEEmbedder", "notes", summary="variational autoencoder"),
        Method("aae", "AAEEmbedder", "notes", summary="adversarial autoencoder"),
        Method(
            "denoising-roll", "DenoisingRollEmbedder", "beats",
            summary="denoising piano-roll autoencoder",
        ),
        Method(
            "context-roll", "ContextRollEmbedder", "beats",
            summary="predicts neighbouring piano-roll units",
        ),
        Method(
            "composer-roll", "ComposerRollEmbedder", "beats", supervised=True,
            summary="supervised by composer labels",
        ),
        Method(
            "regularized-roll", "RegularizedRollEmbedder", "beats", supervised=True,
            summary="context + composer, regularised",
        ),
    )
}  # fmt: skip


#: The method ``musemb fit`` trains when ``--method`` is not given; its help says
#: why (:data:`DEFAULT_METHOD_REASON`).
DEFAULT_METHOD = "contrastive"
#: Why :data:`DEFAULT_METHOD` is the default, as ``musemb fit --help`` says it.
DEFAULT_METHOD_REASON = (
    "the most robust to tempo, chord spread and timing jitter in "
    "benchmarks/results/cpu/robustness"
)


def get_method(name: str) -> Method:
    """The method called ``name`` (short name or class name, any case)."""
    key = name.lower()
    for method in METHODS.values():
        if key in (method.name, method.class_name.lower()):
            return method
    raise ValueError(
        f"unknown method {name!r}; choose one of {', '.join(METHODS)} "
        "(audio methods are trained from Python, see docs/methods-audio.md)"
    )
