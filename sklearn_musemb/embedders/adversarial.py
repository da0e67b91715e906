"""The adversarial prior of A-DSSM, A-AdjD and the AAE (Bretan & Heck 2019, 3.1).

A discriminator on the embedding learns to tell samples of N(0, I) from embeddings;
the encoder (the "generator") learns to fool it. Every training batch then takes
three optimisation steps, each with its own optimizer, the way skorch's
documentation adds modules and optimizers to a net (names ending in ``_`` built
in ``initialize_module`` / ``initialize_optimizer``):

1. the method's own loss (similarity, adjacency or reconstruction) updates
   ``module_`` with ``optimizer_`` (``lr``);
2. ``discriminator_`` takes a step with ``optimizer_disc_``
   (``optimizer_disc__lr``) on fresh prior samples against the batch's
   embeddings;
3. the encoder takes a step with ``optimizer_gen_`` (``optimizer_gen__lr``) to make
   the discriminator call its embeddings prior samples.

The encoder is deterministic: the only randomness is the data's (the paper's
"deterministic version of the GAN"). Both losses are in ``history_``
(``train_disc_loss``, ``train_gen_loss``) beside ``train_loss``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from skorch.utils import TeeGenerator

from ..nn.losses import prior_discriminator_loss, prior_generator_loss

#: Per-batch figures the adversarial step records.
ADVERSARY_METRICS = ("disc_loss", "gen_loss")

#: Learning rates of the two GAN steps unless given. The paper needed a GAN rate
#: higher than its similarity loss's (3.1) but gives neither; with Adam and the
#: method's ``lr=1e-3``, a GAN rate ten times LOWER won on validation pieces of
#: piano-midi for all three adversarial methods, while 1e-3 / 2e-3 collapsed the
#: embeddings (``benchmarks/gan_lr_selection.py``, docs/methods-bretan-heck.md).
GAN_LR_DEFAULTS = {"optimizer_disc__lr": 1e-4, "optimizer_gen__lr": 1e-4}


def with_gan_lr_defaults(kwargs: dict[str, Any]) -> dict[str, Any]:
    """``kwargs`` completed with the default GAN learning rates."""
    return {**GAN_LR_DEFAULTS, **kwargs}


class PriorAdversaryMixin:
    """Add the N(0, I) adversary to a :class:`~sklearn_musemb.embedders.UnitEmbedder`.

    The concrete class sets ``adversarial`` (bool), ``discriminator`` (module
    class, built with ``embedding_dim`` and ``discriminator__*`` parameters),
    ``optimizer_disc`` and ``optimizer_gen`` in ``__init__``, names
    :data:`ADVERSARY_METRICS` in its ``_batch_metrics``. The embeddings that meet
    the discriminator are those of the batch's first index tensor: the units of an
    autoencoder's batch, one unit of each adjacent pair of a DSSM/AdjD batch. The
    discriminator and its optimizers are built even with ``adversarial=False``
    (they are tiny), so ``discriminator__*`` and ``optimizer_disc__*`` parameters
    stay valid whichever way a grid switches ``adversarial``.
    """

    def _check_params(self) -> None:
        super()._check_params()
        if not isinstance(self.adversarial, bool | np.bool_):
            raise ValueError(
                f"{type(self).__name__}: adversarial must be True or False, got "
                f"{self.adversarial!r}"
            )

    def initialize_module(self):
        super().initialize_module()
        kwargs = {
            "embedding_dim": self.embedding_dim,
            **self.get_params_for("discriminator"),
        }
        self.discriminator_ = self.initialized_instance(self.discriminator, kwargs)
        return self

    def initialize_optimizer(self, *args: Any, **kwargs: Any):
        # skorch's default gives optimizer_ every learnable parameter, the
        # discriminator's included; each optimizer here owns its own part.
        parts = [
            ("optimizer", self.module_),
            ("optimizer_disc", self.discriminator_),
            ("optimizer_gen", self._encoder()),
        ]
        for name, module in parts:
            groups, options = self.get_params_for_optimizer(
                name, module.named_parameters()
            )
            setattr(self, f"{name}_", getattr(self, name)(*groups, **options))
        return self

    def train_step(self, batch: Any, **fit_params: Any) -> dict[str, Any]:
        self._set_training(True)
        self.optimizer_.zero_grad()
        step = self.train_step_single(batch, **fit_params)
        self.notify(
            "on_grad_computed",
            named_parameters=TeeGenerator(self.module_.named_parameters()),
            batch=batch,
            training=True,
        )
        self.optimizer_.step()
        if self.adversarial:
            self._prior_step(batch[0])
        return step

    def _prior_step(self, rows: torch.Tensor) -> None:
        """One discriminator step, then one generator (encoder) step."""
        with self._autocast():
            embedding = self._embed(self._encode_rows(rows))
            prior = torch.randn(
                embedding.shape, generator=self._torch_rng, device=embedding.device
            )
            disc_loss = prior_discriminator_loss(
                self.discriminator_(prior), self.discriminator_(embedding.detach())
            )
        self.optimizer_disc_.zero_grad()
        disc_loss.backward()
        self._average_gradients(self.discriminator_)
        self.optimizer_disc_.step()

        self.optimizer_gen_.zero_grad()
        with self._autocast():
            gen_loss = prior_generator_loss(self.discriminator_(embedding))
        gen_loss.backward()
        self._average_gradients(self._encoder())
        self.optimizer_gen_.step()
        self._record("disc_loss", disc_loss, training=True)
        self._record("gen_loss", gen_loss, training=True)
