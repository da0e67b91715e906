"""Find every public estimator of the package (used by the common tests)."""

from __future__ import annotations

import inspect
import pkgutil
from importlib import import_module

from sklearn.base import BaseEstimator
from skorch import NeuralNet


def all_estimators() -> list[tuple[str, type]]:
    """Public estimator classes of :mod:`sklearn_musemb`, sorted by name.

    A class counts when it is a scikit-learn ``BaseEstimator`` or a skorch
    ``NeuralNet``, is defined in this package under a name without a leading
    underscore, and is not abstract (classes that set ``_abstract = True`` in
    their own body, like :class:`~sklearn_musemb.embedders.UnitEmbedder`, are
    bases). Aliases (``ADjDEmbedder``) are listed once, under the class's own name.

    Returns
    -------
    list of (str, type)

    Examples
    --------
    >>> from sklearn_musemb.utils.discovery import all_estimators
    >>> "AdjDEmbedder" in dict(all_estimators())
    True
    """
    import sklearn_musemb

    found: dict[str, type] = {}
    for info in pkgutil.walk_packages(
        sklearn_musemb.__path__, prefix="sklearn_musemb."
    ):
        if any(part.startswith("_") for part in info.name.split(".")[1:]):
            continue
        if info.name.endswith(".cli") or ".cli." in info.name:
            continue
        module = import_module(info.name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if (
                issubclass(cls, BaseEstimator | NeuralNet)
                and cls.__module__.startswith("sklearn_musemb.")
                and not cls.__name__.startswith("_")
                and not vars(cls).get("_abstract", False)
            ):
                found[cls.__name__] = cls
    return sorted(found.items())
