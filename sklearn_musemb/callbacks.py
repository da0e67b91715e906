"""skorch callbacks for the embedders.

- :class:`TimeBudget` stops a fit once a wall-clock or step budget is spent;
- :class:`TrainingCheckpoint` saves the training state at epoch ends and lets an
  interrupted fit resume with the result of an uninterrupted one
  (``docs/training.md``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
from skorch.callbacks import Callback
from skorch.history import History

from .utils.skorch_utils import PrivateStateMixin
from .utils.validation import check_finite_number, check_positive_int

__all__ = ["TimeBudget", "TrainingCheckpoint"]


# PrivateStateMixin: the callbacks keep private state (``_start``...) that must not
# become a parameter, or ``clone`` of an estimator holding a used one would fail.
class TimeBudget(PrivateStateMixin, Callback):
    """Stop training once a wall-clock or step budget is spent, even in mid-epoch.

    skorch stops at epoch ends only (``EarlyStopping``); on a large corpus one epoch
    can take minutes, so this callback checks the clock after every training
    batch and ends ``fit`` the way skorch's own early stopping does (skorch catches
    the ``KeyboardInterrupt`` and finishes ``fit`` normally). The budget covers one
    call of ``fit`` or ``partial_fit``. The training steps taken are counted in
    ``steps_``, and ``stopped_early_`` tells whether the budget ran out.

    Parameters
    ----------
    seconds : float
        Wall-clock training time allowed per call of ``fit``.

    Attributes
    ----------
    steps_ : int
        Training batches run in the last ``fit``.
    stopped_early_ : bool
        Whether the last ``fit`` ended because the budget ran out.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_musemb.callbacks import TimeBudget
    >>> from sklearn_musemb.embedders import AdjDEmbedder
    >>> rng = np.random.default_rng(0)
    >>> X = np.stack([rng.integers(40, 90, (60, 8)),
    ...               rng.integers(0, 600, (60, 8))], axis=-1)
    >>> budget = TimeBudget(seconds=0.0)
    >>> emb = AdjDEmbedder(max_epochs=100, batch_size=8, callbacks=[budget],
    ...                    module__hidden_dim=16, random_state=0).fit(X)
    >>> budget.steps_, budget.stopped_early_
    (1, True)
    >>> budget = TimeBudget(seconds=None, max_steps=3)
    >>> _ = emb.set_params(callbacks=[budget]).fit(X)
    >>> budget.steps_, budget.stopped_early_
    (3, True)
    """

    def __init__(self, seconds: float | None, max_steps: int | None = None) -> None:
        self.seconds = seconds
        self.max_steps = max_steps

    def initialize(self) -> TimeBudget:
        if self.seconds is None and self.max_steps is None:
            raise ValueError("TimeBudget: give seconds, max_steps or both")
        if self.seconds is not None:
            check_finite_number(self.seconds, "seconds", "TimeBudget")
        if self.max_steps is not None:
            check_positive_int(self.max_steps, "max_steps", "TimeBudget")
        return self

    def on_train_begin(self, net: Any, **kwargs: Any) -> None:
        self.steps_ = 0
        self.stopped_early_ = False
        self._start = time.perf_counter()

    def on_batch_end(self, net: Any, training: bool = False, **kwargs: Any) -> None:
        if not training:
            return
        self.steps_ += 1
        out_of_steps = self.max_steps is not None and self.steps_ >= self.max_steps
        out_of_time = (
            self.seconds is not None
            and time.perf_counter() - self._start >= self.seconds
        )
        if out_of_steps or out_of_time:
            self.stopped_early_ = True
            raise KeyboardInterrupt


#: Version of the checkpoint layout written by :class:`TrainingCheckpoint`.
_CHECKPOINT_FORMAT = 1
#: Parameters that may change between an interrupted fit and its resumption:
#: they do not change what an epoch computes (``max_epochs`` may grow to train
#: longer, a CUDA checkpoint may resume on CPU).
_RESUMABLE_PARAMS = frozenset(
    {"max_epochs", "callbacks", "verbose", "device", "accelerator", "warm_start"}
)
#: Rows of each training array hashed into a checkpoint's data fingerprint.
_DIGEST_ROWS = 4096


class TrainingCheckpoint(PrivateStateMixin, Callback):
    """Save the training state at epoch ends, and resume an interrupted fit from it.

    At the end of every ``every``-th epoch (and of the last epoch of a call) the
    callback writes ``dirname/checkpoint.pt``: the state of every module,
    criterion and optimizer of the net (an adversarial embedder's discriminator
    and its optimizers included), ``history_``, and the random streams of the fit
    (the embedder's batch generator and, with ``random_state`` set, torch's global
    generators). The file is written beside and then renamed over the previous
    one, so a process killed while saving leaves the previous checkpoint intact.

    When a fit starts afresh (``fit``, or a first ``partial_fit``) and the
    directory holds a checkpoint, the callback restores it and the fit runs only
    the epochs left, ``max_epochs`` minus the checkpoint's epochs (none when the
    checkpoint has them all). With an int ``random_state`` on CPU the resumed
    model equals, bit for bit, the one an uninterrupted fit gives. A call that
    trains on from a fitted estimator (``partial_fit``, ``fit`` with
    ``warm_start=True``) keeps its in-memory state and only saves, counting
    epochs on from ``history_``. See ``docs/training.md``.

    A checkpoint records what it was written for (estimator class, the
    parameters that change training, input width, number and a sample of the
    training items); resuming it for anything else raises ``ValueError``.
    Checkpoints hold tensors, numbers and strings only and are read with
    ``torch.load(..., weights_only=True)``, which runs no code from the file.

    Put the callback after any scoring callback of yours, so the history it
    saves is complete. State kept by other callbacks (an LR scheduler's
    position, early stopping's patience) is not saved.

    Parameters
    ----------
    dirname : str or path-like
        Directory of the checkpoint (created when needed).
    every : int, default=1
        Save every ``every`` epochs (counted in ``history_``) and at the last
        epoch of a call; an interrupted fit redoes at most ``every - 1`` epochs.
    keep : bool, default=True
        Keep the checkpoint once a call has run all its epochs (a later fit
        then loads the finished model instead of training). ``False`` removes it
        then; an interrupted call always leaves it.
    check_data : bool, default=True
        Refuse a checkpoint written for other training data (number and a
        sample of the training items). ``False`` checks the estimator only, for
        ``partial_fit`` over a stream of chunks.

    Attributes
    ----------
    path_ : pathlib.Path
        The checkpoint file.
    resumed_epochs_ : int
        Epochs the last call took from a checkpoint (0 if it restored none).
    saved_epochs_ : int or None
        Epochs in the checkpoint last written or restored by this callback.

    Examples
    --------
    >>> import tempfile
    >>> import numpy as np
    >>> from sklearn_musemb.callbacks import TrainingCheckpoint
    >>> from sklearn_musemb.embedders import AdjDEmbedder
    >>> rng = np.random.default_rng(0)
    >>> X = np.stack([rng.integers(40, 90, (60, 8)),
    ...               rng.integers(0, 600, (60, 8))], axis=-1)
    >>> tmp = tempfile.TemporaryDirectory()
    >>> def embedder(max_epochs, callbacks=()):
    ...     return AdjDEmbedder(max_epochs=max_epochs, batch_size=16,
    ...                         module__hidden_dim=16, random_state=0,
    ...                         callbacks=list(callbacks))

    A fit that stopped after 2 of 4 epochs, then its resumption:

    >>> _ = embedder(2, [TrainingCheckpoint(tmp.name)]).fit(X)
    >>> checkpoint = TrainingCheckpoint(tmp.name)
    >>> resumed = embedder(4, [checkpoint]).fit(X)
    >>> checkpoint.resumed_epochs_, len(resumed.history_)
    (2, 4)
    >>> uninterrupted = embedder(4).fit(X)
    >>> np.array_equal(resumed.transform(X), uninterrupted.transform(X))
    True
    >>> tmp.cleanup()
    """

    #: Name of the checkpoint file in ``dirname``.
    filename = "checkpoint.pt"

    def __init__(
        self,
        dirname: str | os.PathLike,
        every: int = 1,
        keep: bool = True,
        check_data: bool = True,
    ) -> None:
        self.dirname = dirname
        self.every = every
        self.keep = keep
        self.check_data = check_data

    def initialize(self) -> TrainingCheckpoint:
        if not isinstance(self.dirname, str | os.PathLike):
            raise ValueError(
                "TrainingCheckpoint: dirname must be a str or path, got "
                f"{self.dirname!r}"
            )
        check_positive_int(self.every, "every", "TrainingCheckpoint")
        self.path_ = Path(self.dirname) / self.filename
        self.saved_epochs_ = None
        return self

    # -- skorch hooks --------------------------------------------------------------
    def on_train_begin(self, net: Any, X: Any = None, y: Any = None, **kwargs) -> None:
        if not hasattr(net, "_resumed_epochs"):
            raise TypeError(
                f"TrainingCheckpoint resumes the estimators of sklearn_musemb, not "
                f"{type(net).__name__}; for another skorch net use "
                "skorch.callbacks.Checkpoint and LoadInitState"
            )
        self.resumed_epochs_ = 0
        self._fingerprint = _fingerprint(net, X, y)
        if len(net.history) == 0 and self.path_.exists():
            state = self._read()
            self._check(state)
            _restore(net, state)
            self.resumed_epochs_ = net._resumed_epochs = len(net.history)
            self.saved_epochs_ = len(net.history)
        # history length at which this call ends
        self._last_epoch = len(net.history) + net._epochs_to_run()

    def on_epoch_end(self, net: Any, **kwargs: Any) -> None:
        epochs = len(net.history)
        if epochs % self.every == 0 or epochs >= self._last_epoch:
            self._write(_state(net, self._fingerprint))
            self.saved_epochs_ = epochs

    def on_train_end(self, net: Any, **kwargs: Any) -> None:
        # an interrupted call ends before its last epoch, or inside it (the
        # history then has a row more than the checkpoint)
        finished = (
            self.saved_epochs_ is not None
            and self.saved_epochs_ == len(net.history) >= self._last_epoch
        )
        if finished and not self.keep:
            self.path_.unlink(missing_ok=True)
            self.saved_epochs_ = None

    # -- files ---------------------------------------------------------------------
    def _write(self, state: dict[str, Any]) -> None:
        """Save ``state`` atomically: a temporary file renamed over the old one."""
        directory = self.path_.parent
        directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".checkpoint-", suffix=".tmp", dir=directory)
        try:
            with os.fdopen(fd, "wb") as f:
                torch.save(state, f)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path_)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    def _read(self) -> dict[str, Any]:
        hint = "; delete it or use another dirname"
        try:
            state = torch.load(self.path_, map_location="cpu", weights_only=True)
        except Exception as err:  # torch raises many kinds for a damaged file
            raise ValueError(
                f"{self.path_} is not a readable training checkpoint "
                f"({type(err).__name__}: {err}){hint}"
            ) from err
        if not isinstance(state, dict) or state.get("format") != _CHECKPOINT_FORMAT:
            raise ValueError(
                f"{self.path_} is not a training checkpoint of this version of "
                f"sklearn_musemb{hint}"
            )
        return state

    def _check(self, state: dict[str, Any]) -> None:
        saved = json.loads(state["fingerprint"])
        now = self._fingerprint
        if not self.check_data:
            saved.pop("data", None)
            now = {k: v for k, v in now.items() if k != "data"}
        differences = _differences(saved, now)
        if differences:
            raise ValueError(
                f"the checkpoint in {self.dirname} was written for another training "
                f"run ({'; '.join(differences)}); delete it or use another dirname"
            )


def _describe(value: Any) -> Any:
    """A JSON value that tells parameter values apart across processes."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return [_describe(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _describe(v) for k, v in value.items()}
    if isinstance(value, type) or (callable(value) and hasattr(value, "__qualname__")):
        return f"{value.__module__}.{value.__qualname__}"
    text = repr(value)
    if " at 0x" in text:  # an address means nothing in another process
        return f"{type(value).__module__}.{type(value).__qualname__}"
    return text


def _digest(arrays: list[Any]) -> str:
    """Hash of the shapes and of up to ``_DIGEST_ROWS`` evenly spread rows."""
    h = hashlib.blake2b(digest_size=16)
    for array in arrays:
        if array is None:
            h.update(b"None")
            continue
        n = len(array)
        rows = np.unique(np.linspace(0, max(n - 1, 0), min(n, _DIGEST_ROWS)))
        rows = rows.astype(np.int64)
        if isinstance(array, torch.Tensor):
            sample = array[torch.as_tensor(rows, device=array.device)].cpu().numpy()
        else:
            array = np.asarray(array)
            sample = array[rows]
        if sample.dtype == object:
            h.update(repr(sample.tolist()).encode())
        else:
            h.update(np.ascontiguousarray(sample).tobytes())
        h.update(repr((tuple(array.shape), str(sample.dtype))).encode())
    return h.hexdigest()


def _fingerprint(net: Any, X: Any, y: Any) -> dict[str, Any]:
    """What a checkpoint must have been written for to be resumed by ``net``."""
    params = {
        name: _describe(value)
        for name, value in sorted(net.get_params(deep=False).items())
        if name not in _RESUMABLE_PARAMS and not name.startswith("callbacks")
    }
    n_features = getattr(net, "n_features_in_", None)
    try:
        arrays = [vars(net).get("_events_on_device"), X, y]
        data = {"n_items": len(X), "sample": _digest(arrays)}
    except TypeError:  # X that is neither an array nor a tensor
        data = {"n_items": None, "sample": type(X).__qualname__}
    return {
        "estimator": f"{type(net).__module__}.{type(net).__qualname__}",
        "params": params,
        "n_features_in": None if n_features is None else int(n_features),
        "data": data,
    }


def _differences(saved: dict[str, Any], now: dict[str, Any]) -> list[str]:
    """Readable differences between two fingerprints (``[]`` when they match)."""

    def differ(a: Any, b: Any) -> bool:  # JSON text: NaN equals NaN
        return json.dumps(a, sort_keys=True) != json.dumps(b, sort_keys=True)

    out = []
    if differ(saved.get("estimator"), now["estimator"]):
        out.append(f"estimator {saved.get('estimator')} (now {now['estimator']})")
        return out
    old, new = saved.get("params", {}), now["params"]
    for name in sorted(set(old) | set(new)):
        if differ(old.get(name), new.get(name)):
            out.append(f"{name}={old.get(name)!r} (now {new.get(name)!r})")
    if differ(saved.get("n_features_in"), now["n_features_in"]):
        out.append(
            f"{saved.get('n_features_in')} input features (now {now['n_features_in']})"
        )
    if "data" in now and differ(saved.get("data"), now["data"]):
        n_old, n_new = saved.get("data", {}).get("n_items"), now["data"]["n_items"]
        out.append(f"other training data ({n_old} training items, now {n_new})")
    return out


def _state(net: Any, fingerprint: dict[str, Any]) -> dict[str, Any]:
    """Everything a fit needs to continue from the end of the current epoch."""

    def state_dicts(names: list[str]) -> dict[str, Any]:
        return {name: getattr(net, name + "_").state_dict() for name in names}

    return {
        "format": _CHECKPOINT_FORMAT,
        "fingerprint": json.dumps(fingerprint, sort_keys=True),
        "history": json.dumps(net.history.to_list(), default=_json_default),
        "modules": state_dicts(net._modules),
        "criteria": state_dicts(net._criteria),
        "optimizers": state_dicts(net._optimizers),
        "device_type": torch.device(net.device_).type,
        "rng": net._rng_states(),
    }


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} in the history is not JSON-encodable")


