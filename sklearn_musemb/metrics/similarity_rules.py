"""When two tracks count as similar along one musical dimension (paper 002, 3.3).

- ``"equal"``: the labels are equal (genre, mood, instrument, era, composer...);
- ``"tempo"``: the tempi (bpm) are within ``tempo_tolerance`` of each other, or of
  each other times any power of two (a tempo octave);
- ``"key"``: the keys are the same or parallel (same tonic, e.g. C major and C
  minor), i.e. their tonics are equal.

A dimension's labels are first coded as numbers (:func:`code_labels`); the rule then
compares codes with array operations that work alike on numpy arrays and torch
tensors (:func:`similar`), so the embedders compare a whole batch on the device
and the scorers compare test tracks on the host with the same code.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: The similarity rules, by name.
RULES = ("equal", "tempo", "key")

#: Tempo octaves considered by the ``"tempo"`` rule: ratios 2**-k .. 2**k.
MAX_TEMPO_OCTAVES = 3


def check_rule(rule: Any, owner: str) -> str:
    """Return ``rule`` if it is a known rule name, else raise a ValueError."""
    if rule not in RULES:
        raise ValueError(
            f"{owner}: unknown similarity rule {rule!r}; use one of {RULES}"
        )
    return rule


def code_labels(values: Any, rule: str, name: str = "labels") -> np.ndarray:
    """Numeric codes of one dimension's labels under ``rule`` (float64).

    Parameters
    ----------
    values : array-like of shape (n,)
        Labels (``"equal"``), keys such as ``"F# minor"`` (``"key"``; any
        spelling :func:`sklearn_musemb.audio.labels.parse_key` reads) or tempi in
        bpm (``"tempo"``).
    rule : {"equal", "tempo", "key"}
    name : str
        The dimension's name, for error messages.

    Returns
    -------
    ndarray of float64, shape (n,)
        Class indices (``"equal"``), tonic pitch classes (``"key"``) or tempi.

    Examples
    --------
    >>> code_labels(["pop", "rock", "pop"], "equal")
    array([0., 1., 0.])
    >>> code_labels(["C major", "c minor", "G major"], "key")
    array([0., 0., 7.])
    """
    check_rule(rule, "code_labels")
    values = np.asarray(values, dtype=object).ravel()
    if rule == "tempo":
        try:
            tempi = values.astype(np.float64)
        except (TypeError, ValueError) as error:
            raise ValueError(
                f"dimension {name!r}: tempi must be numbers (bpm)"
            ) from error
        bad = ~np.isfinite(tempi) | (tempi <= 0)
        if bad.any():
            raise ValueError(
                f"dimension {name!r}: tempi must be positive finite bpm, found "
                f"{values[bad][:3].tolist()} at rows {np.flatnonzero(bad)[:3].tolist()}"
            )
        return tempi
    if rule == "key":
        from ..audio.labels import parse_key

        tonics = []
        for i, key in enumerate(values):
            try:
                tonics.append(parse_key(key)[0])
            except ValueError as error:
                raise ValueError(f"dimension {name!r}, row {i}: {error}") from error
        return np.asarray(tonics, dtype=np.float64)
    missing = np.array([_is_missing(v) for v in values], dtype=bool)
    if missing.any():
        raise ValueError(
            f"dimension {name!r}: missing labels at rows "
            f"{np.flatnonzero(missing)[:5].tolist()}"
        )
    _, codes = np.unique(values.astype(str), return_inverse=True)
    return codes.astype(np.float64)


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))


def similar(a: Any, b: Any, rule: str, tempo_tolerance: float = 5.0) -> Any:
    """Whether codes ``a`` and ``b`` are similar under ``rule`` (broadcasting).

    Works on numpy arrays and on torch tensors alike.

    Examples
    --------
    >>> import numpy as np
    >>> similar(np.array([120.0]), np.array([60.0, 123.0, 90.0]), "tempo")
    array([ True,  True, False])
    """
    if rule != "tempo":
        return a == b
    close = abs(a - b) <= tempo_tolerance
    for octave in range(1, MAX_TEMPO_OCTAVES + 1):
        factor = 2.0**octave
        close = close | (abs(a - b * factor) <= tempo_tolerance)
        close = close | (abs(a - b / factor) <= tempo_tolerance)
    return close
