"""Serve a package's heavy public names on first use (PEP 562)."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_attributes(
    package: str, lazy: Mapping[str, str], namespace: dict[str, Any]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The module ``__getattr__`` and ``__dir__`` that import names on first use.

    Parameters
    ----------
    package : str
        The package's ``__name__``.
    lazy : mapping of str to str
        Public name -> relative submodule that defines it (``".embedders"``).
    namespace : dict
        The package's ``globals()``, listed by ``__dir__`` beside ``lazy``.

    Returns
    -------
    __getattr__, __dir__ : callables
        To assign at the package's top level.

    Examples
    --------
    >>> getattr_, dir_ = lazy_attributes("sklearn_musemb", {"Units": ".units"}, {})
    >>> getattr_("Units").__name__, dir_()
    ('Units', ['Units'])
    """

    def __getattr__(name: str) -> Any:
        if name in lazy:
            return getattr(importlib.import_module(lazy[name], package), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(lazy))

    return __getattr__, __dir__
