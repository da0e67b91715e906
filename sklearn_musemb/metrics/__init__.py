"""Evaluation metrics and scorers for unit embeddings.

- :func:`adjacency_ranks` / :func:`adjacency_rank`: rank of a unit's true
  neighbour among random candidates by embedding distance (Bretan & Heck 2019,
  section 4.4; geometric mean, lower is better).
- :func:`make_adjacency_rank_scorer`, :data:`adjacency_rank_scorer`: the same as a
  greater-is-better (negated) scorer for ``GridSearchCV(scoring=...)``.
- :func:`robustness_ranks`, :func:`make_robustness_scorer`: retrieval of units
  played through a :class:`~sklearn_musemb.units.PerformanceModel` (tempo, spread
  chords, rubato, note edits) among all units; MRR, recall@1/10, median rank.
- :func:`compare_rank_distributions`: per-method summaries, pairwise t-tests
  with Bonferroni correction and Levene's test for spread (Bretan et al. 2017).
- :func:`triplet_score`, :func:`precision_at_k`: retrieval measures of the audio
  papers (Dim-Sim triplet agreement; precision@100 over shared labels or tags);
  :func:`make_precision_at_k_scorer` for ``cross_validate``.
- :func:`sample_dimension_triplets`, :func:`subspace_scores`,
  :class:`DimensionTripletScorer`: triplet scores per musical dimension and per
  combination of a conditional similarity network's sub-spaces (paper 002).
"""

from .dimensions import (
    DimensionTripletScorer,
    sample_dimension_triplets,
    subspace_scores,
)
from .ranking import (
    AdjacencyRankScorer,
    adjacency_rank,
    adjacency_rank_scorer,
    adjacency_ranks,
    make_adjacency_rank_scorer,
)
from .retrieval import (
    PrecisionAtKScorer,
    make_precision_at_k_scorer,
    precision_at_k,
    triplet_score,
)
from .robustness import (
    RobustnessScorer,
    make_robustness_scorer,
    retrieval_ranks,
    robustness_ranks,
    summarise_retrieval,
)
from .statistics import compare_rank_distributions

__all__ = [
    "AdjacencyRankScorer",
    "DimensionTripletScorer",
    "PrecisionAtKScorer",
    "RobustnessScorer",
    "adjacency_rank",
    "adjacency_rank_scorer",
    "adjacency_ranks",
    "compare_rank_distributions",
    "make_adjacency_rank_scorer",
    "make_precision_at_k_scorer",
    "make_robustness_scorer",
    "precision_at_k",
    "retrieval_ranks",
    "robustness_ranks",
    "sample_dimension_triplets",
    "subspace_scores",
    "summarise_retrieval",
    "triplet_score",
]
