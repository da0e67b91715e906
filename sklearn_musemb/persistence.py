"""Model files that are safe to open: ``save_model`` and ``load_model``.

A pickle runs whatever code its author put in it, so a model someone sent you
must not be unpickled. A ``.musemb`` file holds no code:

- ``musemb.json``: the format tag and version, the versions of sklearn-musemb,
  torch, scikit-learn, skorch and NumPy that wrote it, the estimator's class and
  constructor parameters and its fitted attributes, as JSON;
- ``tensors.safetensors``: network weights and numeric fitted arrays, in the
  `safetensors <https://huggingface.co/docs/safetensors>`_ format (raw tensors
  and a JSON header, read without unpickling).

Both live in one zip archive. Loading resolves class names only inside
sklearn-musemb (estimators) and torch / skorch (network, optimizer and data
classes given as parameters), checks the SHA-256 of the tensors against the
manifest, rebuilds the networks and loads their weights strictly, so a foreign,
truncated or edited file raises :class:`ModelFileError` with the reason instead
of running anything. Optimizer state is not kept: a loaded model transforms
exactly like the saved one, and further ``partial_fit`` starts a fresh
optimizer. Parameters that are not plain data (callbacks, an ``accelerator``, a
``RandomState``) are not saved; the loaded estimator has their defaults and
:func:`save_model` warns.

Pickle keeps working (``pickle.dump(model, f)``), as everywhere in
scikit-learn, for files you trust: never unpickle a file from someone else.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import warnings
import zipfile
from collections.abc import Mapping
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import numpy as np

from . import __version__

#: Tag of the manifest and the version of its layout.
FORMAT = "sklearn-musemb-model"
FORMAT_VERSION = 1
MANIFEST = "musemb.json"
TENSORS = "tensors.safetensors"

#: Where classes named in a file may come from: estimators from this package,
#: network / optimizer / data classes (parameters of skorch estimators) from
#: torch and skorch. Nothing else is imported while loading.
_ESTIMATOR_PREFIX = "sklearn_musemb."
#: Estimators that may appear inside a model (a fitted ``LabelEncoder``, say).
_NESTED_ESTIMATOR_PREFIXES = (_ESTIMATOR_PREFIX, "sklearn.")
_TYPE_PREFIXES = (
    "sklearn_musemb.",
    "torch.nn.",
    "torch.optim.",
    "torch.utils.data.",
    "skorch.",
)
#: Fitted attributes of a skorch net that ``initialize`` rebuilds.
_SKORCH_STATE = frozenset(
    {
        "callbacks_",
        "cuda_dependent_attributes_",
        "device_",
        "history_",
        "init_context_",
        "initialized_",
        "prefixes_",
        "virtual_params_",
    }
)


class ModelFileError(ValueError):
    """A file is not a sklearn-musemb model, or it was damaged or edited."""


class ModelVersionWarning(UserWarning):
    """A model file was written with other versions of the packages."""


def package_versions() -> dict[str, str]:
    """The versions a model file records: sklearn-musemb, torch, sklearn, skorch, NumPy.

    Returns
    -------
    dict of str to str
        Package name to installed version.

    Examples
    --------
    >>> sorted(package_versions())
    ['numpy', 'scikit-learn', 'sklearn-musemb', 'skorch', 'torch']
    """
    import sklearn
    import skorch
    import torch

    return {
        "sklearn-musemb": __version__,
        "torch": torch.__version__,
        "scikit-learn": sklearn.__version__,
        "skorch": skorch.__version__,
        "numpy": np.__version__,
    }


def _class_path(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _is_estimator(obj: Any, prefixes: tuple[str, ...]) -> bool:
    from sklearn.base import BaseEstimator
    from skorch import NeuralNet

    return isinstance(obj, BaseEstimator | NeuralNet) and type(
        obj
    ).__module__.startswith(prefixes)


def _is_net(obj: Any) -> bool:
    from skorch import NeuralNet

    return isinstance(obj, NeuralNet)


# -- writing -------------------------------------------------------------------------
class _Writer:
    """Turns an estimator into JSON plus a flat dict of tensors."""

    def __init__(self) -> None:
        self.tensors: dict[str, Any] = {}
        self.skipped: list[str] = []

    def tensor(self, value: Any) -> str:
        import torch

        key = f"t{len(self.tensors)}"
        self.tensors[key] = torch.as_tensor(value).detach().cpu().contiguous().clone()
        return key

    def value(self, value: Any, where: str) -> Any:
        """JSON form of a parameter or attribute, or raise TypeError."""
        import torch

        if value is None or isinstance(value, bool | int | float | str):
            return value
        if isinstance(value, np.generic):
            return value.item()
        if isinstance(value, tuple):
            return {"__tuple__": [self.value(v, where) for v in value]}
        if isinstance(value, list):
            return [self.value(v, where) for v in value]
        if isinstance(value, dict) and all(isinstance(k, str) for k in value):
            return {"__dict__": {k: self.value(v, where) for k, v in value.items()}}
        if isinstance(value, np.ndarray):
            if value.dtype.kind in "biuf":
                return {"__ndarray__": self.tensor(value)}
            if value.dtype.kind == "U" or (
                value.dtype == object and all(isinstance(v, str) for v in value.flat)
            ):
                return {"__strings__": value.tolist(), "dtype": value.dtype.str}
        if isinstance(value, torch.Tensor):
            return {"__tensor__": self.tensor(value)}
        if isinstance(value, type) and _class_path(value).startswith(_TYPE_PREFIXES):
            return {"__type__": _class_path(value)}
        if _is_estimator(value, _NESTED_ESTIMATOR_PREFIXES):
            return {"__estimator__": self.estimator(value)}
        raise TypeError(
            f"{where} is a {type(value).__name__}, which a model file cannot hold "
            "without pickling; use pickle (for files you trust) or skops.io"
        )

    def estimator(self, est: Any) -> dict[str, Any]:
        name = type(est).__name__
        params = {}
        for key, value in est.get_params(deep=False).items():
            try:
                params[key] = self.value(value, f"{name}.{key}")
            except TypeError:
                self.skipped.append(f"{name}.{key}={value!r}")
        node: dict[str, Any] = {"class": _class_path(type(est)), "params": params}
        attributes, networks = {}, {}
        omitted = getattr(type(est), "_not_in_model_files", ())
        net_parts = set()
        if _is_net(est):
            for kind in ("_modules", "_criteria"):
                for part in getattr(est, kind):
                    state = getattr(est, part + "_").state_dict()
                    networks[part] = {k: self.tensor(v) for k, v in state.items()}
            net_parts = {
                part + "_"
                for kind in ("_modules", "_criteria", "_optimizers")
                for part in getattr(est, kind)
            }
            node["history"] = json.loads(
                json.dumps(list(est.history), default=_json_default)
            )
        for key, value in vars(est).items():
            if key.startswith("_") and not _is_net(est):
                # private state of a plain estimator (MLPClassifier's
                # _label_binarizer, say) would be lost: refuse rather than
                # write a model that transforms differently
                raise TypeError(
                    f"{name} keeps private state ({key}) that a model file "
                    "cannot hold; use pickle (for files you trust) or skops.io"
                )
            if key.startswith("_") or not key.endswith("_") or key in net_parts:
                continue
            if (_is_net(est) and key in _SKORCH_STATE) or key in omitted:
                continue
            attributes[key] = self.value(value, f"{name}.{key}")
        if omitted:
            node["omitted"] = [key for key in omitted if hasattr(est, key)]
        node["attributes"] = attributes
        if networks:
            node["networks"] = networks
        return node


def save_model(
    estimator: Any,
    path: str | os.PathLike,
    *,
    metadata: Mapping[str, Any] | None = None,
) -> Path:
    """Write a fitted estimator to a model file that is safe to open.

    Parameters
    ----------
    estimator : estimator of sklearn_musemb
        A fitted estimator of this package (any embedder, transformer or index).
    path : str or path-like
        Where to write; ``.musemb`` is the conventional suffix. An existing file
        is replaced atomically (written next to it, then renamed).
    metadata : mapping, default=None
        Extra JSON-serialisable facts to keep with the model (how units were
        cut, the training corpus...); :func:`load_model` with
        ``return_metadata=True`` gives them back.

    Returns
    -------
    Path
        The path written.

    Raises
    ------
    sklearn.exceptions.NotFittedError
        If ``estimator`` is not fitted.
    TypeError
        If it is not an estimator of this package, or a fitted attribute cannot
        be stored without pickling.

    Warns
    -----
    UserWarning
        When parameters that are not plain data (callbacks, say) are left out.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from sklearn_musemb.embedders import AdjDEmbedder
    >>> from sklearn_musemb.persistence import load_model, save_model
    >>> X = np.random.default_rng(0).integers(0, 100, size=(20, 8, 2))
    >>> emb = AdjDEmbedder(max_epochs=1, embedding_dim=4, random_state=0).fit(X)
    >>> path = save_model(emb, tempfile.mkdtemp() + "/adjd.musemb")
    >>> np.array_equal(load_model(path).transform(X), emb.transform(X))
    True
    """
    from sklearn.utils.validation import check_is_fitted

    if not _is_estimator(estimator, (_ESTIMATOR_PREFIX,)):
        raise TypeError(
            "save_model writes estimators of sklearn_musemb, got "
            f"{type(estimator).__name__}; use skops.io or pickle for others"
        )
    from .search import EmbeddingIndex

    if isinstance(estimator, EmbeddingIndex):
        raise TypeError(
            "EmbeddingIndex has its own safe file format: index.save(path) and "
            "EmbeddingIndex.load(path)"
        )
    check_is_fitted(estimator)
    writer = _Writer()
    tree = writer.estimator(estimator)
    if writer.skipped:
        warnings.warn(
            "not saved (not plain data; the loaded model has the defaults): "
            + ", ".join(writer.skipped),
            UserWarning,
            stacklevel=2,
        )
    from safetensors.torch import save as save_tensors

    blob = save_tensors(writer.tensors)
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "versions": package_versions(),
        "estimator": tree,
        "metadata": dict(metadata or {}),
        "tensors_sha256": hashlib.sha256(blob).hexdigest(),
    }
    text = json.dumps(manifest, indent=1, default=_json_default)
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(MANIFEST, text)
            archive.writestr(TENSORS, blob)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"metadata value {value!r} is not JSON-serialisable")


# -- reading -------------------------------------------------------------------------
class _Reader:
    """Rebuilds an estimator from the JSON tree and the tensors of a file."""

    def __init__(self, tensors: Mapping[str, Any], source: str, device: str | None):
        self.tensors = tensors
        self.source = source
        self.device = device

    def fail(self, why: str) -> ModelFileError:
        return ModelFileError(f"{self.source}: {why}")

    def tensor(self, key: Any) -> Any:
        if not isinstance(key, str) or key not in self.tensors:
            raise self.fail(f"the manifest names a tensor {key!r} the file lacks")
        return self.tensors[key]

    def value(self, value: Any) -> Any:
        if value is None or isinstance(value, bool | int | float | str):
            return value
        if isinstance(value, list):
            return [self.value(v) for v in value]
        if not isinstance(value, dict) or len(value) not in (1, 2):
            raise self.fail(f"unexpected value in the manifest: {value!r:.80}")
        if "__tuple__" in value:
            return tuple(self.value(v) for v in value["__tuple__"])
        if "__dict__" in value:
            return {str(k): self.value(v) for k, v in value["__dict__"].items()}
        if "__ndarray__" in value:
            return self.tensor(value["__ndarray__"]).numpy().copy()
        if "__tensor__" in value:
            return self.tensor(value["__tensor__"]).clone()
        if "__strings__" in value:
            dtype = np.dtype(value.get("dtype", "O"))
            if dtype.kind not in "UO":
                raise self.fail(f"a string array cannot have dtype {dtype}")
            return np.asarray(value["__strings__"], dtype=dtype)
        if "__type__" in value:
            return self.resolve(value["__type__"], _TYPE_PREFIXES)
        if "__estimator__" in value:
            return self.estimator(value["__estimator__"])
        raise self.fail(f"unexpected value in the manifest: {value!r:.80}")

    def resolve(self, path: Any, prefixes: tuple[str, ...]) -> type:
        """Import the class ``path`` names, but only from the allowed packages."""
        if not isinstance(path, str) or not path.startswith(prefixes):
            raise self.fail(
                f"refusing class {path!r}: model files may only name classes of "
                f"{', '.join(p.rstrip('.') for p in prefixes)}"
            )
        module_name, _, name = path.rpartition(".")
        try:
            obj = getattr(importlib.import_module(module_name), name)
        except (ImportError, AttributeError):
            raise self.fail(f"class {path} does not exist here") from None
        if not isinstance(obj, type):
            raise self.fail(f"{path} is not a class")
        return obj

    def estimator(self, node: Any) -> Any:
        from sklearn.base import BaseEstimator
        from skorch import NeuralNet

        if not isinstance(node, dict) or "class" not in node:
            raise self.fail("an estimator entry has no class")
        cls = self.resolve(node["class"], _NESTED_ESTIMATOR_PREFIXES)
        if not issubclass(cls, BaseEstimator | NeuralNet):
            raise self.fail(f"{node['class']} is not an estimator")
        params = {k: self.value(v) for k, v in node.get("params", {}).items()}
        if self.device is not None and "device" in params:
            params["device"] = self.device
        try:
            est = cls(**params)
        except (TypeError, ValueError) as exc:
            raise self.fail(f"cannot build {cls.__name__}: {exc}") from None
        for key, value in node.get("attributes", {}).items():
            if not (isinstance(key, str) and key.endswith("_")) or key.startswith("_"):
                raise self.fail(f"{key!r} is not a fitted attribute")
            setattr(est, key, self.value(value))
        for key in node.get("omitted", []):
            if key in getattr(cls, "_not_in_model_files", ()):
                setattr(est, key, None)
        if isinstance(est, NeuralNet):
            self.networks(est, node)
        return est

    def networks(self, est: Any, node: dict) -> None:
        import torch
        from skorch.history import History

        from .utils.torch_utils import resolve_device, torch_seeded

        device = resolve_device(est.device)
        if device.startswith("cuda") and not torch.cuda.is_available():
            warnings.warn(
                f"{self.source}: the model asks for device {est.device!r} but CUDA "
                "is not available; loading it on the CPU",
                UserWarning,
                stacklevel=4,
            )
            est.set_params(device="cpu")
            device = "cpu"
        on_device = getattr(est, "_on_resolved_device", nullcontext)
        # initialisation draws random weights that the file's replace: keep the
        # caller's generator untouched
        with on_device(), torch_seeded(0, device):
            try:
                est.initialize()
            except Exception as exc:
                raise self.fail(
                    f"cannot rebuild the networks of {type(est).__name__}: {exc}"
                ) from None
            saved = node.get("networks", {})
            expected = [*est._modules, *est._criteria]
            if sorted(saved) != sorted(expected):
                raise self.fail(
                    f"the file has weights for {sorted(saved)}, but "
                    f"{type(est).__name__} has networks {sorted(expected)}"
                )
            for part, keys in saved.items():
                state = {k: self.tensor(v) for k, v in keys.items()}
                try:
                    getattr(est, part + "_").load_state_dict(state, strict=True)
                except RuntimeError as exc:
                    first = str(exc).strip().splitlines()[0]
                    raise self.fail(
                        f"the weights of {part!r} do not fit the network ({first})"
                    ) from None
        est.history_ = History(node.get("history", []))
        est.device_ = device


def _open(path: Path) -> tuple[dict, bytes]:
    source = str(path)
    try:
        archive = zipfile.ZipFile(path)
    except FileNotFoundError:
        raise
    except (zipfile.BadZipFile, OSError) as exc:
        with open(path, "rb") as f:
            head = f.read(2)
        hint = (
            " It looks like a pickle: load_model never unpickles; use pickle.load "
            "only on files you trust."
            if head[:1] == b"\x80"
            else ""
        )
        raise ModelFileError(
            f"{source} is not a sklearn-musemb model file ({exc}).{hint}"
        ) from None
    with archive:
        names = set(archive.namelist())
        if MANIFEST not in names or TENSORS not in names:
            raise ModelFileError(
                f"{source} is not a sklearn-musemb model file: it lacks "
                f"{MANIFEST} or {TENSORS}"
            )
        try:
            manifest = json.loads(archive.read(MANIFEST))
            blob = archive.read(TENSORS)
        except (zipfile.BadZipFile, ValueError, OSError) as exc:
            raise ModelFileError(f"{source} is damaged: {exc}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ModelFileError(
            f"{source} is not a sklearn-musemb model file (format tag "
            f"{manifest.get('format') if isinstance(manifest, dict) else None!r})"
        )
    version = manifest.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ModelFileError(
            f"{source} has format version {version!r}; this sklearn-musemb "
            f"({__version__}) reads up to {FORMAT_VERSION}: upgrade the package"
        )
    if hashlib.sha256(blob).hexdigest() != manifest.get("tensors_sha256"):
        raise ModelFileError(
            f"{source}: the tensors do not match the checksum in {MANIFEST}; "
            "the file is damaged or was modified after it was saved"
        )
    return manifest, blob


def _check_versions(manifest: dict, source: str) -> None:
    saved = manifest.get("versions", {})
    here = package_versions()
    differ = [
        f"{name} {saved.get(name)} (here {version})"
        for name, version in here.items()
        if name != "numpy" and saved.get(name) != version
    ]
    if differ:
        warnings.warn(
            f"{source} was saved with {', '.join(differ)}; it may load or behave "
            "differently",
            ModelVersionWarning,
            stacklevel=3,
        )


def read_model_metadata(path: str | os.PathLike) -> dict[str, Any]:
    """The manifest of a model file, without building the model.

    Parameters
    ----------
    path : str or path-like
        A file written by :func:`save_model`.

    Returns
    -------
    dict
        With keys ``format``, ``format_version``, ``versions`` (package versions
        that wrote it), ``estimator`` (class, parameters, fitted attributes) and
        ``metadata`` (what ``save_model`` was given).

    Raises
    ------
    ModelFileError
        If the file is not a sklearn-musemb model file or is damaged.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from sklearn_musemb.embedders import AdjDEmbedder
    >>> X = np.random.default_rng(0).integers(0, 100, size=(20, 8, 2))
    >>> emb = AdjDEmbedder(max_epochs=1, embedding_dim=4).fit(X)
    >>> path = save_model(emb, tempfile.mkdtemp() + "/m.musemb", metadata={"n": 20})
    >>> read_model_metadata(path)["metadata"]
    {'n': 20}
    """
    manifest, _ = _open(Path(path))
    return manifest


def load_model(
    path: str | os.PathLike,
    *,
    device: str | None = None,
    return_metadata: bool = False,
) -> Any:
    """Load a model file written by :func:`save_model`, without running its code.

    Parameters
    ----------
    path : str or path-like
        The model file.
    device : str, default=None
        Override the estimator's ``device`` parameter (``"cpu"``, ``"cuda"``,
        ``"auto"``). A model saved with a CUDA device loads on the CPU, with a
        warning, when CUDA is not available.
    return_metadata : bool, default=False
        Also return the ``metadata`` given to :func:`save_model`.

    Returns
    -------
    estimator : estimator of sklearn_musemb
        Fitted, transforming exactly as the saved one did.
    metadata : dict
        Only with ``return_metadata=True``.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ModelFileError
        If the file is not a sklearn-musemb model (a pickle, say), is damaged,
        names a class outside sklearn-musemb / torch / skorch, or holds weights
        that do not fit the network it describes.

    Warns
    -----
    ModelVersionWarning
        When sklearn-musemb, torch, scikit-learn or skorch differ from the
        versions that wrote the file.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from sklearn_musemb.embedders import AdjDEmbedder
    >>> X = np.random.default_rng(0).integers(0, 100, size=(20, 8, 2))
    >>> emb = AdjDEmbedder(max_epochs=1, embedding_dim=4).fit(X)
    >>> path = save_model(emb, tempfile.mkdtemp() + "/m.musemb")
    >>> load_model(path).transform(X).shape
    (20, 4)
    """
    from safetensors import SafetensorError
    from safetensors.torch import load as load_tensors

    path = Path(path)
    manifest, blob = _open(path)
    _check_versions(manifest, str(path))
    try:
        tensors = load_tensors(blob)
    except (SafetensorError, ValueError) as exc:
        raise ModelFileError(f"{path}: unreadable tensors ({exc})") from None
    reader = _Reader(tensors, str(path), device)
    estimator = reader.estimator(manifest.get("estimator"))
    if return_metadata:
        return estimator, manifest.get("metadata", {})
    return estimator


__all__ = [
    "FORMAT_VERSION",
    "ModelFileError",
    "ModelVersionWarning",
    "load_model",
    "package_versions",
    "read_model_metadata",
    "save_model",
]
