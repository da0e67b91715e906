"""TimeBudget: training stops on a wall-clock or a step budget, mid-epoch."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone

from sklearn_musemb.callbacks import TimeBudget
from sklearn_musemb.embedders import AdjDEmbedder
from sklearn_musemb.units.container import Units

LIGHT = {"batch_size": 8, "random_state": 0, "module__hidden_dim": 8}


def _units(n=64, n_events=6):
    rng = np.random.default_rng(0)
    events = np.stack(
        [rng.integers(40, 90, (n, n_events)), rng.integers(0, 600, (n, n_events))],
        axis=-1,
    ).astype(np.int16)
    return Units(events, piece=np.repeat([0, 1], n // 2))


def test_step_budget_stops_mid_epoch_after_exactly_max_steps():
    budget = TimeBudget(seconds=None, max_steps=5)
    emb = AdjDEmbedder(max_epochs=50, callbacks=[budget], **LIGHT).fit(_units())
    # 62 pairs / batch 8 = 8 batches per epoch: 5 steps end inside epoch 1
    assert budget.steps_ == 5
    assert budget.stopped_early_
    assert len(emb.history_) == 1


def test_step_budget_larger_than_training_does_not_stop():
    budget = TimeBudget(seconds=None, max_steps=10_000)
    AdjDEmbedder(max_epochs=2, callbacks=[budget], **LIGHT).fit(_units())
    assert budget.steps_ == 16  # 2 epochs x 8 batches
    assert not budget.stopped_early_


def test_whichever_budget_runs_out_first_stops():
    budget = TimeBudget(seconds=1e9, max_steps=3)
    AdjDEmbedder(max_epochs=50, callbacks=[budget], **LIGHT).fit(_units())
    assert (budget.steps_, budget.stopped_early_) == (3, True)
    budget = TimeBudget(seconds=0.0, max_steps=1000)
    AdjDEmbedder(max_epochs=50, callbacks=[budget], **LIGHT).fit(_units())
    assert (budget.steps_, budget.stopped_early_) == (1, True)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"seconds": None}, "give seconds, max_steps or both"),
        ({"seconds": float("nan")}, "seconds"),
        ({"seconds": None, "max_steps": 0}, "max_steps"),
        ({"seconds": None, "max_steps": 2.5}, "max_steps"),
    ],
)
def test_bad_budgets_are_refused_naming_the_parameter(kwargs, match):
    emb = AdjDEmbedder(max_epochs=1, callbacks=[TimeBudget(**kwargs)], **LIGHT)
    with pytest.raises(ValueError, match=match):
        emb.fit(_units())


def test_embedder_with_a_used_budget_clones():
    budget = TimeBudget(seconds=None, max_steps=2)
    emb = AdjDEmbedder(max_epochs=1, callbacks=[budget], **LIGHT).fit(_units())
    copy = clone(emb)
    assert copy.callbacks[0].get_params() == {"seconds": None, "max_steps": 2}
