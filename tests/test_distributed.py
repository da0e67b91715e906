"""Data-parallel training through Accelerate: two CPU processes (gloo), then one.

``accelerate launch --multi_gpu --num_processes 2`` starts two processes with
torchrun; on a machine without GPUs, ``Accelerator(cpu=True)`` makes them a
two-process CPU group over gloo. (``--cpu --num_processes 2`` would start a single
process unless MPI is set up: accelerate's CPU launcher goes through mpirun.)
"""

from __future__ import annotations

import importlib.util
import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

pytest.importorskip("accelerate")

SCRIPT = Path(__file__).parent / "scripts" / "distributed_fit.py"
FAMILIES = ("aadjd", "vae", "dae", "csn", "tags")


def _script_module():
    spec = importlib.util.spec_from_file_location("distributed_fit", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("distributed")
    command = [
        sys.executable, "-m", "accelerate.commands.launch",
        "--multi_gpu", "--num_processes", "2", "--num_machines", "1",
        "--mixed_precision", "no", "--dynamo_backend", "no",
        "--main_process_port", "0",
        str(SCRIPT), str(out),
    ]  # fmt: skip
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "OMP_NUM_THREADS": "1"}
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return out


@pytest.mark.parametrize("family", FAMILIES)
def test_both_processes_end_with_the_same_model(trained, family):
    ranks = [torch.load(trained / f"rank{r}_{family}.pt") for r in (0, 1)]
    states = [r["state"] for r in ranks]
    assert states[0].keys() == states[1].keys()
    for name in states[0]:
        torch.testing.assert_close(states[0][name], states[1][name], rtol=0, atol=0)


@pytest.mark.parametrize("family", FAMILIES)
def test_each_process_trains_on_half_of_every_batch(trained, family):
    sizes = [
        torch.load(trained / f"rank{r}_{family}.pt")["batch_sizes"] for r in (0, 1)
    ]
    assert sizes[0] == sizes[1]
    # global batch_size=16 shared by two processes (the last batch may be smaller)
    assert max(sizes[0]) == 8


@pytest.mark.parametrize("family", FAMILIES)
def test_pickle_from_the_run_transforms_in_one_process(trained, family):
    est = pickle.loads((trained / f"{family}.pkl").read_bytes())
    assert est.accelerator is None
    _, X, _ = _script_module().families(np.random.default_rng(0))[family]
    Z = est.transform(X)
    assert Z.shape == (len(X), est.embedding_dim)
    assert np.isfinite(Z).all()
    rank0 = torch.load(trained / f"rank0_{family}.pt")["state"]
    for name, value in est.module_.state_dict().items():
        torch.testing.assert_close(value.cpu(), rank0[name], rtol=0, atol=0)
