"""Pitch-chroma prediction from embeddings (Bretan & Heck 2019, 4.4).

A two-layer network predicts a unit's chroma
(:func:`~sklearn_musemb.tasks.targets.unit_chroma`) from its embedding. It is
trained to minimise ``-log P(true chroma | prediction)``, a softmax over the
cosine similarity of the prediction to the unit's true chroma and to the chromas
of ``n_negatives`` random units: Eq. 2-3 of the paper with the cosine in place
of the Euclidean similarity. Predictions are scored by the geometric mean of
their cosine similarity to the true chromas (:func:`chroma_cosine`, Table 4).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from sklearn.metrics import make_scorer
from sklearn.preprocessing import normalize
from sklearn.utils import Tags, check_array
from sklearn.utils._available_if import available_if
from sklearn.utils.validation import check_is_fitted, validate_data
from skorch import NeuralNet
from skorch.regressor import NeuralNetRegressor
from skorch.utils import to_tensor
from torch import nn

from ..embedders.base import IndexBatches, _never
from ..metrics.ranking import _check_statistic
from ..metrics.statistics import _summarise
from ..nn.losses import dssm_logits
from ..utils.skorch_utils import AutoDeviceNetMixin
from ..utils.validation import check_finite_number, check_positive_int


class ChromaNet(nn.Module):
    """A two-layer network predicting a distribution: ``n_features -> hidden_dim ->
    n_outputs -> softmax``.

    One hidden layer with LeakyReLU (the activation of all of Bretan & Heck's
    networks), a linear layer, and a softmax: the prediction is a pitch-class
    distribution, non-negative like every chroma, so its cosine with a true
    chroma is never negative.

    Parameters
    ----------
    n_features : int
        Input width (the embedding size).
    n_outputs : int
        Output width (12 for chroma).
    hidden_dim : int, default=50
        Width of the hidden layer. The paper gives none; 50 is the composer head
        of Bretan et al. (2017).
    negative_slope : float, default=0.01
        Slope of LeakyReLU for negative inputs.

    Examples
    --------
    >>> import torch
    >>> out = ChromaNet(n_features=32, n_outputs=12)(torch.zeros(4, 32))
    >>> out.shape, torch.allclose(out.sum(dim=1), torch.ones(4))
    (torch.Size([4, 12]), True)
    """

    def __init__(
        self,
        n_features: int,
        n_outputs: int,
        hidden_dim: int = 50,
        negative_slope: float = 0.01,
    ) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(n_features, hidden_dim),
            nn.LeakyReLU(negative_slope),
            nn.Linear(hidden_dim, n_outputs),
            nn.Softmax(dim=-1),
        )

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        """The predicted distribution of every row of ``X``."""
        return self.net(X)


class ChromaProbe(AutoDeviceNetMixin, NeuralNetRegressor):
    """Predict unit chromas from embeddings with a cosine-softmax loss.

    The chroma-prediction probe of Bretan & Heck (2019), section 4.4: a
    two-layer network (:class:`ChromaNet`) maps an embedding to a 12-d chroma and
    is trained to minimise ``-log P(true chroma | prediction)``, a softmax over
    the cosine similarity of the prediction to the unit's true chroma and to the
    chromas of ``n_negatives`` random units
    (``sklearn_musemb.nn.losses.dssm_logits``, ``similarity="cosine"``). The
    negatives are drawn on the device, uniformly with replacement, from all
    targets passed to ``fit`` (a unit may, with probability ``1 / n_units``,
    be its own negative; such collisions are not filtered).

    A skorch :class:`~skorch.regressor.NeuralNetRegressor` with the
    conventions of the package's embedders: ``device="auto"``, ``random_state``
    seeding a forked torch RNG, batches drawn as index tensors on the device
    (``IndexBatches``), network
    hyper-parameters as ``module__*`` parameters.

    Parameters
    ----------
    n_negatives : int, default=4
        Random units per row competing with the true chroma. The paper gives no
        number for this task; 4 is the five-candidate softmax of Bretan et al.
        (2017) and the DSSM embedder's default.
    similarity_scale : float, default=1.0
        Factor on the cosines before the softmax. The paper's Eq. 2 uses 1.
    module : type of torch.nn.Module, default=ChromaNet
        The network; it receives ``n_features``, ``n_outputs`` and every
        ``module__*`` parameter (``module__hidden_dim=50``,
        ``module__negative_slope=0.01``).
    criterion : type of torch.nn.Module, default=torch.nn.CrossEntropyLoss
        Loss on the softmax logits (the true chroma is class 0).
    optimizer : type of torch.optim.Optimizer, default=torch.optim.Adam
    lr : float, default=1e-3
    max_epochs : int, default=20
    batch_size : int, default=256
    train_split : callable or None, default=None
        skorch's validation split (of units, not pieces: optimistic).
    callbacks : list or None, default=None
        skorch callbacks.
    verbose : int, default=0
        1 prints skorch's per-epoch table.
    device : str, default="auto"
        ``"auto"`` trains on CUDA when available, else CPU; the device used is
        ``device_``.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, batch order and negatives; with an int, two
        fits on CPU give identical predictions. The caller's torch RNG state is
        left untouched.
    **kwargs
        Further skorch parameters (``optimizer__weight_decay``, ``warm_start``...).

    Attributes
    ----------
    module_ : ChromaNet
        The trained network.
    n_features_in_ : int
        Width of the training embeddings.
    n_outputs_ : int
        Width of the targets (12 for chroma).
    history_ : skorch.History
        Per-epoch ``train_loss`` (and ``valid_loss`` with a ``train_split``).
    device_ : str
        The device the model was trained on.

    See Also
    --------
    sklearn_musemb.tasks.targets.unit_chroma : the target.
    chroma_cosine : the paper's metric; :data:`chroma_cosine_scorer` scores it.

    Notes
    -----
    The loss sees only the direction of a prediction; the softmax output makes
    it a distribution (non-negative, summing to 1), on the scale of
    ``unit_chroma(units)`` (``norm="l1"``). ``score`` is scikit-learn's R^2 of
    the predictions; the paper's figure is :func:`chroma_cosine`. The targets
    should be non-negative like chromas; any width is accepted (a 1-d ``y`` is
    one column, whose softmax prediction is always 1). A
    :class:`~sklearn.preprocessing.StandardScaler` before the probe puts
    embeddings of any scale on the footing of the default learning rate.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_musemb.tasks.chroma import ChromaProbe, chroma_cosine
    >>> rng = np.random.default_rng(0)
    >>> chroma = rng.dirichlet(np.full(12, 0.3), size=300)   # targets
    >>> X = chroma @ rng.normal(size=(12, 16))                # their "embeddings"
    >>> probe = ChromaProbe(max_epochs=30, batch_size=32, random_state=0)
    >>> probe.fit(X, chroma).predict(X).shape
    (300, 12)
    >>> mean_chroma = np.tile(chroma.mean(axis=0), (300, 1))  # a baseline
    >>> round(chroma_cosine(chroma, mean_chroma), 2)
    0.56
    >>> chroma_cosine(chroma, probe.predict(X)) > 0.9
    True
    """

    def __init__(
        self,
        *,
        n_negatives: int = 4,
        similarity_scale: float = 1.0,
        module: type[nn.Module] = ChromaNet,
        criterion: type[nn.Module] = nn.CrossEntropyLoss,
        optimizer: type[torch.optim.Optimizer] = torch.optim.Adam,
        lr: float = 1e-3,
        max_epochs: int = 20,
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
            criterion=criterion,
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
        self.n_negatives = n_negatives
        self.similarity_scale = similarity_scale
        self.random_state = random_state

    # -- sklearn protocol ------------------------------------------------------------
    def __sklearn_tags__(self) -> Tags:
        tags = super().__sklearn_tags__()
        tags.target_tags.single_output = True
        tags.target_tags.multi_output = True
        # The loss ignores the length of a prediction: R^2 on generic data is poor.
        tags.regressor_tags.poor_score = True
        return tags

    def __sklearn_is_fitted__(self) -> bool:
        return bool(getattr(self, "initialized_", False)) and hasattr(
            self, "n_outputs_"
        )

    # skorch's predict_proba returns the raw network output; not a probability.
    predict_proba = available_if(_never)(NeuralNet.predict_proba)

    # -- skorch hooks ----------------------------------------------------------------
    def initialize_module(self) -> ChromaProbe:
        if not hasattr(self, "n_outputs_"):
            raise RuntimeError(
                f"{type(self).__name__} builds its network from the data: call fit "
                "instead of initialize"
            )
        kwargs = {
            "n_features": self.n_features_in_,
            "n_outputs": self.n_outputs_,
            **self.get_params_for("module"),
        }
        self.module_ = self.initialized_instance(self.module, kwargs)
        return self

    def get_iterator(self, dataset: Any, training: bool = False) -> IndexBatches:
        return IndexBatches(
            dataset,
            batch_size=self.batch_size,
            shuffle=training,
            device=self.device,
            generator=self._torch_rng if training else None,
        )

    def get_loss(
        self,
        y_pred: torch.Tensor,
        y_true: Any,
        X: Any = None,
        training: bool = False,
    ) -> torch.Tensor:
        """Cosine-softmax loss of a batch: the true chroma against random ones.

        During ``fit`` the negatives come from all training targets, drawn with
        the fit's seeded generator; called on its own, from ``y_true``.
        """
        y_true = to_tensor(y_true, device=y_pred.device)
        pool = getattr(self, "_negative_pool", y_true)
        rows = torch.randint(
            len(pool),
            (len(y_true), self.n_negatives),
            generator=getattr(self, "_torch_rng", None),
            device=pool.device,
        )
        logits = dssm_logits(
            y_pred,
            y_true,
            pool[rows],
            scale=float(self.similarity_scale),
            similarity="cosine",
        )
        target = torch.zeros(len(logits), dtype=torch.long, device=logits.device)
        return self.criterion_(logits, target)

    # -- fitting -----------------------------------------------------------------------
    def fit(self, X: Any, y: Any, **fit_params: Any) -> ChromaProbe:
        """Train the probe on embeddings ``X`` and chromas ``y``.

        Parameters
        ----------
        X : array-like of shape (n_units, n_features)
            Embeddings, e.g. ``embedder.transform(units)``.
        y : array-like of shape (n_units, n_outputs) or (n_units,)
            Targets, e.g. ``unit_chroma(units)``.
        **fit_params : dict
            Passed on to skorch.

        Returns
        -------
        self : object
            The fitted probe.
        """
        return self._fit(X, y, warm=self.warm_start, **fit_params)

    def partial_fit(
        self, X: Any, y: Any = None, classes: Any = None, **fit_params: Any
    ) -> ChromaProbe:
        """Continue training for ``max_epochs`` more epochs (see :meth:`fit`).

        With an int ``random_state`` the random streams continue where the
        previous call left them: ``k`` calls of one epoch give one fit of ``k``.
        """
        return self._fit(X, y, warm=True, **fit_params)

    def _fit(self, X: Any, y: Any, *, warm: bool, **fit_params: Any) -> ChromaProbe:
        name = type(self).__name__
        check_positive_int(self.n_negatives, "n_negatives", name)
        check_finite_number(
            self.similarity_scale, "similarity_scale", name, strict=True
        )
        first_fit = not (warm and self.__sklearn_is_fitted__())
        X, y = validate_data(
            self,
            X,
            y,
            reset=first_fit,
            multi_output=True,
            y_numeric=True,
            dtype=(np.float32, np.float64),
        )
        X = X.astype(np.float32, copy=False)
        y = np.asarray(y, dtype=np.float32).reshape(len(y), -1)
        if first_fit:
            self.n_outputs_ = y.shape[1]
        elif y.shape[1] != self.n_outputs_:
            raise ValueError(
                f"y has {y.shape[1]} columns, but {name} was fitted on "
                f"{self.n_outputs_}"
            )
        with self._seeded_fit(warm=not first_fit) as device:
            self._negative_pool = torch.as_tensor(y, device=device)
            try:
                if first_fit:
                    self.initialize()
                super().partial_fit(X, y, **fit_params)
            finally:
                del self._negative_pool
        return self

    # -- prediction --------------------------------------------------------------------
    def predict(self, X: Any) -> np.ndarray:
        """Predicted chromas of embeddings ``X``: the network's output.

        Parameters
        ----------
        X : array-like of shape (n_units, n_features)

        Returns
        -------
        ndarray of float64, shape (n_units, n_outputs), or (n_units,) if fitted
        on a 1-d ``y``
            With the default :class:`ChromaNet`, pitch-class distributions.
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=(np.float32, np.float64))
        X = X.astype(np.float32, copy=False)
        with self._on_resolved_device():
            out = self.forward(X, training=False)
        y_pred = out.numpy().astype(np.float64)
        return y_pred.ravel() if self.n_outputs_ == 1 else y_pred


