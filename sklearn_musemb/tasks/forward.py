"""Forward prediction: an LSTM predicts the next unit's embedding from the last ones.

Bretan & Heck (2019, section 4.4) train two stacked LSTMs of 200 units to predict
the embedding of unit ``i + 7`` from the embeddings of units ``i .. i + 6`` and rank
the true embedding among itself and 99 random units by Euclidean distance to the
prediction (geometric mean rank); Bretan et al. (2017, section 5.0.1) use three
LSTMs of 400, 999 random units and cosine similarity (median rank).

The predictor sits at the end of a :class:`~sklearn.pipeline.Pipeline` after an
embedder, where it sees only the embedding matrix and ``y``; the sequence order
therefore comes through ``y``: the :class:`~sklearn_musemb.units.Units` themselves
or their ``(piece, variant, position)`` columns (:func:`unit_order`), which
scikit-learn's cross-validation slices along with ``X``::

    pipe = Pipeline([("emb", AdjDEmbedder()), ("fwd", ForwardPredictor())])
    cross_validate(pipe, units, units, groups=units.piece, cv=GroupKFold(3))

- :func:`unit_order`, :func:`sequence_windows`: the order of the rows and every
  window of consecutive rows (same piece and variant, positions ``p .. p + k - 1``);
- :func:`forward_prediction_ranks`, :func:`forward_prediction_rank`: the ranking;
- :class:`ForwardPredictor`: the LSTM as a skorch estimator whose ``score`` is the
  negated rank (greater is better), so ``cross_validate`` and ``GridSearchCV``
  work with their default scoring.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import torch
from sklearn.utils import Tags, check_array
from sklearn.utils.validation import check_is_fitted, validate_data
from skorch import NeuralNet
from skorch.dataset import Dataset
from torch.utils.data import Subset

from ..embedders.base import IndexBatches
from ..metrics.ranking import (
    _as_generator,
    _candidate_ranks,
    _check_n_candidates,
    _check_statistic,
    _in_order,
)
from ..metrics.statistics import _summarise
from ..nn.sequence import EmbeddingLSTM
from ..units.container import Units, _check_units
from ..utils.skorch_utils import AutoDeviceNetMixin
from ..utils.torch_utils import check_device
from ..utils.validation import check_positive_int

#: Distances accepted by :func:`forward_prediction_ranks` (``metric=``).
METRICS = ("euclidean", "cosine")

#: Seed of the candidate groups drawn by :meth:`ForwardPredictor.score`: fixed, so
#: every setting of a grid search is ranked on the same groups (as the adjacency
#: scorer's default ``random_state=0``).
SCORE_SEED = 0


# -- sequence order --------------------------------------------------------------------
def unit_order(units: Units) -> np.ndarray:
    """The ``(piece, variant, position)`` of every unit: ``y`` for forward prediction.

    Parameters
    ----------
    units : Units
        Units in any row order.

    Returns
    -------
    order : ndarray of int64, shape (n_units, 3)
        Columns piece, variant and position, rows as in ``units``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_musemb.units import Units
    >>> units = Units(np.zeros((3, 4, 2), dtype=np.int16), piece=[5, 5, 6],
    ...               position=[1, 0, 0], variant=[0, 0, 2])
    >>> unit_order(units)
    array([[5, 0, 1],
           [5, 0, 0],
           [6, 2, 0]])
    """
    units = _check_units(units, "unit_order", "the piece, variant and position columns")
    return np.column_stack([units.piece, units.variant, units.position]).astype(
        np.int64
    )


def _sorted_runs(order: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows sorted by (piece, variant, position) and where each follows the last.

    Returns
    -------
    rows : ndarray of int, shape (n,)
        Row indices in (piece, variant, position) order.
    follows : ndarray of bool, shape (n - 1,)
        ``follows[i]``: sorted row ``i + 1`` is the unit after sorted row ``i``.
    """
    rows = np.lexsort((order[:, 2], order[:, 1], order[:, 0]))
    ordered = order[rows]
    same = ordered[1:, :2] == ordered[:-1, :2]
    step = ordered[1:, 2] - ordered[:-1, 2]
    duplicate = np.flatnonzero(same.all(axis=1) & (step == 0))
    if duplicate.size:
        first = rows[duplicate[0]], rows[duplicate[0] + 1]
        raise ValueError(
            f"the order has {duplicate.size} duplicate (piece, variant, position) "
            f"row(s), e.g. rows {first[0]} and {first[1]} are both "
            f"{tuple(int(v) for v in ordered[duplicate[0]])}: the sequence is "
            "ambiguous"
        )
    return rows, same.all(axis=1) & (step == 1)


