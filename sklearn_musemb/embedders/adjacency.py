"""AdjD: the adjacency discriminator embedder of Bretan & Heck (2019)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from skorch.callbacks import PassthroughScoring
from skorch.dataset import unpack_data

from ..nn import AdjacencyNet
from ..units.container import Units
from ..utils.validation import check_positive_int
from .base import UnitEmbedder


class AdjDEmbedder(UnitEmbedder):
    """Embed 40-note units by learning which units are adjacent (AdjD).

    Two units are *related* when one directly follows the other in a piece. Both
    units go through the same encoder (tied towers, Bretan & Heck 2019, section
    3.2); a deliberately small classifier on the concatenated embeddings says
    related / not related, trained with two-class cross-entropy against
    ``n_negatives`` random units of the training set per adjacent pair. The pair
    order is flipped at random, so "before" and "after" neighbours both count.
    ``transform`` returns the encoder output only.

    Parameters
    ----------
    representation : {"two_hot", "continuous"}, default="two_hot"
        Input encoding: 272-wide two-hot events (pitch folded into MIDI 24..95,
        10 ms interval bins up to 2 s) or standardised ``(pitch, interval)`` pairs.
    embedding_dim : int, default=32
        Size of the embedding.
    n_negatives : int, default=1
        Random (not related) units drawn per adjacent pair, on the device, from all
        training units. A random unit is the true neighbour with probability about
        ``1 / n_units``; such collisions are not filtered.
    lr : float, default=1e-3
        Adam learning rate.
    max_epochs : int, default=10
        Passes over the adjacent pairs.
    batch_size : int, default=256
        Adjacent pairs per step (each step encodes ``(2 + n_negatives) *
        batch_size`` units).
    device : str, default="auto"
        ``"auto"``: CUDA when available, else CPU.
    random_state : int, RandomState instance or None, default=None
        Seeds initialisation, batch order and negatives.
    verbose : int, default=0
        1 prints skorch's per-epoch table (loss, pair accuracy, time).
    **kwargs
        Other skorch parameters: ``module__hidden_dim`` (256),
        ``module__event_channels`` (64), ``module__n_layers`` (8),
        ``module__classifier_hidden_dim`` (32), ``optimizer``, ``callbacks``,
        ``train_split``...

    Attributes
    ----------
    module_ : AdjacencyNet
        The trained network (``module_.encoder`` is the embedding network).
    history_ : skorch.History
        Per-epoch ``train_loss`` and ``train_pair_accuracy``.
    n_features_in_ : int
        ``2 * n_events`` of the training units.
    n_events_in_ : int
        Events per unit.
    event_mean_, event_scale_ : ndarray of shape (2,)
        Standardisation of ``(pitch, interval)`` used by the continuous encoding.
    device_ : str
        The device the model was trained on.

    See Also
    --------
    sklearn_musemb.units.segment_notes : cut pieces into 40-note units.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_musemb.embedders import AdjDEmbedder
    >>> rng = np.random.default_rng(0)
    >>> X = np.stack([rng.integers(40, 90, (50, 8)),
    ...               rng.integers(0, 600, (50, 8))], axis=-1)
    >>> emb = AdjDEmbedder(max_epochs=2, random_state=0, module__hidden_dim=32)
    >>> emb.fit_transform(X).shape
    (50, 32)
    """

    def __init__(
        self,
        *,
        representation: str = "two_hot",
        embedding_dim: int = 32,
        n_negatives: int = 1,
        module: type[torch.nn.Module] = AdjacencyNet,
        criterion: type[torch.nn.Module] = torch.nn.CrossEntropyLoss,
        optimizer: type[torch.optim.Optimizer] = torch.optim.Adam,
        lr: float = 1e-3,
        max_epochs: int = 10,
        batch_size: int = 256,
        train_split: Any = None,
        callbacks: Any = None,
        verbose: int = 0,
        device: str = "auto",
        random_state: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            module,
            criterion,
            representation=representation,
            embedding_dim=embedding_dim,
            optimizer=optimizer,
            lr=lr,
            max_epochs=max_epochs,
            batch_size=batch_size,
            train_split=train_split,
            callbacks=callbacks,
            verbose=verbose,
            device=device,
            random_state=random_state,
            **kwargs,
        )
        self.n_negatives = n_negatives

    def _check_params(self) -> None:
        super()._check_params()
        check_positive_int(self.n_negatives, "n_negatives", type(self).__name__)

    @property
    def _default_callbacks(self) -> list[tuple[str, Any]]:
        callbacks = list(super()._default_callbacks)
        # before print_log, so the epoch table shows them
        callbacks[-1:-1] = [
            (
                f"{p}_pair_accuracy",
                PassthroughScoring(name=f"{p}_pair_accuracy", on_train=p == "train"),
            )
            for p in ("train", "valid")
        ]
        return callbacks

    def _training_data(self, units: Units) -> tuple[np.ndarray, np.ndarray]:
        first, second = units.adjacent_pairs()
        if len(first) == 0:
            raise ValueError(
                f"AdjDEmbedder needs at least one pair of adjacent units to train, "
                f"found none among n_samples={len(units)} units of "
                f"{len(np.unique(units.piece))} piece(s); a piece must yield at "
                "least 2 consecutive units"
            )
        return first.astype(np.int64), second.astype(np.int64)

    def _pair_logits(
        self, first: torch.Tensor, second: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Logits and targets for a batch of adjacent pairs plus random negatives."""
        n_pairs, k = len(first), self.n_negatives
        rng, device = self._torch_rng, first.device
        swap = torch.rand(n_pairs, generator=rng, device=device) < 0.5
        anchor = torch.where(swap, second, first)
        positive = torch.where(swap, first, second)
        negative = torch.randint(
            len(self._events_on_device), (n_pairs * k,), generator=rng, device=device
        )
        emb = self.module_.embed(
            self._encode_rows(torch.cat([anchor, positive, negative]))
        )
        a, p, n = emb[:n_pairs], emb[n_pairs : 2 * n_pairs], emb[2 * n_pairs :]
        left = torch.cat([a, a.repeat_interleave(k, dim=0)])
        right = torch.cat([p, n])
        logits = self.module_.classifier(left, right)
        target = torch.zeros(len(logits), dtype=torch.long, device=device)
        target[:n_pairs] = 1
        return logits, target

    def _step(self, batch: Any, training: bool) -> dict[str, torch.Tensor]:
        first, second = unpack_data(batch)
        logits, target = self._pair_logits(first, second)
        loss = self.get_loss(logits, target, training=training)
        accuracy = (logits.argmax(dim=1) == target).float().mean()
        prefix = "train" if training else "valid"
        self.history.record_batch(f"{prefix}_pair_accuracy", accuracy.item())
        return {"loss": loss, "y_pred": logits}

    def train_step_single(self, batch: Any, **fit_params: Any) -> dict[str, Any]:
        self._set_training(True)
        step = self._step(batch, training=True)
        step["loss"].backward()
        return step

    def validation_step(self, batch: Any, **fit_params: Any) -> dict[str, Any]:
        self._set_training(False)
        with torch.no_grad():
            return self._step(batch, training=False)


#: The design card's spelling; the same class.
ADjDEmbedder = AdjDEmbedder
