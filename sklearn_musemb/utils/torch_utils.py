"""Device resolution and seeding for the torch side of the estimators."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numpy as np
import torch
from sklearn.utils import check_random_state


def resolve_device(device: str | torch.device | None) -> str:
    """Turn a ``device`` parameter into a concrete torch device string.

    Parameters
    ----------
    device : str, torch.device or None
        ``"auto"`` picks ``"cuda"`` when a CUDA device is available, else ``"cpu"``
        (so one script runs on a laptop and on a GPU node). ``None`` means CPU.
        Anything else is returned as given (``"cuda:1"``, ``"mps"``...).

    Returns
    -------
    str

    Examples
    --------
    >>> resolve_device("cpu")
    'cpu'
    >>> resolve_device("auto") in {"cpu", "cuda"}
    True
    """
    if device is None:
        return "cpu"
    if isinstance(device, str) and device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return str(device)


def seed_from(random_state: int | np.random.RandomState | None) -> int:
    """Draw one 31-bit seed from anything ``check_random_state`` accepts.

    Examples
    --------
    >>> seed_from(0) == seed_from(0)
    True
    """
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


@contextlib.contextmanager
def torch_seeded(seed: int | None, device: str) -> Iterator[None]:
    """Run a block with torch's global generators seeded, then restore them.

    Module initialisation uses torch's global generator; forking it keeps a fit
    with ``random_state`` set reproducible without disturbing the caller's state.
    With ``seed=None`` nothing is seeded or restored.
    """
    if seed is None:
        yield
        return
    devices = [torch.device(device)] if torch.device(device).type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield
