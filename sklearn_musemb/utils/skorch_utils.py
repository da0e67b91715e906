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

from .torch_utils import resolve_device, seed_from, torch_seeded


class AutoDeviceNetMixin:
    """``device="auto"``, private state and seeded fits for a skorch ``NeuralNet``.

    - skorch reads ``self.device`` wherever it moves modules and tensors, while
      ``get_params``/``clone`` must keep the ``"auto"`` parameter, so the resolved
      device is swapped in for :meth:`_on_resolved_device` blocks only, for the
      re-initialisation skorch does inside ``set_params`` on a fitted net, and for
      unpickling (a pickle made on a GPU loads on a CPU-only machine);
    - private attributes (leading underscore) are not constructor parameters;
    - :meth:`_seeded_fit` resolves the device, records it in ``device_``, forks
      torch's global generator seeded from ``random_state`` (so module
      initialisation is reproducible and the caller's generator untouched) and
      holds a dedicated ``_torch_rng`` on the device for batch order and sampling.

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

    def _get_param_names(self) -> list[str]:
        # skorch lists every attribute without a trailing underscore as a param;
        # private state (leading underscore) is not a constructor argument.
        return [k for k in super()._get_param_names() if not k.startswith("_")]

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
        resolved = resolve_device(self._requested_device())
        vars(self)["device"] = resolved
        try:
            yield resolved
        finally:
            vars(self)["device"] = requested

    @contextlib.contextmanager
    def _seeded_fit(self) -> Iterator[str]:
        """The device and generators of one call of ``fit``/``partial_fit``."""
        with self._on_resolved_device() as device:
            seed = self._fit_seed(device)
            with torch_seeded(seed, device):
                self.device_ = device
                self._torch_rng = torch.Generator(device=device)
                self._torch_rng.manual_seed(seed_from(None) if seed is None else seed)
                try:
                    yield device
                finally:
                    del self._torch_rng

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
