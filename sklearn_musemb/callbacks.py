"""skorch callbacks for the embedders."""

from __future__ import annotations

import time
from typing import Any

from skorch.callbacks import Callback

from .utils.validation import check_finite_number, check_positive_int


class TimeBudget(Callback):
    """Stop training once a wall-clock or step budget is spent, even in mid-epoch.

    skorch stops at epoch ends only (``EarlyStopping``); on a large corpus one epoch
    can take minutes, so this callback checks the clock after every training
    batch and ends ``fit`` the way skorch's own early stopping does (skorch catches
    the ``KeyboardInterrupt`` and finishes ``fit`` normally). The budget covers one
    call of ``fit`` or ``partial_fit``. The training steps taken are counted in
    ``steps_``, and ``stopped_early_`` tells whether the budget ran out.

    Parameters
    ----------
    seconds : float
        Wall-clock training time allowed per call of ``fit``.

    Attributes
    ----------
    steps_ : int
        Training batches run in the last ``fit``.
    stopped_early_ : bool
        Whether the last ``fit`` ended because the budget ran out.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_musemb.callbacks import TimeBudget
    >>> from sklearn_musemb.embedders import AdjDEmbedder
    >>> rng = np.random.default_rng(0)
    >>> X = np.stack([rng.integers(40, 90, (60, 8)),
    ...               rng.integers(0, 600, (60, 8))], axis=-1)
    >>> budget = TimeBudget(seconds=0.0)
    >>> emb = AdjDEmbedder(max_epochs=100, batch_size=8, callbacks=[budget],
    ...                    module__hidden_dim=16, random_state=0).fit(X)
    >>> budget.steps_, budget.stopped_early_
    (1, True)
    >>> budget = TimeBudget(seconds=None, max_steps=3)
    >>> _ = emb.set_params(callbacks=[budget]).fit(X)
    >>> budget.steps_, budget.stopped_early_
    (3, True)
    """

    def __init__(self, seconds: float | None, max_steps: int | None = None) -> None:
        self.seconds = seconds
        self.max_steps = max_steps

    def initialize(self) -> TimeBudget:
        if self.seconds is None and self.max_steps is None:
            raise ValueError("TimeBudget: give seconds, max_steps or both")
        if self.seconds is not None:
            check_finite_number(self.seconds, "seconds", "TimeBudget")
        if self.max_steps is not None:
            check_positive_int(self.max_steps, "max_steps", "TimeBudget")
        return self

    def on_train_begin(self, net: Any, **kwargs: Any) -> None:
        self.steps_ = 0
        self.stopped_early_ = False
        self._start = time.perf_counter()

    def on_batch_end(self, net: Any, training: bool = False, **kwargs: Any) -> None:
        if not training:
            return
        self.steps_ += 1
        out_of_steps = self.max_steps is not None and self.steps_ >= self.max_steps
        out_of_time = (
            self.seconds is not None
            and time.perf_counter() - self._start >= self.seconds
        )
        if out_of_steps or out_of_time:
            self.stopped_early_ = True
            raise KeyboardInterrupt