def sequence_windows(order: Any, length: int) -> np.ndarray:
    """Row indices of every window of ``length`` consecutive units.

    A window is ``length`` rows of one piece and one variant at positions
    ``p, p + 1, ..., p + length - 1``; windows never cross a piece or variant
    boundary or a gap in the positions. Rows may come in any order.

    Parameters
    ----------
    order : Units or array-like of int, shape (n_units, 3)
        The units, or their ``(piece, variant, position)`` (:func:`unit_order`).
    length : int
        Units per window (``n_context + 1`` for a context and its target).

    Returns
    -------
    windows : ndarray of int64, shape (n_windows, length)
        Row indices, each window in position order; windows sorted by piece,
        variant and first position. ``(0, length)`` if there is none.

    Raises
    ------
    ValueError
        If ``order`` does not have 3 integer columns, ``length`` is not a positive
        integer, or two rows share piece, variant and position.

    Examples
    --------
    >>> import numpy as np
    >>> order = np.array([[0, 0, 1], [0, 0, 0], [0, 0, 2], [0, 0, 4], [1, 0, 0]])
    >>> sequence_windows(order, 2)  # position 3 is missing: no window over the gap
    array([[1, 0],
           [0, 2]])
    >>> sequence_windows(order, 3)
    array([[1, 0, 2]])
    """
    order = _check_order(order, None, "sequence_windows")
    length = check_positive_int(length, "length", "sequence_windows")
    rows, follows = _sorted_runs(order)
    if len(rows) < length:
        return np.empty((0, length), dtype=np.int64)
    # a window starting at sorted row i needs follows[i : i + length - 1] all true
    links = np.concatenate([[0], np.cumsum(follows)])
    starts = np.flatnonzero(
        links[length - 1 :] - links[: len(rows) - length + 1] == length - 1
    )
    return rows[starts[:, None] + np.arange(length)].astype(np.int64)


def _longest_run(order: np.ndarray) -> int:
    """Most consecutive units of one piece and variant (0 for no rows)."""
    if len(order) == 0:
        return 0
    _, follows = _sorted_runs(order)
    starts = np.concatenate([[0], np.flatnonzero(~follows) + 1, [len(order)]])
    return int(np.diff(starts).max())


def _check_order(y: Any, n: int | None, owner: str) -> np.ndarray:
    """``y`` as an int64 ``(n, 3)`` order; ``None`` is one sequence in row order."""
    if y is None and n is not None:
        return np.column_stack(
            [np.zeros((n, 2), dtype=np.int64), np.arange(n, dtype=np.int64)]
        )
    if isinstance(y, Units):
        order = unit_order(y)
    else:
        order = np.asarray(y)
        if (
            order.ndim != 2
            or order.shape[1] != 3
            or not (np.issubdtype(order.dtype, np.integer) or order.size == 0)
        ):
            raise ValueError(
                f"{owner}: the order of the rows (y) must be Units or an integer "
                "array of shape (n_samples, 3) holding (piece, variant, position), "
                f"e.g. unit_order(units); got {order.dtype} array of shape "
                f"{order.shape}"
            )
        order = order.astype(np.int64, copy=False)
    if n is not None and len(order) != n:
        raise ValueError(
            f"{owner}: y has {len(order)} rows but X has {n}; they must describe "
            "the same units in the same order"
        )
    return order


def _unit_ids(order: np.ndarray) -> np.ndarray:
    """One id per (piece, position): a unit and its augmented copies share it."""
    return np.unique(order[:, [0, 2]], axis=0, return_inverse=True)[1].ravel()


