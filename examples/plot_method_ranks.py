"""
Adjacency ranks of several embedding methods
============================================

Bretan & Heck (2019) score a unit embedding by how close it puts a unit's true
neighbour: among a group of candidates (the neighbour and random units of other
places), the neighbour's rank by distance to the unit, 1 being best.
:func:`~sklearn_musemb.metrics.adjacency_ranks` gives that rank for every unit of
held-out pieces, and :func:`~sklearn_musemb.plotting.plot_rank_distributions` draws
the distribution of each method as a box, with its geometric mean (the paper's
summary) as a diamond. The methods: two small networks trained on the other
pieces (:class:`~sklearn_musemb.embedders.AdjDEmbedder` and
:class:`~sklearn_musemb.embedders.DSSMEmbedder`), the handcrafted descriptors
(:class:`~sklearn_musemb.HandcraftedFeatures`) and random vectors, whose ranks are
uniform.
"""

import matplotlib.pyplot as plt
import numpy as np
from _corpus import QUICK
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_musemb import (
    HandcraftedFeatures,
    load_music21_corpus,
    piece_train_test_split,
    segment_notes,
)
from sklearn_musemb.embedders import AdjDEmbedder, DSSMEmbedder
from sklearn_musemb.metrics import adjacency_ranks
from sklearn_musemb.plotting import plot_rank_distributions

# %%
# Training and held-out pieces
# ----------------------------
# One piece of each composer is held out; the networks never see its units.
corpus = load_music21_corpus(
    ["bach", "haydn", "mozart"], max_pieces_per_composer=2 if QUICK else 4
)
units = segment_notes(corpus.pieces, labels=corpus.labels, piece_ids=corpus.piece_ids)
train, test = piece_train_test_split(units, n_test_pieces=1, random_state=0)
print(f"{len(train)} training units, {len(test)} held-out units")

# %%
# Embeddings of the held-out units
# --------------------------------
small = {
    "embedding_dim": 16,
    "module__hidden_dim": 32,
    "batch_size": 32,
    "random_state": 0,
}
epochs = 3 if QUICK else 6
methods = {
    "AdjD": AdjDEmbedder(max_epochs=epochs, **small),
    "DSSM": DSSMEmbedder(max_epochs=epochs, **small),
    "handcrafted": make_pipeline(HandcraftedFeatures(), StandardScaler()),
}
embeddings = {name: est.fit(train).transform(test) for name, est in methods.items()}
embeddings["random"] = np.random.default_rng(0).normal(size=(len(test), 16))

# %%
# Ranks and their distributions
# -----------------------------
# Every method is ranked on the same candidate groups (same ``random_state``).
# Each group needs ``n_candidates - 1`` units that are not the query's neighbours,
# so small test sets get smaller groups.
n_candidates = min(100, len(test) - 2)
ranks = {
    name: adjacency_ranks(Z, test, n_candidates=n_candidates, random_state=0)
    for name, Z in embeddings.items()
}
for name, values in ranks.items():
    print(f"{name:>12}: geometric mean rank {np.exp(np.log(values).mean()):.2f}")

ax = plot_rank_distributions(
    ranks,
    xlabel=f"rank of the true neighbour among {n_candidates} candidates",
    title="Adjacency ranks on held-out pieces",
)
ax.figure.tight_layout()
plt.show()
