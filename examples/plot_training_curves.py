"""
Training curves of an adversarial AdjD
======================================

Every embedder keeps skorch's per-epoch history in ``history_``: the training loss
and, with a validation split (``train_split``), the validation loss, plus the
figures each model adds (here the pair accuracy of the adjacency classifier and the
discriminator and generator losses of the adversary that pushes the embeddings
towards N(0, I)). :func:`~sklearn_musemb.plotting.plot_training_curves` draws the
losses by default, or the history keys it is given, against the epoch; training and
validation curves of the same figure share a colour, validation dashed.
"""

import matplotlib.pyplot as plt
from _corpus import QUICK
from skorch.dataset import ValidSplit

from sklearn_musemb import load_music21_corpus, segment_notes
from sklearn_musemb.embedders import AAdjDEmbedder
from sklearn_musemb.plotting import plot_training_curves

corpus = load_music21_corpus(
    ["bach", "haydn", "mozart"], max_pieces_per_composer=2 if QUICK else 4
)
units = segment_notes(corpus.pieces, labels=corpus.labels, piece_ids=corpus.piece_ids)

# %%
# An A-AdjD with a validation split
# ---------------------------------
# One fifth of the adjacent pairs is kept for validation.
model = AAdjDEmbedder(
    embedding_dim=16,
    max_epochs=5 if QUICK else 10,
    lr=3e-3,
    module__hidden_dim=32,
    batch_size=32,
    train_split=ValidSplit(0.2, random_state=0),
    random_state=0,
).fit(units)
print(sorted(key for key in model.history_[-1] if key.endswith(("loss", "accuracy"))))

# %%
# Losses and accuracies
# ---------------------
fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
plot_training_curves(model, ax=left)
plot_training_curves(
    model, keys=["train_pair_accuracy", "valid_pair_accuracy"], ax=right
)
right.set_title("adjacent-pair accuracy")
fig.tight_layout()
plt.show()