def _restore(net: Any, state: dict[str, Any]) -> None:
    """Load a checkpoint's state into ``net`` (initialised, inside its fit)."""
    for group in ("modules", "criteria", "optimizers"):
        names, saved = getattr(net, "_" + group), state[group]
        if sorted(names) != sorted(saved):
            raise ValueError(
                f"the checkpoint holds the {group} {sorted(saved)}, but "
                f"{type(net).__name__} has {sorted(names)}; delete it or use "
                "another dirname"
            )
        for name in names:
            getattr(net, name + "_").load_state_dict(saved[name])
    net.history = History(json.loads(state["history"]))
    _restore_best_scores(net)
    device_type = torch.device(net.device_).type
    if state["device_type"] == device_type:
        net._set_rng_states(state["rng"])
    else:
        warnings.warn(
            f"the checkpoint was written on {state['device_type']}, the fit resumes "
            f"on {device_type}: weights, optimizer state and history are restored, "
            "but the random streams restart from random_state, so the result will "
            "differ from an uninterrupted fit",
            UserWarning,
            stacklevel=2,
        )


def _restore_best_scores(net: Any) -> None:
    """Let skorch's scoring callbacks know the best score of the restored history.

    They flag each epoch's score as ``<name>_best`` against ``best_score_``, which
    an uninterrupted fit carries over from the epochs before.
    """
    for _, callback in net.callbacks_:
        name = getattr(callback, "name_", getattr(callback, "name", None))
        if not (isinstance(name, str) and hasattr(callback, "best_score_")):
            continue
        for row in reversed(net.history):
            if row.get(f"{name}_best") is True and name in row:
                callback.best_score_ = row[name]
                break