# -- ranking ---------------------------------------------------------------------------
def _distractor_drawer(
    targets: np.ndarray, group: np.ndarray, n_distractors: int, rng: Any
) -> Callable[[int, int], np.ndarray]:
    """``draw(start, stop)``: the distractor rows of ``targets[start:stop]``.

    Rows are drawn uniformly, with replacement, outside each target's group.
    ``group`` holds dense ids (0..g-1). Rows are sorted by group; a draw ``j``
    among the ``n - size`` rows outside the target's group is sorted row ``j``
    before that group's start and ``j + size`` from it on: exact and vectorised,
    with no redrawing.

    Called on consecutive chunks, ``draw`` gives exactly the rows of one draw
    for all targets (:func:`_draw_distractors`): numpy's bounded integers take
    their values one after the other from the generator's stream, whether
    drawn in one call or in several, and with one bound or one per row.
    """
    grouped = np.argsort(group, kind="stable")
    size = np.bincount(group)
    first = np.cumsum(size) - size

    def draw(start: int, stop: int) -> np.ndarray:
        target_group = group[targets[start:stop]]
        start_of_group = first[target_group][:, None]
        excluded = size[target_group][:, None]
        high = len(group) - excluded
        shape = (len(high), n_distractors)
        if len(high) and np.all(high == high[0, 0]):
            # one bound: numpy's faster path, same stream as one bound per row
            drawn = rng.integers(0, high[0, 0], size=shape)
        else:
            drawn = rng.integers(0, high, size=shape)
        return grouped[drawn + excluded * (drawn >= start_of_group)]

    return draw


def _draw_distractors(
    targets: np.ndarray, group: np.ndarray, n_distractors: int, rng: Any
) -> np.ndarray:
    """Rows drawn uniformly, with replacement, outside each target's group.

    All at once (see :func:`_distractor_drawer`, which draws them chunk by
    chunk).

    Returns
    -------
    ndarray of int, shape (n_targets, n_distractors)
    """
    return _distractor_drawer(targets, group, n_distractors, rng)(0, len(targets))


