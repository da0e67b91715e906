"""Figures of embeddings and of their evaluation, drawn with matplotlib.

- :func:`plot_embedding_map`: a 2-D map of embeddings (UMAP, t-SNE or PCA),
  coloured by label;
- :func:`plot_rank_distributions`: box plots of the rank distributions of several
  methods (e.g. :func:`~sklearn_musemb.metrics.adjacency_ranks`);
- :func:`plot_dimension_radar`: a radar chart of per-dimension scores (e.g. the
  triplet score of each musical dimension) for one or several models;
- :func:`plot_training_curves`: the per-epoch losses (and other figures) of a
  fitted embedder's skorch history.

Each function draws on the matplotlib ``Axes`` given as ``ax`` (a new figure
otherwise) and returns it, so figures can be combined and restyled afterwards.
matplotlib (and umap-learn, for UMAP maps) are optional dependencies, imported
only when a function is called: ``pip install "sklearn-musemb[plot]"``.
"""

from .embedding_map import plot_embedding_map
from .history import plot_training_curves
from .radar import plot_dimension_radar
from .ranks import plot_rank_distributions

__all__ = [
    "plot_dimension_radar",
    "plot_embedding_map",
    "plot_rank_distributions",
    "plot_training_curves",
]
