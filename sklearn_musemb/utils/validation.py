"""Argument checks shared by functions and estimators."""

from __future__ import annotations

import math
from numbers import Integral, Real
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


def check_finite_number(
    value: Any,
    name: str,
    owner: str | None = None,
    *,
    minimum: float = 0.0,
    strict: bool = False,
    maximum: float = math.inf,
) -> float:
    """Return ``value`` as a float, or raise ``ValueError`` naming the argument.

    Accepts Python and NumPy reals (a grid built from ``np.array([1, 10])`` passes
    ``np.int64``); refuses booleans, NaN, infinities and values below ``minimum``
    (or equal to it when ``strict``).

    Parameters
    ----------
    value : object
        The argument to check.
    name : str
        Its name, for the message.
    owner : str, default=None
        The function or estimator it belongs to, prefixed to the message.
    minimum : float, default=0.0
        Smallest value allowed.
    strict : bool, default=False
        Refuse ``minimum`` itself.
    maximum : float, default=inf
        Largest value allowed (inclusive).

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If ``value`` is not a finite real number in range.

    Examples
    --------
    >>> import numpy as np
    >>> check_finite_number(np.int64(10), "similarity_scale", strict=True)
    10.0
    >>> check_finite_number(float("inf"), "kl_weight", owner="VAEEmbedder")
    Traceback (most recent call last):
    ...
    ValueError: VAEEmbedder: kl_weight must be a finite number >= 0.0, got inf
    """
    ok = (
        not isinstance(value, bool)
        and isinstance(value, Real)
        and math.isfinite(value)
        and (value > minimum if strict else value >= minimum)
        and value <= maximum
    )
    if not ok:
        prefix = f"{owner}: " if owner else ""
        bound = f"{'>' if strict else '>='} {minimum}"
        if maximum < math.inf:
            bound += f" and <= {maximum}"
        raise ValueError(
            f"{prefix}{name} must be a finite number {bound}, got {value!r}"
        )
    return float(value)
