"""The base of the audio embedders: feature maps in, embeddings out.

The audio embedders take the output of the feature transformers of
:mod:`sklearn_musemb.audio` (log-mel, cyclic tempogram, CENS chroma: one
``(n_bins, n_frames)`` map per segment), so they sit after them in a
:class:`~sklearn.pipeline.Pipeline`. The maps are held on the training device once
per ``fit`` and batches are index tensors into them, as for the other embedders.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from scipy.sparse import issparse
from sklearn.utils import Tags
from sklearn.utils.validation import validate_data

from .base import NetEmbedder


class FeatureMaps:
    """Checked feature maps, shaped ``(n_items, n_bins, n_frames)``, as units.

    :class:`~sklearn_musemb.embedders.base.NetEmbedder` holds what it trains on as
    ``units.events``; for audio those are float32 feature maps.
    """

    def __init__(self, maps: np.ndarray) -> None:
        self.events = maps

    def __len__(self) -> int:
        return len(self.events)


class AudioEmbedder(NetEmbedder):
    """Base class of the audio embedders (:class:`TagTripletEmbedder`,
    :class:`ConditionalSimilarityEmbedder`); not used directly.

    Input ``X`` is an array of feature maps, shape ``(n_items, n_bins, n_frames)``
    (e.g. the output of :class:`~sklearn_musemb.audio.LogMelSpectrogram`), or a
    2-d array ``(n_items, n_features)``: flattened maps of the fitted shape, or,
    at fit time, one map of a single bin per row. Values must be finite.

    Parameters
    ----------
    module : type of torch.nn.Module
        The network; it receives ``input_shape`` and ``embedding_dim`` (plus what
        the subclass adds) and every ``module__*`` parameter.
    **kwargs
        Every parameter of :class:`~sklearn_musemb.embedders.NetEmbedder`.
    """

    _abstract = True
    # batch norm cannot train on a batch of one item
    _min_batch_size = 2
    #: What ``fit`` learns from ``y``: forgotten by a fresh fit, kept by partial_fit.
    _target_attributes: tuple[str, ...] = ()

    def __sklearn_tags__(self) -> Tags:
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.input_tags.positive_only = False
        tags.target_tags.required = True
        return tags

    def _validate_units(self, X: Any, *, reset: bool) -> FeatureMaps:
        name = type(self).__name__
        if not (hasattr(X, "iloc") or issparse(X)):
            X = np.asarray(X)
        if X.ndim == 3:
            shape = tuple(int(s) for s in X.shape[1:])
            X = X.reshape(len(X), -1)
        elif X.ndim == 2 and (reset or not hasattr(self, "input_shape_")):
            shape = (1, X.shape[1])
        elif X.ndim == 2:
            shape = tuple(self.input_shape_)
        else:
            shape = None  # validate_data names the wrong dimensionality
        if not reset and shape is not None and shape != tuple(self.input_shape_):
            raise ValueError(
                f"X holds {shape[0]} x {shape[1]} feature maps, but {name} was "
                f"fitted on {self.input_shape_[0]} x {self.input_shape_[1]} "
                "(bins x frames)"
            )
        X = validate_data(self, X, reset=reset, dtype=np.float32)
        if reset:
            if len(X) < self._min_batch_size:
                raise ValueError(
                    f"{name} needs at least {self._min_batch_size} samples to train "
                    f"(batch norm), got {len(X)} sample"
                )
            self.input_shape_ = shape
            for attribute in self._target_attributes:
                vars(self).pop(attribute, None)
        return FeatureMaps(np.ascontiguousarray(X.reshape(len(X), *shape)))

    def _batch_encoder(self, device: str) -> Callable[[torch.Tensor], torch.Tensor]:
        # the maps are dense already
        return _identity

    def _module_kwargs(self) -> dict[str, Any]:
        return {
            "input_shape": tuple(self.input_shape_),
            "embedding_dim": self.embedding_dim,
        }

    def _targets_on_device(self) -> dict[str, torch.Tensor]:
        """Per-item training targets, held on the device for one ``fit``."""
        return self.__dict__.setdefault("_targets", {})

    def _fit(self, X: Any, y: Any, *, warm: bool, **fit_params: Any) -> AudioEmbedder:
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is "
                "None: it learns which items are similar from their labels"
            )
        try:
            return super()._fit(X, y, warm=warm, **fit_params)
        finally:
            self.__dict__.pop("_targets", None)

    def _training_data(
        self, units: FeatureMaps, y: Any = None
    ) -> tuple[np.ndarray, None]:
        return np.arange(len(units), dtype=np.int64), None


def _identity(maps: torch.Tensor) -> torch.Tensor:
    return maps
