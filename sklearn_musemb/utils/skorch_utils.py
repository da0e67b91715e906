"""What every skorch estimator of the package shares: ``device="auto"`` and seeding.

:class:`AutoDeviceNetMixin` sits before skorch's ``NeuralNet`` (or one of its
subclasses) in the bases of the embedders, :class:`~sklearn_musemb.tasks.ChromaProbe`
and :class:`~sklearn_musemb.tasks.ForwardPredictor`, so the device and seed rules
of ``docs/estimators.md`` are written once.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import torch

from .torch_utils import (
    check_device,
    global_rng_states,
    resolve_device,
    seed_from,
    set_global_rng_states,
    torch_seeded,
)


class PrivateStateMixin:
    """Keep private attributes (leading underscore) out of a skorch object's params.

    skorch lists every attribute without a trailing underscore as a parameter,
    so ``get_params``/``clone`` of a net or callback that keeps, say, ``_start``
    would fail. Put it before the skorch class in the bases.

    Examples
    --------
    >>> from skorch.callbacks import Callback
    >>> class Timer(PrivateStateMixin, Callback):
    ...     def __init__(self, every=1):
    ...         self.every = every
    >>> timer = Timer()
    >>> timer._start = 0.0
    >>> timer.get_params()
    {'every': 1}
    """

    def _get_param_names(self) -> list[str]:
        return [k for k in super()._get_param_names() if not k.startswith("_")]


class AutoDeviceNetMixin(PrivateStateMixin):
    """``device="auto"``, private state and seeded fits for a skorch ``NeuralNet``.

    - skorch reads ``self.device`` wherever it moves modules and tensors, while
      ``get_params``/``clone`` must keep the ``"auto"`` parameter, so the resolved
      device is swapped in for :meth:`_on_resolved_device` blocks only, for the
      re-initialisation skorch does inside ``set_params`` on a fitted net, and for
      unpickling (a pickle made on a GPU loads on a CPU-only machine);
    - private attributes (leading underscore) are not constructor parameters
      (:class:`PrivateStateMixin`);
    - :meth:`_seeded_fit` resolves the device, records it in ``device_``, forks
      torch's global generator seeded from ``random_state`` (so module
      initialisation is reproducible and the caller's generator untouched) and
      holds a dedicated ``_torch_rng`` on the device for batch order and sampling;
      a warm call (``partial_fit``, ``fit`` with ``warm_start``) continues the
      random streams where the call before left them (same seed and device
      type), so ``k`` calls of one epoch draw what one call of ``k`` epochs draws;
    - :meth:`fit_loop` runs only the epochs a resumed fit has left
      (``_resumed_epochs``, set by :class:`~sklearn_musemb.callbacks.
      TrainingCheckpoint` when it restores a checkpoint).

    The class using it sets ``device`` and ``random_state`` in ``__init__``.

    Examples
    --------
    >>> from skorch import NeuralNet
    >>> class Net(AutoDeviceNetMixin, NeuralNet):
    ...     pass
    >>> import torch
    >>> net = Net(torch.nn.Linear, torch.nn.MSELoss, device="auto")
    >>> net.get_params()["device"]
    'auto'
    """

    def _requested_device(self) -> str:
        """The device asked for (subclasses may defer to a launcher)."""
        return self.device

    def _fit_seed(self, device: str) -> int | None:
        """The seed of one fit (subclasses may share it between processes)."""
        return None if self.random_state is None else seed_from(self.random_state)

    @contextlib.contextmanager
    def _on_resolved_device(self) -> Iterator[str]:
        """Let skorch see a concrete device while keeping the ``device`` param."""
        requested = self.device
        # a clear error for "tpu" or "cuda" without CUDA, not one from deep in torch
        resolved = check_device(self._requested_device(), type(self).__name__)
        vars(self)["device"] = resolved
        try:
            yield resolved
        finally:
            vars(self)["device"] = requested

    @contextlib.contextmanager
    def _seeded_fit(self, *, warm: bool = False) -> Iterator[str]:
        """The device and generators of one call of ``fit``/``partial_fit``.

        ``warm=True`` (a call that trains on from the current weights) continues
        the random streams of the previous call when it ran with the same seed on
        the same device type; otherwise they start from the seed.
        """
        with self._on_resolved_device() as device:
            seed = self._fit_seed(device)
            with torch_seeded(seed, device):
                self.device_ = device
                self._torch_rng = torch.Generator(device=device)
                self._torch_rng.manual_seed(seed_from(None) if seed is None else seed)
                self._fit_seeded = seed is not None
                self._resumed_epochs = 0
                key = (seed, torch.device(device).type)
                carried = vars(self).get("_rng_carry")
                if warm and seed is not None and carried and carried[0] == key:
                    self._set_rng_states(carried[1])
                try:
                    yield device
                finally:
                    if seed is not None:
                        self._rng_carry = (key, self._rng_states())
                    del self._torch_rng, self._fit_seeded, self._resumed_epochs

    def _rng_states(self) -> dict[str, torch.Tensor]:
        """The random streams of the running fit, as CPU ``uint8`` tensors.

        ``_torch_rng`` always; torch's global generators in a seeded fit only
        (they are then a fork of the caller's, see :func:`torch_seeded`).
        """
        states = {"generator": self._torch_rng.get_state()}
        if self._fit_seeded:
            states.update(global_rng_states(self.device_))
        return states

    def _set_rng_states(self, states: dict[str, torch.Tensor]) -> None:
        """Restore what :meth:`_rng_states` took (same device type)."""
        self._torch_rng.set_state(states["generator"])
        if self._fit_seeded and "cpu" in states:
            set_global_rng_states(states, self.device_)

    def _epochs_to_run(self) -> int:
        """Epochs of this call: ``max_epochs`` less those a checkpoint restored."""
        return max(self.max_epochs - getattr(self, "_resumed_epochs", 0), 0)

    def fit_loop(self, X: Any, y: Any = None, epochs: int | None = None, **kwargs):
        if epochs is None:
            epochs = self._epochs_to_run()
        return super().fit_loop(X, y, epochs=epochs, **kwargs)

    def set_params(self, **params: Any):
        # On a fitted net skorch re-initialises the module (and moves it to
        # ``self.device``) inside set_params, so "auto" must be resolved there too.
        if "device" in params or not getattr(self, "initialized_", False):
            return super().set_params(**params)
        with self._on_resolved_device():
            return super().set_params(**params)

    def __setstate__(self, state: dict[str, Any]) -> None:
        requested = state.get("device")
        if isinstance(requested, str) and requested == "auto":
            state["device"] = resolve_device("auto")
            super().__setstate__(state)
            vars(self)["device"] = "auto"
            vars(self)["device_"] = resolve_device("auto")
        else:
            super().__setstate__(state)
