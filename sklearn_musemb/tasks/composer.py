"""Composer classification from embeddings (Bretan & Heck 2019, 4.4; Bretan et al.
2017, 5.0.2).

The probe is "a simple two layer network" on the embeddings: scikit-learn's
:class:`~sklearn.neural_network.MLPClassifier` with one hidden layer, after a
:class:`~sklearn.preprocessing.StandardScaler`. :func:`make_composer_probe`
returns that pipeline rather than a new estimator class: every parameter of
the scaler and of ``MLPClassifier`` stays reachable by ``set_params`` and grid
search (``probe__mlp__alpha``), and scikit-learn, not this package, is
responsible for the estimator's behaviour. The target is ``units.labels``.

Scoring needs nothing new: scikit-learn's scorer names ``"f1_macro"``,
``"f1_micro"`` and ``"f1_weighted"`` are the three F1 averages the papers
report, collected in :data:`COMPOSER_SCORING`.
"""

from __future__ import annotations

from typing import Any

from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

#: scikit-learn scorer names of the F1 averages reported for composer
#: classification, for ``cross_validate(..., scoring=COMPOSER_SCORING)``:
#:
#: - ``"f1_macro"``: unweighted mean of the per-composer F1 scores. Bretan & Heck
#:   (2019), Table 3, report a "Macro-F1" without defining it; this is the
#:   standard definition.
#: - ``"f1_micro"``: F1 of the pooled counts, which for single-label data equals
#:   accuracy (Bretan et al. 2017, Table 3, "Micro-F1").
#: - ``"f1_weighted"``: per-composer F1 averaged with weights proportional to the
#:   composer's number of units. This is what Bretan et al. (2017) define and call
#:   "Macro-F1" ("weighted by the number of true instances for each composer").
COMPOSER_SCORING = ("f1_macro", "f1_micro", "f1_weighted")


def make_composer_probe(
    hidden_layer_sizes: tuple[int, ...] = (50,),
    *,
    activation: str = "relu",
    alpha: float = 1e-4,
    max_iter: int = 200,
    early_stopping: bool = False,
    random_state: Any = None,
    **mlp_params: Any,
) -> Pipeline:
    """The composer-classification probe: standardise, then a one-hidden-layer MLP.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(50,)
        Widths of the hidden layers. One layer of 50 is the composer head of
        Bretan et al. (2017); Bretan & Heck (2019) say only "two layer network"
        (two weight layers: one hidden layer).
    activation : {"relu", "tanh", "logistic", "identity"}, default="relu"
        Hidden activation. Bretan et al. (2017) use ELU, which
        :class:`~sklearn.neural_network.MLPClassifier` does not offer; ReLU is
        the nearest.
    alpha : float, default=1e-4
        L2 penalty (``MLPClassifier``'s default).
    max_iter : int, default=200
        Maximum epochs of Adam (``MLPClassifier``'s default).
    early_stopping : bool, default=False
        Hold out 10% of the training units (``validation_fraction``) and stop
        when their accuracy stops improving. The held-out units are drawn at
        random, not by piece, so they are optimistic.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, batch order and the early-stopping split;
        an int makes fits repeatable.
    **mlp_params : dict
        Any other :class:`~sklearn.neural_network.MLPClassifier` parameter
        (``learning_rate_init``, ``batch_size``, ``n_iter_no_change``...).

    Returns
    -------
    Pipeline
        Steps ``("scale", StandardScaler())`` and ``("mlp", MLPClassifier(...))``.
        Inside an outer pipeline step called ``"probe"`` its parameters are
        ``probe__mlp__alpha`` and so on.

    See Also
    --------
    COMPOSER_SCORING : the scorer names of the three F1 averages.
    sklearn_musemb.tasks.density.make_density_probe : the regression analogue.

    Notes
    -----
    Splitting by piece (``GroupKFold(groups=units.piece)``) can leave a composer
    out of a training fold; the probe then never predicts it, and scikit-learn's
    F1 scores count it as 0 (with an ``UndefinedMetricWarning``) for the test
    units of that composer.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_musemb.tasks.composer import make_composer_probe
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat(["bach", "mozart"], 50)
    >>> X = rng.normal(size=(100, 4)) + 2.0 * (y == "mozart")[:, None]
    >>> probe = make_composer_probe(max_iter=1000, random_state=0).fit(X, y)
    >>> probe.score(X, y) > 0.9
    True
    >>> probe.named_steps["mlp"].hidden_layer_sizes
    (50,)
    """
    mlp = MLPClassifier(
        hidden_layer_sizes=hidden_layer_sizes,
        activation=activation,
        alpha=alpha,
        max_iter=max_iter,
        early_stopping=early_stopping,
        random_state=random_state,
        **mlp_params,
    )
    return Pipeline([("scale", StandardScaler()), ("mlp", mlp)])
