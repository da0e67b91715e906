"""
Which musical dimensions does an embedding capture?
===================================================

The triplet score of a dimension is the fraction of triplets (anchor, similar,
dissimilar) in which the embedding puts the anchor closer to the unit that is
similar along that dimension, 0.5 being chance. Here each 40-note unit of music21's
Bach, Haydn and Mozart gets four labels: its composer, and terciles of its register
(mean pitch), its pace (notes per second) and its texture (the fraction of notes
sounding together with another).
:func:`~sklearn_musemb.metrics.sample_dimension_triplets` draws triplets of each
dimension (similar and dissimilar units always from other pieces than the
anchor's), :func:`~sklearn_musemb.metrics.triplet_score` scores two embeddings on
them, and :func:`~sklearn_musemb.plotting.plot_dimension_radar` draws one polygon
per embedding. The audio models' scores per musical dimension
(:func:`~sklearn_musemb.metrics.subspace_scores`) are drawn the same way.
"""

import matplotlib.pyplot as plt
import numpy as np
from _corpus import QUICK
from sklearn.preprocessing import StandardScaler

from sklearn_musemb import HandcraftedFeatures, load_music21_corpus, segment_notes
from sklearn_musemb.embedders import AdjDEmbedder
from sklearn_musemb.metrics import sample_dimension_triplets, triplet_score
from sklearn_musemb.plotting import plot_dimension_radar

corpus = load_music21_corpus(
    ["bach", "haydn", "mozart"], max_pieces_per_composer=2 if QUICK else 4
)
units = segment_notes(corpus.pieces, labels=corpus.labels, piece_ids=corpus.piece_ids)

# %%
# Four labels per unit
# --------------------
# The register, pace and texture labels come from three of the handcrafted
# descriptors, cut at their terciles.
handcrafted = HandcraftedFeatures().fit(units)
descriptors = handcrafted.transform(units)
column = dict(zip(handcrafted.get_feature_names_out(), descriptors.T))


def terciles(values: np.ndarray, names: list[str]) -> np.ndarray:
    """``names[k]`` for the values in the k-th tercile."""
    edges = np.quantile(values, [1 / 3, 2 / 3])
    return np.asarray(names)[np.digitize(values, edges)]


dimensions = {
    "composer": units.labels,
    "register": terciles(column["pitch_mean"], ["low", "middle", "high"]),
    "pace": terciles(column["note_density"], ["slow", "medium", "fast"]),
    "texture": terciles(
        column["simultaneous_fraction"], ["linear", "mixed", "chordal"]
    ),
}

# %%
# Triplet scores of two embeddings
# --------------------------------
triplets = sample_dimension_triplets(
    dimensions, n_triplets=300 if QUICK else 2000, groups=units.piece, random_state=0
)
adjd = AdjDEmbedder(
    embedding_dim=16,
    max_epochs=3 if QUICK else 6,
    module__hidden_dim=32,
    batch_size=32,
    random_state=0,
)
embeddings = {
    "handcrafted features": StandardScaler().fit_transform(descriptors),
    "AdjD": adjd.fit_transform(units),
}
scores = {
    name: {dim: triplet_score(Z, t) for dim, t in triplets.items()}
    for name, Z in embeddings.items()
}
print(f"{'':>22}" + "".join(f"{dim:>10}" for dim in triplets))
for name, row in scores.items():
    print(f"{name:>22}" + "".join(f"{score:>10.3f}" for score in row.values()))

# %%
# The radar chart
# ---------------
# Read each spoke against the dashed circle, chance (0.5): the further out, the
# better the embedding orders units along that dimension. The three descriptors
# the labels were cut from are only three of the 45 standardised columns, so even
# the handcrafted embedding is far from perfect on those dimensions.
ax = plot_dimension_radar(scores, title="Triplet score per dimension")
ax.figure.tight_layout()
plt.show()
