"""AdjD end to end on real music: music21's corpus always, piano-midi when present.

Kept CPU-light through ordinary parameters (a few pieces, a few epochs).
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import PIANO_MIDI_ROOT
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline

from sklearn_musemb import (
    ADjDEmbedder,
    AdjDEmbedder,
    load_midi_corpus,
    load_music21_corpus,
    piece_train_test_split,
    segment_notes,
)

LIGHT = {"max_epochs": 2, "random_state": 0, "module__hidden_dim": 64}


@pytest.fixture(scope="module")
def piano_units():
    if not PIANO_MIDI_ROOT.is_dir():
        pytest.skip(f"piano-midi corpus not found at {PIANO_MIDI_ROOT}")
    corpus = load_midi_corpus(PIANO_MIDI_ROOT)
    keep = np.isin(corpus.labels, ["Chopin", "Bach", "Mozart"])
    pieces = [p for p, k in zip(corpus.pieces, keep) if k]
    return segment_notes(
        pieces, labels=corpus.labels[keep], piece_ids=corpus.piece_ids[keep]
    )


def test_design_card_pipeline_runs_verbatim_on_piano_midi(piano_units):
    X_train, X_test = piece_train_test_split(piano_units, random_state=0)
    y = X_train.labels
    pipe = Pipeline([("emb", ADjDEmbedder()), ("clf", MLPClassifier())])
    # CPU-light for CI through ordinary parameters; the full-size run is
    # benchmarks/adjd_piano_midi.py.
    pipe.set_params(emb__max_epochs=1, emb__random_state=0, clf__max_iter=50)
    pipe.fit(X_train, y)
    predicted = pipe.predict(X_test)
    assert predicted.shape == (len(X_test),)
    assert set(predicted) <= {"Chopin", "Bach", "Mozart"}


@pytest.mark.parametrize("representation", ["two_hot", "continuous"])
def test_adjd_learns_adjacency_on_piano_midi(piano_units, representation):
    """The pair classifier must leave chance (0.5) within a few epochs on real
    music; a broken encoder initialisation once kept two-hot at 0.50."""
    emb = AdjDEmbedder(representation=representation, max_epochs=4, random_state=0).fit(
        piano_units
    )
    accuracy = [row["train_pair_accuracy"] for row in emb.history_]
    assert accuracy[-1] > 0.56, accuracy  # chance is 0.5 +- 0.006 here
    Z = emb.transform(piano_units)
    assert Z.std(axis=0).mean() > 0.1  # embeddings are not collapsed


def test_adjd_on_music21_corpus(tmp_path):
    corpus = load_music21_corpus(
        composers=("bach", "haydn"), max_pieces_per_composer=2, cache_dir=tmp_path
    )
    units = segment_notes(
        corpus.pieces, labels=corpus.labels, piece_ids=corpus.piece_ids
    )
    assert set(units.labels) == {"bach", "haydn"}
    Z = AdjDEmbedder(**LIGHT).fit_transform(units)
    assert Z.shape == (len(units), 32)
    assert np.isfinite(Z).all()
