"""Downstream tasks of Bretan & Heck (2019) and Bretan et al. (2017).

Each task is a target computed from the units plus a probe trained on embeddings,
so it runs inside ``cross_validate``/``GridSearchCV`` behind an embedder step with
piece-grouped folds (``docs/tasks.md``, ``docs/forward-prediction.md``):

- composer classification: :func:`make_composer_probe`, scored by
  :data:`COMPOSER_SCORING` (macro, micro and weighted F1);
- chroma prediction: :func:`unit_chroma`, :class:`ChromaProbe`,
  :func:`chroma_cosine` / :data:`chroma_cosine_scorer`;
- note density: :func:`unit_duration`, :func:`make_density_probe`, scored by
  :data:`DENSITY_SCORING` (RMSE in seconds);
- forward prediction: :func:`unit_order`, :class:`ForwardPredictor`,
  :func:`forward_prediction_rank(s) <forward_prediction_ranks>`.

The torch-based parts (:mod:`.chroma`, :mod:`.forward`) are imported on first use
(PEP 562), so the targets and sklearn probes load without torch.
"""

from ..utils.lazy import lazy_attributes
from .composer import COMPOSER_SCORING, make_composer_probe
from .density import DENSITY_SCORING, make_density_probe
from .targets import unit_chroma, unit_duration

#: Public names served lazily, with the submodule that defines them.
_LAZY = {
    "ChromaNet": ".chroma",
    "ChromaProbe": ".chroma",
    "chroma_cosine": ".chroma",
    "chroma_cosine_scorer": ".chroma",
    "chroma_cosines": ".chroma",
    "ForwardPredictor": ".forward",
    "forward_prediction_rank": ".forward",
    "forward_prediction_ranks": ".forward",
    "sequence_windows": ".forward",
    "unit_order": ".forward",
}

__all__ = [
    "COMPOSER_SCORING",
    "ChromaNet",
    "ChromaProbe",
    "DENSITY_SCORING",
    "ForwardPredictor",
    "chroma_cosine",
    "chroma_cosine_scorer",
    "chroma_cosines",
    "forward_prediction_rank",
    "forward_prediction_ranks",
    "make_composer_probe",
    "make_density_probe",
    "sequence_windows",
    "unit_chroma",
    "unit_duration",
    "unit_order",
]


__getattr__, __dir__ = lazy_attributes(__name__, _LAZY, globals())
