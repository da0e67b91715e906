"""Paper 002: a multi-input conditional similarity network of music audio."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted

from ..metrics.similarity_rules import check_rule, code_labels, similar
from ..nn.conditional import MASKS, ConditionalNet
from ..nn.triplet import cosine_distances, semihard_triplet_loss
from ..utils.validation import check_finite_number
from .audio import AudioEmbedder, FeatureMaps


class ConditionalSimilarityEmbedder(AudioEmbedder):
    """Audio embedding with one sub-space per musical dimension (paper 002).

    Each column of ``y`` is a dimension (genre, instrument, era, tempo, key...),
    with a similarity rule (:mod:`sklearn_musemb.metrics.similarity_rules`):
    equal labels, tempi within ``tempo_tolerance`` bpm or a tempo octave, same or
    parallel key. The embedding (layer-normalised) is split by masks into one
    sub-space per dimension; for each dimension, every anchor-positive pair of a
    batch (similar in that dimension) takes a semi-hard negative (dissimilar in it)
    by cosine distance of the masked embeddings, and the loss is the mean over
    dimensions of the triplet hinges (margin ``margin``). The backbone is the
    Inception network of the paper, single-input (``inputs=None``) or
    multi-input (``inputs`` = bins of each stacked input, e.g. the
    ``input_bands_`` of :class:`~sklearn_musemb.audio.MultiInputFeatures`).

    Parameters
    ----------
    rules : mapping, sequence of str or None, default=None
        The rule of each dimension: a sequence with one rule per column of ``y``,
        or a mapping from column name (or index) to rule, unlisted columns using
        ``"equal"``; ``None`` uses ``"equal"`` everywhere.
    inputs : sequence of int or None, default=None
        Multi-input: the bins of each input stacked along the bin axis of ``X``.
    masks : {"fixed", "learned"}, default="fixed"
        Disjoint equal sub-spaces, or learned masks.
    margin : float, default=0.1
        Margin of the triplet hinge, and the window of semi-hard negatives
        (paper: 0.1).
    tempo_tolerance : float, default=5.0
        Bpm within which two tempi (or tempo octaves) are similar.
    mask_penalty : float, default=5e-4
        L1 weight on learned masks (ignored for fixed masks).
    embedding_dim : int, default=256
    batch_size : int, default=128
        Triplets are mined within a batch; memory grows as ``batch_size ** 3``.
    module : type of torch.nn.Module, default=ConditionalNet
        Receives ``input_shape``, ``embedding_dim``, ``n_dimensions``, ``inputs``
        and ``masks``; ``module__width=8``, ``module__n_blocks=2`` size it.
    **kwargs
        Every other parameter of :class:`~sklearn_musemb.embedders.NetEmbedder`.

    Attributes
    ----------
    dimensions_ : list of str
        Name of each dimension (the columns of a DataFrame ``y``, else
        ``"dim0"``...).
    rules_ : list of str
        The rule of each dimension.
    input_shape_ : tuple of int
        ``(n_bins, n_frames)`` of the training maps.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from sklearn_musemb.embedders import ConditionalSimilarityEmbedder
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(16, 12, 10)).astype("float32")
    >>> y = pd.DataFrame({"instrument": ["piano", "organ"] * 8,
    ...                   "tempo": [60.0, 90.0, 120.0, 100.0] * 4})
    >>> emb = ConditionalSimilarityEmbedder(
    ...     rules={"tempo": "tempo"}, embedding_dim=8, module__width=4,
    ...     module__n_blocks=1, max_epochs=2, batch_size=16, random_state=0)
    >>> emb.fit(X, y).transform(X).shape
    (16, 8)
    >>> emb.dimensions_, emb.rules_
    (['instrument', 'tempo'], ['equal', 'tempo'])
    >>> sub = emb.transform_subspace(X, ["tempo"])
    >>> bool((sub[:, :4] == 0).all())
    True
    """

    _batch_metrics = ("pair_fraction",)
    _target_attributes = ("dimensions_", "rules_")

    def __init__(
        self,
        module: type[torch.nn.Module] = ConditionalNet,
        criterion: type[torch.nn.Module] = torch.nn.Identity,
        *,
        rules: Mapping[Any, str] | Sequence[str] | None = None,
        inputs: Sequence[int] | None = None,
        masks: str = "fixed",
        margin: float = 0.1,
        tempo_tolerance: float = 5.0,
        mask_penalty: float = 5e-4,
        embedding_dim: int = 256,
        batch_size: int = 128,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            module,
            criterion,
            embedding_dim=embedding_dim,
            batch_size=batch_size,
            **kwargs,
        )
        self.rules = rules
        self.inputs = inputs
        self.masks = masks
        self.margin = margin
        self.tempo_tolerance = tempo_tolerance
        self.mask_penalty = mask_penalty

    def _check_params(self) -> None:
        super()._check_params()
        name = type(self).__name__
        if self.masks not in MASKS:
            raise ValueError(
                f"{name}: masks must be one of {MASKS}, got {self.masks!r}"
            )
        for param in ("margin", "tempo_tolerance", "mask_penalty"):
            check_finite_number(getattr(self, param), param, name)
        if self.inputs is not None and (
            isinstance(self.inputs, str | bytes)
            or not all(isinstance(b, int | np.integer) and b > 0 for b in self.inputs)
        ):
            raise ValueError(
                f"{name}: inputs must be None or a sequence of positive bin counts, "
                f"got {self.inputs!r}"
            )

    # -- the dimensions of y -----------------------------------------------------------
    def _dimension_table(self, y: Any, n: int) -> tuple[list[str], list[np.ndarray]]:
        """Names and columns of ``y``, one per dimension."""
        name = type(self).__name__
        if hasattr(y, "columns"):
            names = [str(c) for c in y.columns]
            columns = [np.asarray(y[c], dtype=object) for c in y.columns]
        else:
            array = np.asarray(y, dtype=object)
            if array.ndim == 1:
                array = array[:, None]
            if array.ndim != 2:
                raise ValueError(
                    f"{name}: y must be 1-d or 2-d, got shape {array.shape}"
                )
            names = [f"dim{j}" for j in range(array.shape[1])]
            columns = list(array.T)
        if not columns:
            raise ValueError(f"{name}: y has no dimension (0 columns)")
        if len(columns[0]) != n:
            raise ValueError(f"{name}: X has {n} items but y has {len(columns[0])}")
        return names, columns

    def _dimension_rules(self, names: list[str]) -> list[str]:
        name = type(self).__name__
        if self.rules is None:
            return ["equal"] * len(names)
        if isinstance(self.rules, Mapping):
            unknown = [
                k for k in self.rules if k not in names and k not in range(len(names))
            ]
            if unknown:
                raise ValueError(
                    f"{name}: rules name dimensions {unknown} that y does not have "
                    f"(it has {names})"
                )
            rules = [
                self.rules.get(dim, self.rules.get(j, "equal"))
                for j, dim in enumerate(names)
            ]
        else:
            rules = list(self.rules)
            if len(rules) != len(names):
                raise ValueError(
                    f"{name}: {len(rules)} rules for the {len(names)} dimensions of y"
                )
        return [check_rule(rule, name) for rule in rules]

    def _training_data(self, units: FeatureMaps, y: Any = None):
        names, columns = self._dimension_table(y, len(units))
        rules = self._dimension_rules(names)
        if not hasattr(self, "dimensions_"):
            self.dimensions_, self.rules_ = names, rules
        elif names != self.dimensions_ or rules != self.rules_:
            raise ValueError(
                f"{type(self).__name__}: y has dimensions {names} ({rules}), but the "
                f"model was fitted on {self.dimensions_} ({self.rules_})"
            )
        codes = np.column_stack(
            [
                code_labels(column, rule, dim)
                for column, rule, dim in zip(columns, rules, names, strict=True)
            ]
        )
        self._targets_on_device()["codes"] = torch.as_tensor(
            codes, dtype=torch.float32, device=self.device
        )
        return super()._training_data(units, y)

    def _module_kwargs(self) -> dict[str, Any]:
        return {
            **super()._module_kwargs(),
            "n_dimensions": len(self.dimensions_),
            "inputs": None if self.inputs is None else tuple(self.inputs),
            "masks": self.masks,
        }

    # -- training ----------------------------------------------------------------------
    def _batch_loss(self, batch: Any, training: bool) -> torch.Tensor:
        rows, _ = batch
        codes = self._targets_on_device()["codes"][rows]
        embeddings = self.module_(self._encode_rows(rows))
        masks = self.module_.dimension_masks()
        others = ~torch.eye(len(rows), dtype=torch.bool, device=rows.device)
        losses, n_pairs = [], 0
        for s, rule in enumerate(self.rules_):
            same = similar(
                codes[:, None, s], codes[None, :, s], rule, self.tempo_tolerance
            )
            distances = cosine_distances(embeddings * masks[s])
            loss, pairs = semihard_triplet_loss(
                distances, same & others, ~same & others, self.margin
            )
            losses.append(loss)
            n_pairs = n_pairs + pairs
        loss = torch.stack(losses).mean()
        if self.masks == "learned":
            loss = loss + self.mask_penalty * masks.sum() / len(masks)
        possible = len(self.rules_) * len(rows) * (len(rows) - 1)
        self._record("pair_fraction", n_pairs / possible, training)
        return loss

    # -- sub-spaces --------------------------------------------------------------------
    @property
    def masks_(self) -> np.ndarray:
        """Non-negative mask of each dimension, ``(n_dimensions, embedding_dim)``."""
        check_is_fitted(self)
        with torch.no_grad():
            return self.module_.dimension_masks().float().cpu().numpy()

    def subspace(self, embeddings: Any, dimensions: Sequence[str | int]) -> np.ndarray:
        """Keep the sub-space of chosen dimensions in embeddings of :meth:`transform`.

        The embeddings are multiplied by the element-wise maximum of the chosen
        dimensions' masks (for fixed masks: the other blocks become 0), so
        distances between the results are distances within that sub-space.

        Parameters
        ----------
        embeddings : array-like of shape (n_items, embedding_dim)
        dimensions : sequence of str or int
            Names (``dimensions_``) or indices of the dimensions to keep.

        Returns
        -------
        ndarray of float32, shape (n_items, embedding_dim)
        """
        masks = self.masks_
        picked = []
        for dim in dimensions:
            if isinstance(dim, int | np.integer) and 0 <= dim < len(masks):
                picked.append(int(dim))
            elif dim in self.dimensions_:
                picked.append(self.dimensions_.index(dim))
            else:
                raise ValueError(
                    f"{type(self).__name__}: unknown dimension {dim!r}; the model has "
                    f"{self.dimensions_}"
                )
        if not picked:
            raise ValueError(f"{type(self).__name__}: choose at least one dimension")
        embeddings = np.asarray(embeddings, dtype=np.float32)
        if embeddings.ndim != 2 or embeddings.shape[1] != masks.shape[1]:
            raise ValueError(
                f"embeddings must have shape (n_items, {masks.shape[1]}), got "
                f"{embeddings.shape}"
            )
        return embeddings * masks[picked].max(axis=0)

    def transform_subspace(self, X: Any, dimensions: Sequence[str | int]) -> np.ndarray:
        """Embed ``X`` and keep the sub-space of the chosen dimensions.

        ``transform_subspace(X, ["tempo", "key"])`` is
        ``subspace(transform(X), ["tempo", "key"])``.
        """
        return self.subspace(self.transform(X), dimensions)
