"""Schindler & Knees (2019): audio embeddings trained by tag-relatedness triplets."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.base import clone

from ..nn.audio import ParallelCNN
from ..nn.triplet import batch_hard_triplet_loss, squared_euclidean
from ..tags import LSITagTransformer
from ..utils.validation import check_finite_number
from .audio import AudioEmbedder, FeatureMaps


class TagTripletEmbedder(AudioEmbedder):
    """Audio embedding whose distances follow the relatedness of tag sets.

    Schindler & Knees (2019): every training track's tag sets become an LSI vector
    (:class:`~sklearn_musemb.tags.LSITagTransformer`); in each batch, two tracks
    whose LSI vectors have a cosine of at least ``positive_threshold`` form a
    positive pair, below ``negative_threshold`` a negative pair (pairs of one track
    with itself, and of two tracks of the same album, ``groups``, are neither); each
    anchor takes its hardest positive (farthest) and hardest negative (closest) by
    squared Euclidean distance of the embeddings, and the loss is the hinge
    ``max(0, d(a, p) - d(a, n) + margin)``. The network is the Deep Parallel
    Neural Network (``sklearn_musemb.nn.audio.ParallelCNN``, 256-d).

    Parameters
    ----------
    tag_model : transformer or None, default=None
        Turns ``y`` (tag sets) into vectors; ``None`` uses
        ``LSITagTransformer(n_topics=100)``. It is cloned and fitted on the training
        tags only (``tag_model_``). Ignored when ``y`` holds numbers.
    positive_threshold, negative_threshold : float, default=0.8, 0.2
        Cosine of the tag vectors at or above which a pair is positive, and below
        which it is negative.
    margin : float, default=0.2
        Margin of the hinge (the paper does not give its value).
    normalize : bool, default=True
        L2-normalise the embeddings, in training and in ``transform`` (squared
        distances then lie in [0, 4], which gives ``margin`` a fixed scale).
    embedding_dim : int, default=256
    batch_size : int, default=600
        The paper's batch: triplets are only found within a batch, so small
        batches find few.
    module : type of torch.nn.Module, default=ParallelCNN
        Receives ``input_shape`` and ``embedding_dim``; ``module__channels=(8,
        16)`` etc. size it.
    **kwargs
        Every other parameter of :class:`~sklearn_musemb.embedders.NetEmbedder`
        (``lr``, ``max_epochs``, ``device``, ``random_state``...).

    Attributes
    ----------
    tag_model_ : transformer or None
        The fitted ``tag_model`` (``None`` when ``y`` held numeric vectors).
        Model files (:func:`~sklearn_musemb.persistence.save_model`) leave it
        out: it only turns training tags into vectors, and a loaded model's
        next ``partial_fit`` on tag lists fits a new one.
    input_shape_ : tuple of int
        ``(n_bins, n_frames)`` of the training maps.
    history_ : skorch History
        Per epoch: ``train_loss`` and ``train_triplet_fraction`` (the share of
        anchors that found a positive and a negative).

    Notes
    -----
    ``y`` may be: a list of tag lists, or a DataFrame of tag-set columns (tag sets
    are combined before LSI, each tag prefixed by its set); a 1-d array of labels
    (one tag per item); or a 2-d numeric array of precomputed tag vectors. Two
    tracks then count as related exactly as
    :func:`~sklearn_musemb.tags.tag_relatedness` says. The paper's text selects
    the positive by "argmin" and the negative by "argmax" of the distances; we
    follow the issue and the usual batch-hard rule (farthest positive, closest
    negative), which is what makes the triplets hard.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_musemb.embedders import TagTripletEmbedder
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(24, 8, 10)).astype("float32")
    >>> tags = [["piano", "calm"], ["organ", "loud"], ["piano", "loud"]] * 8
    >>> emb = TagTripletEmbedder(embedding_dim=4, module__channels=(4,),
    ...                          max_epochs=2, batch_size=12, random_state=0)
    >>> emb.fit(X, tags).transform(X).shape
    (24, 4)
    """

    _batch_metrics = ("triplet_fraction",)
    _target_attributes = ("tag_model_",)
    #: Fitted attributes that transform does not need and model files omit.
    _not_in_model_files = ("tag_model_",)

    def __init__(
        self,
        module: type[torch.nn.Module] = ParallelCNN,
        criterion: type[torch.nn.Module] = torch.nn.Identity,
        *,
        tag_model: Any = None,
        positive_threshold: float = 0.8,
        negative_threshold: float = 0.2,
        margin: float = 0.2,
        normalize: bool = True,
        embedding_dim: int = 256,
        batch_size: int = 600,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            module,
            criterion,
            embedding_dim=embedding_dim,
            batch_size=batch_size,
            **kwargs,
        )
        self.tag_model = tag_model
        self.positive_threshold = positive_threshold
        self.negative_threshold = negative_threshold
        self.margin = margin
        self.normalize = normalize

    def _check_params(self) -> None:
        super()._check_params()
        name = type(self).__name__
        for param in ("positive_threshold", "negative_threshold"):
            check_finite_number(getattr(self, param), param, name, minimum=-1.0)
        check_finite_number(self.margin, "margin", name)
        if not -1.0 <= self.negative_threshold <= self.positive_threshold <= 1.0:
            raise ValueError(
                f"{name}: need -1 <= negative_threshold <= positive_threshold <= 1, "
                f"got {self.negative_threshold} and {self.positive_threshold}"
            )
        if not isinstance(self.normalize, bool | np.bool_):
            raise ValueError(f"{name}: normalize must be True or False")

    # -- fitting -----------------------------------------------------------------------
    def fit(self, X: Any, y: Any = None, groups: Any = None, **fit_params: Any):
        """Train on feature maps ``X`` with tag sets ``y``.

        Parameters
        ----------
        X : array-like of shape (n_items, n_bins, n_frames) or (n_items, n_features)
            Feature maps, e.g. of :class:`~sklearn_musemb.audio.LogMelSpectrogram`.
        y : tag lists, DataFrame of tag-set columns, 1-d labels or 2-d vectors
            What makes two items related (see Notes).
        groups : array-like of shape (n_items,), optional
            Album (or piece) of each item: pairs within a group are never used.
        **fit_params : dict
            Passed on to skorch.

        Returns
        -------
        self : TagTripletEmbedder
        """
        self._groups = groups
        try:
            return self._fit(X, y, warm=self.warm_start, **fit_params)
        finally:
            del self._groups

    def partial_fit(
        self,
        X: Any,
        y: Any = None,
        classes: Any = None,
        groups: Any = None,
        **fit_params: Any,
    ):
        """Continue training for ``max_epochs`` more epochs (as :meth:`fit`)."""
        self._groups = groups
        try:
            return self._fit(X, y, warm=True, **fit_params)
        finally:
            del self._groups

    def _tag_vectors(self, y: Any, n: int, *, reset: bool) -> np.ndarray:
        """Unit-length tag vectors of the training items, ``(n, k)``."""
        name = type(self).__name__
        numeric = None
        if not (hasattr(y, "columns") or _holds_tag_lists(y)):
            array = np.asarray(y)
            if array.ndim == 2 and array.dtype.kind in "fiub":
                numeric = array.astype(np.float64)
            elif array.ndim == 1:
                y = [[str(label)] for label in array.tolist()]
            elif array.ndim != 2:
                raise ValueError(
                    f"{name}: y must be 1-d or 2-d, got shape {array.shape}"
                )
        if numeric is not None:
            if reset:
                self.tag_model_ = None
            vectors = numeric
        else:
            if reset or getattr(self, "tag_model_", None) is None:
                model = (
                    self.tag_model
                    if self.tag_model is not None
                    else (LSITagTransformer(n_topics=100, random_state=0))
                )
                self.tag_model_ = clone(model).fit(y)
            vectors = np.asarray(self.tag_model_.transform(y), dtype=np.float64)
        if len(vectors) != n:
            raise ValueError(f"{name}: X has {n} items but y has {len(vectors)}")
        if not np.isfinite(vectors).all():
            raise ValueError(f"{name}: the tag vectors of y contain NaN or infinity")
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.where(norms > 0, norms, 1.0)

    def _training_data(self, units: FeatureMaps, y: Any = None):
        n = len(units)
        vectors = self._tag_vectors(y, n, reset=not hasattr(self, "tag_model_"))
        groups = self._groups
        if groups is None:
            group_ids = np.arange(n)
        else:
            groups = np.asarray(groups).ravel()
            if len(groups) != n:
                raise ValueError(
                    f"{type(self).__name__}: X has {n} items but groups has "
                    f"{len(groups)}"
                )
            group_ids = np.unique(groups.astype(str), return_inverse=True)[1]
        targets = self._targets_on_device()
        targets["vectors"] = torch.as_tensor(
            vectors, dtype=torch.float32, device=self.device
        )
        targets["groups"] = torch.as_tensor(group_ids, device=self.device)
        return super()._training_data(units, y)

    def _batch_loss(self, batch: Any, training: bool) -> torch.Tensor:
        rows, _ = batch
        targets = self._targets_on_device()
        vectors, groups = targets["vectors"][rows], targets["groups"][rows]
        relatedness = vectors @ vectors.T
        other_album = groups[:, None] != groups[None, :]  # also drops the diagonal
        positive = (relatedness >= self.positive_threshold) & other_album
        negative = (relatedness < self.negative_threshold) & other_album
        distances = squared_euclidean(self._embed(self._encode_rows(rows)))
        loss, n_triplets = batch_hard_triplet_loss(
            distances, positive, negative, self.margin
        )
        self._record("triplet_fraction", n_triplets / len(rows), training)
        return loss

    def _embed(self, encoded: torch.Tensor) -> torch.Tensor:
        embeddings = self.module_(encoded)
        return F.normalize(embeddings, dim=1) if self.normalize else embeddings


def _holds_tag_lists(y: Any) -> bool:
    """Whether ``y`` is a sequence of tag collections (not of single labels)."""
    if isinstance(y, np.ndarray) or not isinstance(y, list | tuple) or not y:
        return False
    first = y[0]
    return isinstance(first, list | tuple | set | frozenset | np.ndarray)
