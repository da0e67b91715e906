"""Device resolution and seeding for the torch side of the estimators."""

from __future__ import annotations

import contextlib
import threading
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


#: Held by :func:`torch_seeded`: torch's global generators are shared by the
#: threads of a process, so seeded blocks in two threads (a threaded Dask worker,
#: joblib's threading backend) would otherwise draw from each other's seed.
_GLOBAL_RNG_LOCK = threading.RLock()


@contextlib.contextmanager
def torch_seeded(seed: int | None, device: str) -> Iterator[None]:
    """Run a block with torch's global generators seeded, then restore them.

    Module initialisation uses torch's global generator; forking it keeps a fit
    with ``random_state`` set reproducible without disturbing the caller's state.
    Seeded blocks of one process run one at a time (a lock), so concurrent fits
    in threads stay reproducible. With ``seed=None`` nothing is seeded, restored
    or locked.
    """
    if seed is None:
        yield
        return
    devices = [torch.device(device)] if torch.device(device).type == "cuda" else []
    with _GLOBAL_RNG_LOCK, torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield


def global_rng_states(device: str) -> dict[str, torch.Tensor]:
    """Snapshot of torch's global generators a fit on ``device`` draws from.

    The CPU generator always, the CUDA generator of ``device`` when it is a CUDA
    device. The states are CPU ``uint8`` tensors (what :func:`torch.save` with
    ``weights_only`` loading handles); :func:`set_global_rng_states` restores them.

    Examples
    --------
    >>> states = global_rng_states("cpu")
    >>> a = torch.rand(3)
    >>> set_global_rng_states(states, "cpu")
    >>> torch.equal(a, torch.rand(3))
    True
    """
    states = {"cpu": torch.get_rng_state()}
    if torch.device(device).type == "cuda":
        states["cuda"] = torch.cuda.get_rng_state(device)
    return states


def set_global_rng_states(states: dict[str, torch.Tensor], device: str) -> None:
    """Restore what :func:`global_rng_states` took (the CUDA part on a CUDA device)."""
    torch.set_rng_state(states["cpu"])
    if "cuda" in states and torch.device(device).type == "cuda":
        torch.cuda.set_rng_state(states["cuda"], device)


#: Values of the embedders' ``precision`` parameter.
PRECISIONS = ("fp32", "bf16")


def check_precision(precision: object, owner: str) -> str:
    """Return ``precision`` if it is one of :data:`PRECISIONS`, else raise.

    Examples
    --------
    >>> check_precision("bf16", "AdjDEmbedder")
    'bf16'
    """
    if precision not in PRECISIONS:
        raise ValueError(
            f"{owner}: precision must be one of {PRECISIONS}, got {precision!r}"
        )
    return str(precision)


def autocast(device: str, precision: str) -> contextlib.AbstractContextManager:
    """The forward-pass context of ``precision`` on ``device``.

    ``"fp32"`` runs everything in float32; ``"bf16"`` runs matrix products and
    convolutions in bfloat16 under :func:`torch.autocast` (losses and reductions
    stay in float32, and bfloat16 needs no gradient scaling).

    Examples
    --------
    >>> with autocast("cpu", "bf16"):
    ...     out = torch.nn.Linear(4, 2)(torch.ones(3, 4))
    >>> out.dtype
    torch.bfloat16
    """
    return torch.autocast(
        torch.device(device).type,
        dtype=torch.bfloat16,
        enabled=precision == "bf16",
    )


def check_device(device: object, owner: str) -> str:
    """Resolve a ``device`` parameter and check that torch can use it.

    Raises a ValueError naming ``owner`` for a string that is not a torch device
    and for CUDA on a machine without it.

    Examples
    --------
    >>> check_device("cpu", "adjacency_ranks")
    'cpu'
    """
    name = resolve_device(device)
    try:
        parsed = torch.device(name)
    except (RuntimeError, TypeError) as err:
        raise ValueError(f"{owner}: device={device!r} is not a torch device") from err
    if parsed.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"{owner}: device={device!r} but torch finds no CUDA device")
    return name