def forward_prediction_ranks(
    predicted: Any,
    embeddings: Any,
    targets: Any,
    *,
    unit_ids: Any = None,
    n_candidates: int = 100,
    metric: str = "euclidean",
    random_state: Any = None,
    chunk_size: int = 1024,
    device: str | torch.device | None = "cpu",
) -> np.ndarray:
    """Rank of each true next embedding among random units, by closeness to prediction.

    For prediction ``i``, the candidates are the true target embedding
    ``embeddings[targets[i]]`` and ``n_candidates - 1`` embeddings of random rows of
    ``embeddings``; they are ranked by distance to ``predicted[i]`` and the rank of
    the target is returned (Bretan & Heck 2019, section 4.4; Bretan et al. 2017,
    section 5.0.1).

    Parameters
    ----------
    predicted : array-like of float, shape (n_predictions, n_dims)
        Predicted embeddings.
    embeddings : array-like of float, shape (n_units, n_dims)
        Embeddings of the evaluated units: the targets and the pool of distractors.
    targets : array-like of int, shape (n_predictions,)
        Row of ``embeddings`` that each prediction should match.
    unit_ids : array-like, shape (n_units,), default=None
        An id shared by a unit and its augmented copies (transpositions): rows with
        the target's id are never its distractors, as they are not random units.
        ``None``: every row is its own unit, so only the target row is excluded.
        :class:`ForwardPredictor` passes one id per (piece, position).
    n_candidates : int, default=100
        Size of each ranked group: the target plus ``n_candidates - 1``
        distractors, at least 2. Bretan & Heck use 100, Bretan et al. 1000.
    metric : {"euclidean", "cosine"}, default="euclidean"
        Euclidean distance (Bretan & Heck) or cosine similarity (Bretan et al.;
        higher is closer, a zero vector has similarity 0 to anything).
    random_state : int, RandomState, Generator or None, default=None
        Seeds the distractors. They depend on ``targets``, ``unit_ids``, the
        number of rows and this seed only, never on the embeddings, so two
        models are compared on the same groups when given the same int.
    chunk_size : int, default=1024
        Predictions whose distractors are drawn and ranked at once (memory
        ``chunk_size * n_candidates * n_dims`` floats and ``chunk_size *
        n_candidates`` indices, never ``n_predictions * n_candidates``); the
        result does not depend on it.
    device : str, torch.device or None, default="cpu"
        Where the distances are computed: ``"cpu"`` (numpy, on the host) or a
        torch device (``"cuda"``, ``"cuda:1"``...), to which embeddings and
        predictions are copied once and where each chunk's candidates are
        gathered and compared; only the ranks come back. ``"auto"`` picks CUDA
        when available, ``None`` is the CPU. The result does not depend on it
        (see Notes). The distractors are drawn on the host (numpy's generator),
        which bounds the speed on a GPU.

    Returns
    -------
    ranks : ndarray of float64, shape (n_predictions,)
        1 is best, ``n_candidates`` worst.

    Raises
    ------
    ValueError
        If an array holds NaN or infinity or has the wrong shape, a target is out
        of range, ``metric`` is unknown, ``n_candidates`` is not an integer >= 2
        or ``chunk_size`` not a positive integer, ``device`` is not a torch
        device (or is CUDA where torch finds none), or some target has fewer
        than ``n_candidates - 1`` rows outside its id to draw from.

    Notes
    -----
    - **Distractors** are drawn uniformly *with replacement* from the rows whose
      ``unit_ids`` differ from the target's.
    - **Ties** get mid-ranks: ``rank = 1 + (#distractors strictly closer) + 0.5 *
      (#distractors exactly as close)``, so a constant prediction among constant
      embeddings scores ``(n_candidates + 1) / 2``, not 1 (as in
      :func:`~sklearn_musemb.metrics.adjacency_ranks`).
    - **Exactness**: the distractors are drawn chunk by chunk from one stream,
      which gives the rows of a single draw for all predictions; on a torch
      device the distances repeat numpy's operations in numpy's order
      (normalisation on the host for cosine, then differences or products and
      numpy's pairwise summation, as elementwise additions), so the ranks are
      the same, bit for bit, for every ``chunk_size`` and on every device,
      float32 or float64 (barring subnormal numbers flushed to zero, which torch
      does not do by default).

    Examples
    --------
    >>> import numpy as np
    >>> emb = np.eye(6)
    >>> forward_prediction_ranks(emb[[1, 2]], emb, [1, 2], n_candidates=4,
    ...                          random_state=0)
    array([1., 1.])
    >>> forward_prediction_ranks(np.zeros((2, 6)), emb, [1, 2], n_candidates=4,
    ...                          metric="cosine", random_state=0)
    array([2.5, 2.5])
    """
    owner = "forward_prediction_ranks"
    if metric not in METRICS:
        raise ValueError(f"{owner}: metric must be one of {METRICS}, got {metric!r}")
    n_candidates = _check_n_candidates(n_candidates, owner)
    chunk_size = check_positive_int(chunk_size, "chunk_size", owner)
    device = check_device(device, owner)
    float_types = [np.float64, np.float32]
    predicted = check_array(predicted, dtype=float_types, input_name="predicted")
    embeddings = check_array(embeddings, dtype=float_types, input_name="embeddings")
    dtype = np.result_type(predicted, embeddings)
    predicted, embeddings = (
        predicted.astype(dtype, copy=False),
        embeddings.astype(dtype, copy=False),
    )
    n = len(embeddings)
    if predicted.shape[1] != embeddings.shape[1]:
        raise ValueError(
            f"{owner}: predicted has {predicted.shape[1]} columns but embeddings "
            f"has {embeddings.shape[1]}; predictions live in the embedding space"
        )
    targets = np.asarray(targets)
    if targets.shape != (len(predicted),) or not np.issubdtype(
        targets.dtype, np.integer
    ):
        raise ValueError(
            f"{owner}: targets must be {len(predicted)} integer row indices, one "
            f"per prediction; got {targets.dtype} array of shape {targets.shape}"
        )
    if targets.size and (targets.min() < 0 or targets.max() >= n):
        raise ValueError(
            f"{owner}: targets must be rows of embeddings (0..{n - 1}), found "
            f"{targets.min()}..{targets.max()}"
        )
    unit_ids = np.arange(n) if unit_ids is None else np.asarray(unit_ids)
    if unit_ids.shape != (n,):
        raise ValueError(
            f"{owner}: unit_ids must have shape ({n},), one id per row of "
            f"embeddings; got {unit_ids.shape}"
        )
    group = np.unique(unit_ids, return_inverse=True)[1].ravel()
    pool = n - np.bincount(group)[group[targets]]
    if targets.size and pool.min() < n_candidates - 1:
        worst = int(np.argmin(pool))
        raise ValueError(
            f"{owner}: n_candidates={n_candidates} needs {n_candidates - 1} "
            f"distractors per prediction, but target row {targets[worst]} has only "
            f"{pool[worst]} of {n} rows outside its unit to draw from; use fewer "
            "candidates or evaluate on more units"
        )
    draw = _distractor_drawer(
        targets, group, n_candidates - 1, _as_generator(random_state)
    )
    return _candidate_ranks(
        predicted,
        embeddings,
        targets,
        _in_order(draw, chunk_size),
        metric,
        chunk_size,
        device,
    )


