"""Note-density regression from embeddings (Bretan & Heck 2019, 4.4).

Units have a fixed number of notes, so the probe predicts a unit's duration in
seconds (:func:`~sklearn_musemb.tasks.targets.unit_duration`) from its
embedding with "a two layer network", scored by root mean square error in
seconds. :func:`make_density_probe` returns scikit-learn estimators only
(standardised inputs and target around an
:class:`~sklearn.neural_network.MLPRegressor`); the RMSE scorer is
scikit-learn's ``"neg_root_mean_squared_error"`` (negated: greater is better,
``-score`` is the RMSE in seconds).
"""

from __future__ import annotations

from typing import Any

from sklearn.compose import TransformedTargetRegressor
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

#: scikit-learn scorer of the note-density task: minus the RMSE in seconds.
DENSITY_SCORING = "neg_root_mean_squared_error"


def make_density_probe(
    hidden_layer_sizes: tuple[int, ...] = (50,),
    *,
    activation: str = "relu",
    alpha: float = 1e-4,
    max_iter: int = 200,
    early_stopping: bool = False,
    random_state: Any = None,
    **mlp_params: Any,
) -> TransformedTargetRegressor:
    """The note-density probe: standardise, one-hidden-layer MLP, standardised target.

    The target (seconds, typically 5-30 for 40-note units) is standardised for
    training and predictions are mapped back to seconds, so the squared-error
    loss and ``MLPRegressor``'s near-zero initial outputs work on a unit scale;
    the RMSE is reported in seconds.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(50,)
        Widths of the hidden layers. Bretan & Heck (2019) say "two layer
        network" (two weight layers: one hidden layer) and give no width; 50
        matches :func:`~sklearn_musemb.tasks.composer.make_composer_probe`.
    activation : {"relu", "tanh", "logistic", "identity"}, default="relu"
        Hidden activation.
    alpha : float, default=1e-4
        L2 penalty (``MLPRegressor``'s default).
    max_iter : int, default=200
        Maximum epochs of Adam (``MLPRegressor``'s default).
    early_stopping : bool, default=False
        Hold out 10% of the training units (at random, not by piece) and stop
        when their R^2 stops improving.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, batch order and the early-stopping split.
    **mlp_params : dict
        Any other :class:`~sklearn.neural_network.MLPRegressor` parameter.

    Returns
    -------
    TransformedTargetRegressor
        ``regressor`` is ``Pipeline([("scale", StandardScaler()), ("mlp",
        MLPRegressor(...))])`` and ``transformer`` a ``StandardScaler``. Inside an
        outer pipeline step called ``"probe"`` the MLP's parameters are
        ``probe__regressor__mlp__alpha`` and so on.

    See Also
    --------
    DENSITY_SCORING : scikit-learn's ``"neg_root_mean_squared_error"``.
    sklearn_musemb.tasks.targets.unit_duration : the target.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.metrics import root_mean_squared_error
    >>> from sklearn_musemb.tasks.density import make_density_probe
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 4))
    >>> seconds = 12.0 + 3.0 * X[:, 0]
    >>> probe = make_density_probe(max_iter=500, random_state=0).fit(X, seconds)
    >>> root_mean_squared_error(seconds, probe.predict(X)) < 0.5
    True
    """
    mlp = MLPRegressor(
        hidden_layer_sizes=hidden_layer_sizes,
        activation=activation,
        alpha=alpha,
        max_iter=max_iter,
        early_stopping=early_stopping,
        random_state=random_state,
        **mlp_params,
    )
    return TransformedTargetRegressor(
        regressor=Pipeline([("scale", StandardScaler()), ("mlp", mlp)]),
        transformer=StandardScaler(),
    )
