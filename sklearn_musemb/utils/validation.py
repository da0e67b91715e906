"""Argument checks shared by functions and estimators."""

from __future__ import annotations

from numbers import Integral
from typing import Any


def check_positive_int(value: Any, name: str, owner: str | None = None) -> int:
    """Return ``value`` as an int, or raise ``ValueError`` naming the argument.

    Booleans are refused although Python counts them as integers: ``hop=True`` is a
    mistake, not ``hop=1``.

    Parameters
    ----------
    value : object
        The argument to check.
    name : str
        Its name, for the message.
    owner : str, default=None
        The function or estimator it belongs to, prefixed to the message.

    Returns
    -------
    int

    Raises
    ------
    ValueError
        If ``value`` is not an integer >= 1.

    Examples
    --------
    >>> check_positive_int(40, "n_notes")
    40
    >>> check_positive_int(0, "hop", owner="segment_notes")
    Traceback (most recent call last):
    ...
    ValueError: segment_notes: hop must be a positive integer, got 0
    """
    if isinstance(value, bool) or not isinstance(value, Integral) or value < 1:
        prefix = f"{owner}: " if owner else ""
        raise ValueError(f"{prefix}{name} must be a positive integer, got {value!r}")
    return int(value)