def forward_prediction_rank(
    predicted: Any,
    embeddings: Any,
    targets: Any,
    *,
    statistic: str = "geometric_mean",
    **kwargs: Any,
) -> float:
    """Summary of :func:`forward_prediction_ranks`: geometric mean, median or mean.

    Lower is better. Random predictions score close to the geometric mean of
    ``1..n_candidates`` (37.99 for 100 candidates) or the median
    ``(n_candidates + 1) / 2``. Bretan & Heck (2019) report the geometric mean,
    Bretan et al. (2017) the median, spread and skew and significance tests
    between models: pass each model's :func:`forward_prediction_ranks` (same
    units and seed) to
    :func:`~sklearn_musemb.metrics.statistics.compare_rank_distributions`.

    Parameters
    ----------
    predicted, embeddings, targets
        As in :func:`forward_prediction_ranks`.
    statistic : {"geometric_mean", "median", "mean"}, default="geometric_mean"
        How the ranks are summarised.
    **kwargs
        ``unit_ids``, ``n_candidates``, ``metric``, ``random_state``,
        ``chunk_size``, ``device`` of :func:`forward_prediction_ranks`.

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> emb = np.eye(6)
    >>> forward_prediction_rank(np.zeros((2, 6)), emb, [1, 2], n_candidates=4,
    ...                         statistic="median", random_state=0)
    2.5
    """
    statistic = _check_statistic(statistic)
    ranks = forward_prediction_ranks(predicted, embeddings, targets, **kwargs)
    if ranks.size == 0:
        raise ValueError("forward_prediction_rank: no prediction to rank")
    return _summarise(ranks, statistic)


# -- the estimator ---------------------------------------------------------------------
class _WindowBatches:
    """Batches of embedding windows gathered on the device from index windows.

    Wraps :class:`~sklearn_musemb.embedders.base.IndexBatches` over a dataset of
    windows (rows of indices into ``embeddings``); yields ``(context, target)``
    with ``context`` of shape ``(batch, n_context, n_dims)`` and ``target`` the
    embedding after it, or ``None`` for windows of ``n_context`` rows only.
    """

    def __init__(
        self, windows: IndexBatches, embeddings: torch.Tensor, n_context: int
    ) -> None:
        self.windows = windows
        self.embeddings = embeddings
        self.n_context = n_context

    def __len__(self) -> int:
        return len(self.windows)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor | None]]:
        n = self.n_context
        for rows, _ in self.windows:
            target = self.embeddings[rows[:, n]] if rows.shape[1] > n else None
            yield self.embeddings[rows[:, :n]], target


