"""
Map of AdjD embeddings by composer
==================================

An :class:`~sklearn_musemb.embedders.AdjDEmbedder` learns, without any label, which
40-note units of a piece follow each other. Does its embedding also group the units
of a composer together? :func:`~sklearn_musemb.plotting.plot_embedding_map` projects
the embeddings of units of Bach chorales and of Haydn and Mozart string quartets
(music21's bundled corpus) to two dimensions, UMAP when umap-learn is installed and
t-SNE otherwise, and colours them by composer. The handcrafted descriptors of the
same units (:class:`~sklearn_musemb.HandcraftedFeatures`, no learning) are mapped
next to it for comparison.
"""

import matplotlib.pyplot as plt
from _corpus import QUICK
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_musemb import HandcraftedFeatures, load_music21_corpus, segment_notes
from sklearn_musemb.embedders import AdjDEmbedder
from sklearn_musemb.plotting import plot_embedding_map

# %%
# Units of three composers
# ------------------------
# music21's scores are converted to MIDI once and cached; each piece is then cut
# into units of 40 notes. ``SKLEARN_MUSEMB_QUICK=1`` (the documentation build)
# loads fewer pieces and trains for fewer epochs.
corpus = load_music21_corpus(
    ["bach", "haydn", "mozart"], max_pieces_per_composer=2 if QUICK else 4
)
units = segment_notes(corpus.pieces, labels=corpus.labels, piece_ids=corpus.piece_ids)
print(f"{len(units)} units of {len(corpus.pieces)} pieces")

# %%
# Two embeddings of the same units
# --------------------------------
# A small AdjD (16 dimensions) and the standardised handcrafted descriptors.
adjd = AdjDEmbedder(
    embedding_dim=16,
    max_epochs=3 if QUICK else 6,
    module__hidden_dim=32,
    batch_size=32,
    random_state=0,
)
embeddings = adjd.fit_transform(units)
handcrafted = make_pipeline(HandcraftedFeatures(), StandardScaler())
descriptors = handcrafted.fit_transform(units)

# %%
# The maps
# --------
# Each call draws on its own ``ax`` and returns it; the title names the projection
# that was used.
fig, (left, right) = plt.subplots(1, 2, figsize=(11, 5))
plot_embedding_map(descriptors, units.labels, ax=left, random_state=0)
left.set_title(f"Handcrafted features\n{left.get_title()}")
plot_embedding_map(embeddings, units.labels, ax=right, random_state=0)
right.set_title(f"AdjD embeddings\n{right.get_title()}")
fig.tight_layout()
plt.show()