def chroma_cosines(y_true: Any, y_pred: Any) -> np.ndarray:
    """Cosine similarity of every predicted chroma to the true one.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_units, n_outputs)
        True and predicted chromas, row by row.

    Returns
    -------
    ndarray of float64, shape (n_units,)
        In ``[-1, 1]``. As in :func:`sklearn.metrics.pairwise.cosine_similarity`,
        a row of zeros (a unit without notes, say) has cosine 0 with anything.

    Examples
    --------
    >>> from sklearn_musemb.tasks.chroma import chroma_cosines
    >>> chroma_cosines([[1, 0], [1, 1], [0, 0]], [[2, 0], [1, 0], [1, 0]]).round(3)
    array([1.   , 0.707, 0.   ])
    """
    y_true = check_array(y_true, dtype=np.float64, input_name="y_true")
    y_pred = check_array(y_pred, dtype=np.float64, input_name="y_pred")
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"y_true and y_pred must have the same shape, got {y_true.shape} and "
            f"{y_pred.shape}"
        )
    cosine = np.einsum("ij,ij->i", normalize(y_true), normalize(y_pred))
    return np.clip(cosine, -1.0, 1.0)


def chroma_cosine(
    y_true: Any,
    y_pred: Any,
    *,
    statistic: str = "geometric_mean",
    floor: float = 1e-3,
) -> float:
    """Summary of the cosine similarities of predicted to true chromas.

    The chroma-prediction figure of Bretan & Heck (2019), Table 4: the
    geometric mean over units of :func:`chroma_cosines`. Higher is better; 1
    means every prediction points exactly along the true chroma.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_units, n_outputs)
        True and predicted chromas, row by row.
    statistic : {"geometric_mean", "median", "mean"}, default="geometric_mean"
        How the cosines are summarised.
    floor : float, default=1e-3
        For the geometric mean only, cosines below ``floor`` (zero, negative,
        or involving an all-zero row) count as ``floor``: the geometric mean of
        numbers that include 0 is 0 and is undefined for negative ones, so one
        orthogonal prediction would otherwise decide the whole score. In
        ``(0, 1]``.

    Returns
    -------
    float
        Between ``floor`` and 1 for the geometric mean, in ``[-1, 1]`` otherwise.

    Raises
    ------
    ValueError
        If ``statistic`` is unknown, ``floor`` is not in ``(0, 1]``, or the
        arrays are not 2-d, differ in shape, or hold NaN or infinity.

    Examples
    --------
    >>> from sklearn_musemb.tasks.chroma import chroma_cosine
    >>> y_true = [[1, 0, 0], [1, 1, 0]]
    >>> y_pred = [[1, 0, 0], [1, 0, 0]]   # cosines 1 and 0.707
    >>> round(chroma_cosine(y_true, y_pred), 3)   # sqrt(0.707)
    0.841
    >>> round(chroma_cosine(y_true, y_pred, statistic="mean"), 3)
    0.854
    """
    statistic = _check_statistic(statistic)
    floor = check_finite_number(floor, "floor", "chroma_cosine", strict=True)
    if floor > 1:
        raise ValueError(f"chroma_cosine: floor must be in (0, 1], got {floor}")
    cosine = chroma_cosines(y_true, y_pred)
    if statistic == "geometric_mean":
        cosine = np.maximum(cosine, floor)
    return _summarise(cosine, statistic)


#: Ready scorer: geometric-mean cosine of ``estimator.predict(X)`` to ``y``
#: (greater is better). ``make_scorer(chroma_cosine, statistic="median")`` gives
#: the others.
chroma_cosine_scorer = make_scorer(chroma_cosine)