class ForwardPredictor(AutoDeviceNetMixin, NeuralNet):
    """Predict the next unit's embedding from the previous ``n_context`` (LSTM).

    The forward-prediction task of Bretan & Heck (2019, section 4.4) and Bretan et
    al. (2017, section 5.0.1), as a skorch estimator for the end of a
    :class:`~sklearn.pipeline.Pipeline` whose earlier step is an embedder. ``X`` is
    the embedding matrix; ``y`` gives the order of its rows: the
    :class:`~sklearn_musemb.units.Units` that were embedded, or their
    ``(piece, variant, position)`` columns (:func:`unit_order`). Two rows are
    consecutive when they share piece and variant and have positions ``p`` and
    ``p + 1``; ``y=None`` means one sequence in row order.

    ``fit`` trains on every window of ``n_context + 1`` consecutive rows
    (:func:`sequence_windows`): the first ``n_context`` embeddings in, the last
    one the target (mean squared error by default). ``score`` returns the NEGATED
    rank of the true next embedding among ``n_candidates`` (itself plus random
    units of the scored set) by closeness to the prediction, so greater is better
    and ``cross_validate``/``GridSearchCV`` work with their default scoring.

    Parameters
    ----------
    n_context : int, default=7
        Embeddings read before predicting the next (7: 280 notes of 40-note units).
    metric : {"euclidean", "cosine"}, default="euclidean"
        Closeness used by ``score`` (Bretan & Heck: Euclidean; Bretan et al.:
        cosine).
    n_candidates : int, default=100
        Group size ranked by ``score`` (Bretan & Heck: 100; Bretan et al.: 1000).
        The scored set needs at least ``n_candidates - 1`` units outside each
        target's (piece, position).
    statistic : {"geometric_mean", "median", "mean"}, default="geometric_mean"
        Summary of the ranks in ``score`` (Bretan et al. report the median).
    module : type of torch.nn.Module, default=EmbeddingLSTM
        The network; it receives ``input_dim`` (the embedding width) plus every
        ``module__*`` parameter: ``module__hidden_dim`` (200),
        ``module__n_layers`` (2), ``module__head``, ``module__dropout``.
        Bretan et al.'s network is ``module__hidden_dim=400, module__n_layers=3``.
    criterion : type of torch.nn.Module, default=torch.nn.MSELoss
        Training loss between prediction and true next embedding;
        :class:`~sklearn_musemb.nn.sequence.CosineDistanceLoss` goes with
        ``metric="cosine"``.
    optimizer : type of torch.optim.Optimizer, default=torch.optim.Adam
    lr : float, default=1e-3
    max_epochs : int, default=10
        Passes over the training windows.
    batch_size : int, default=256
        Windows per step.
    train_split : callable or None, default=None
        skorch's validation split, over windows (which overlap: validation scores
        are optimistic; hold out pieces with ``GroupKFold`` instead).
    callbacks : list or None, default=None
    verbose : int, default=0
    device : str, default="auto"
        ``"auto"``: CUDA when available, else CPU; the device used is
        ``device_``. :meth:`ranks` and :meth:`score` compare the candidates
        there too (same ranks on every device).
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation and batch order (two CPU fits with an int
        give identical predictions). The candidates of ``score`` always use seed
        ``SCORE_SEED``.
    **kwargs
        Further skorch parameters (``optimizer__weight_decay``, ...).

    Attributes
    ----------
    module_ : EmbeddingLSTM
        The trained network.
    n_features_in_ : int
        Embedding width.
    embedding_mean_, embedding_scale_ : ndarray of shape (``n_features_in_``,)
        Mean and standard deviation of the training embeddings, with which the
        network standardises its inputs and de-standardises its predictions.
    n_windows_ : int
        Training windows of the last ``fit``.
    history_ : skorch.History
        Per-epoch ``train_loss`` and ``dur``.
    device_ : str
        The device the model was trained on.

    See Also
    --------
    forward_prediction_ranks : the ranking, for predictions made elsewhere.
    sklearn_musemb.metrics.adjacency_ranks : the ranking of true neighbours.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_musemb.tasks.forward import ForwardPredictor
    >>> t = np.arange(120)[:, None] * np.array([0.3, 0.7, 1.1])
    >>> Z = np.hstack([np.cos(t), np.sin(t)])  # one piece: rotations in 3 planes
    >>> fwd = ForwardPredictor(n_context=3, n_candidates=20, max_epochs=40, lr=0.01,
    ...                        batch_size=32, random_state=0, module__hidden_dim=16)
    >>> fwd.fit(Z).predict(Z).shape  # the embedding after each row (NaN first)
    (120, 6)
    >>> fwd.score(Z) > -3  # negated geometric mean rank among 20 candidates
    True
    """

    def __init__(
        self,
        *,
        n_context: int = 7,
        metric: str = "euclidean",
        n_candidates: int = 100,
        statistic: str = "geometric_mean",
        module: type[torch.nn.Module] = EmbeddingLSTM,
        criterion: type[torch.nn.Module] = torch.nn.MSELoss,
        optimizer: type[torch.optim.Optimizer] = torch.optim.Adam,
        lr: float = 1e-3,
        max_epochs: int = 10,
        batch_size: int = 256,
        train_split: Any = None,
        callbacks: Any = None,
        verbose: int = 0,
        device: str = "auto",
        random_state: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            module,
            criterion,
            optimizer=optimizer,
            lr=lr,
            max_epochs=max_epochs,
            batch_size=batch_size,
            train_split=train_split,
            callbacks=callbacks,
            verbose=verbose,
            device=device,
            **kwargs,
        )
        self.n_context = n_context
        self.metric = metric
        self.n_candidates = n_candidates
        self.statistic = statistic
        self.random_state = random_state

    # -- sklearn protocol ------------------------------------------------------------
    def __sklearn_tags__(self) -> Tags:
        tags = super().__sklearn_tags__()
        tags.target_tags.required = False  # y=None: one sequence in row order
        return tags

    def __sklearn_is_fitted__(self) -> bool:
        return bool(getattr(self, "initialized_", False)) and hasattr(
            self, "embedding_mean_"
        )

    def _check_params(self) -> None:
        name = type(self).__name__
        check_positive_int(self.n_context, "n_context", name)
        if self.metric not in METRICS:
            raise ValueError(
                f"{name}: metric must be one of {METRICS}, got {self.metric!r}"
            )
        _check_n_candidates(self.n_candidates, name)
        _check_statistic(self.statistic)

    def _validate(
        self, X: Any, y: Any, *, reset: bool
    ) -> tuple[np.ndarray, np.ndarray]:
        """Embeddings as a finite float32 matrix and ``y`` as an ``(n, 3)`` order."""
        if isinstance(X, Units):
            raise TypeError(
                f"{type(self).__name__} takes embeddings of shape (n_units, n_dims), "
                "got Units; put an embedder before it in a Pipeline"
            )
        Z = validate_data(self, X, reset=reset, dtype=np.float32)
        # torch warns about (and must not write to) read-only arrays
        Z = np.require(Z, requirements="W")
        return Z, _check_order(y, len(Z), type(self).__name__)

    def _windows(self, order: np.ndarray, length: int, why: str) -> np.ndarray:
        """Windows of ``length`` rows, or a ValueError saying how many are needed."""
        windows = sequence_windows(order, length)
        if len(windows) == 0:
            raise ValueError(
                f"{type(self).__name__} needs at least {length} units of one piece "
                f"and variant at consecutive positions (n_context={self.n_context} "
                f"plus the next) to {why}, but the longest run among the "
                f"{len(order)} rows has {_longest_run(order)}; give longer "
                "sequences or lower n_context"
            )
        return windows

    # -- skorch hooks ----------------------------------------------------------------
    def initialize_module(self) -> ForwardPredictor:
        if not hasattr(self, "embedding_mean_"):
            raise RuntimeError(
                f"{type(self).__name__} builds its network from the data: call fit "
                "instead of initialize"
            )
        kwargs = {"input_dim": self.n_features_in_, **self.get_params_for("module")}
        self.module_ = self.initialized_instance(self.module, kwargs)
        standardize = getattr(self.module_, "standardize", None)
        if standardize is not None:
            standardize(
                torch.as_tensor(self.embedding_mean_),
                torch.as_tensor(self.embedding_scale_),
            )
        return self

    def get_iterator(self, dataset: Dataset | Subset, training: bool = False):
        windows = IndexBatches(
            dataset,
            batch_size=self.batch_size,
            shuffle=training,
            device=self.device,
            generator=self._torch_rng if training else None,
        )
        return _WindowBatches(windows, self._embeddings_on_device, self.n_context)

    @contextlib.contextmanager
    def _holding(self, Z: np.ndarray, device: str) -> Iterator[None]:
        """Hold ``Z`` on ``device`` for the batch iterators."""
        self._embeddings_on_device = torch.as_tensor(Z, device=device)
        try:
            yield
        finally:
            del self._embeddings_on_device

    # -- fitting -----------------------------------------------------------------------
    def fit(self, X: Any, y: Any = None, **fit_params: Any) -> ForwardPredictor:
        """Train the LSTM on every window of consecutive embeddings.

        Parameters
        ----------
        X : array-like of float, shape (n_units, n_dims)
            Embeddings, e.g. the output of an embedder's ``transform``.
        y : Units, array-like of int of shape (n_units, 3) or None, default=None
            The order of the rows: the embedded units or their
            ``(piece, variant, position)`` (:func:`unit_order`). ``None``: one
            sequence in row order.
        **fit_params : dict
            Passed on to skorch.

        Returns
        -------
        self : object
            The fitted predictor.
        """
        return self._fit(X, y, warm=self.warm_start, **fit_params)

    def partial_fit(
        self, X: Any, y: Any = None, classes: Any = None, **fit_params: Any
    ) -> ForwardPredictor:
        """Continue training on ``X`` for ``max_epochs`` more epochs.

        Parameters and return value as in :meth:`fit`; the embedding width and
        standardisation stay those of the first fit. With an int ``random_state``
        the random streams continue where the previous call left them: ``k``
        calls of one epoch give one fit of ``k``.
        """
        return self._fit(X, y, warm=True, **fit_params)

    def _fit(
        self, X: Any, y: Any, *, warm: bool, **fit_params: Any
    ) -> ForwardPredictor:
        self._check_params()
        first_fit = not (warm and self.__sklearn_is_fitted__())
        Z, order = self._validate(X, y, reset=first_fit)
        windows = self._windows(order, self.n_context + 1, "train")
        if first_fit:
            stats = Z.astype(np.float64)
            self.embedding_mean_ = stats.mean(axis=0).astype(np.float32)
            scale = stats.std(axis=0)
            self.embedding_scale_ = np.where(scale > 0, scale, 1.0).astype(np.float32)
        self.n_windows_ = len(windows)
        with (
            self._seeded_fit(warm=not first_fit) as device,
            self._holding(Z, device),
        ):
            if first_fit:
                self.initialize()
            NeuralNet.partial_fit(self, windows, None, **fit_params)
        return self

    # -- prediction --------------------------------------------------------------------
    def _predict_windows(self, Z: np.ndarray, contexts: np.ndarray) -> np.ndarray:
        """Predicted embedding after each context (rows of indices into ``Z``)."""
        with self._on_resolved_device() as device, self._holding(Z, device):
            return self.forward(contexts, training=False).numpy()

    def predict(self, X: Any, order: Any = None) -> np.ndarray:
        """The predicted embedding of the unit after each row.

        Parameters
        ----------
        X : array-like of float, shape (n_units, n_dims)
            Embeddings.
        order : Units, array-like of int of shape (n_units, 3) or None, default=None
            The order of the rows, as ``y`` in :meth:`fit`. In a Pipeline:
            ``pipe.predict(units, order=units)``.

        Returns
        -------
        ndarray of float32, shape (n_units, n_dims)
            Row ``i`` predicts the embedding of the unit following row ``i``
            (also beyond a piece's last unit), from row ``i`` and the
            ``n_context - 1`` rows before it; NaN for rows with fewer consecutive
            predecessors.
        """
        check_is_fitted(self)
        Z, order = self._validate(X, order, reset=False)
        contexts = sequence_windows(order, self.n_context)
        out = np.full(Z.shape, np.nan, dtype=np.float32)
        if len(contexts):
            out[contexts[:, -1]] = self._predict_windows(Z, contexts)
        return out

    def ranks(
        self, X: Any, y: Any = None, random_state: Any = SCORE_SEED
    ) -> np.ndarray:
        """Rank of the true next embedding of every window (lower is better).

        For every window of ``n_context + 1`` consecutive rows, the embedding
        predicted from the first ``n_context`` is compared with the true last
        one and ``n_candidates - 1`` random rows of ``X`` (never the target nor
        its augmented copies, i.e. rows of the same piece and position), by
        ``metric`` (:func:`forward_prediction_ranks`), on the predictor's
        device (``"auto"``: CUDA when available; the ranks do not depend on it).

        Parameters
        ----------
        X : array-like of float, shape (n_units, n_dims)
            Embeddings of the evaluated units.
        y : Units, array-like of int of shape (n_units, 3) or None, default=None
            The order of the rows, as in :meth:`fit`.
        random_state : int, RandomState, Generator or None, default=SCORE_SEED
            Seeds the distractors.

        Returns
        -------
        ndarray of float64, shape (n_windows,)
            1 is best, ``n_candidates`` worst; windows in the order of
            :func:`sequence_windows`.
        """
        check_is_fitted(self)
        self._check_params()
        Z, order = self._validate(X, y, reset=False)
        windows = self._windows(order, self.n_context + 1, "score")
        predicted = self._predict_windows(Z, windows[:, :-1])
        return forward_prediction_ranks(
            predicted,
            Z,
            windows[:, -1],
            unit_ids=_unit_ids(order),
            n_candidates=self.n_candidates,
            metric=self.metric,
            random_state=random_state,
            device=self.device,
        )

    def score(self, X: Any, y: Any = None) -> float:
        """Negated forward-prediction rank (greater is better).

        The :meth:`ranks` of every window, with distractors drawn with seed
        ``SCORE_SEED``, summarised by ``statistic``.

        Parameters
        ----------
        X : array-like of float, shape (n_units, n_dims)
            Embeddings of the evaluated units.
        y : Units, array-like of int of shape (n_units, 3) or None, default=None
            The order of the rows, as in :meth:`fit`.

        Returns
        -------
        float
            Minus the summarised rank, between ``-n_candidates`` and -1.
        """
        return -_summarise(self.ranks(X, y), self.statistic)
