"""Data-parallel training over the processes that ``accelerate launch`` starts.

The embedders train on device-resident index batches and call their networks'
parts (encoder, classifier, decoder, discriminator) one by one, so wrapping the
network in ``DistributedDataParallel`` (what Accelerate's ``prepare`` and
skorch's ``AccelerateMixin`` do) would not synchronise anything: DDP averages
gradients from a hook on the wrapper's ``forward``, which is never called. The
embedders use Accelerate for what it is good at (launching processes on one or
many machines, setting up the process group, picking each process's device) and
synchronise explicitly, with the collectives of :class:`DataParallel`.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.distributed as dist


class DataParallel:
    """Rank, world size and collectives of one data-parallel training run.

    Every process holds the same batches in the same order (one shared seed) and
    works on its share of each batch (rows ``rank::world_size``); after each
    backward pass the gradients are averaged over the processes, so every process
    takes the same optimizer step on the gradient of the whole batch.

    Parameters
    ----------
    accelerator : accelerate.Accelerator or None
        The run's accelerator; None (or a single process) is plain training.

    Examples
    --------
    >>> DataParallel(None).world_size
    1
    """

    def __init__(self, accelerator: Any = None) -> None:
        self.accelerator = accelerator
        if accelerator is None:
            self.rank, self.world_size = 0, 1
        else:
            self.rank = int(accelerator.process_index)
            self.world_size = int(accelerator.num_processes)

    @property
    def active(self) -> bool:
        """Whether more than one process trains."""
        return self.world_size > 1

    @property
    def device(self) -> str | None:
        """This process's device, as the accelerator assigned it."""
        return None if self.accelerator is None else str(self.accelerator.device)

    def shared_seed(self, seed: int, device: str) -> int:
        """Process 0's ``seed``, on every process."""
        if not self.active:
            return seed
        value = torch.tensor([seed], dtype=torch.int64, device=device)
        dist.broadcast(value, src=0)
        return int(value.item())

    def average_gradients(self, module: torch.nn.Module) -> None:
        """Replace each gradient of ``module`` by its mean over the processes.

        One all-reduce of a flat buffer per call, not one per tensor. All
        processes run the same code path, so the same parameters have gradients.
        """
        if not self.active:
            return
        grads = [p.grad for p in module.parameters() if p.grad is not None]
        if not grads:
            return
        flat = torch.cat([g.reshape(-1) for g in grads])
        dist.all_reduce(flat)
        flat /= self.world_size
        offset = 0
        for g in grads:
            g.copy_(flat[offset : offset + g.numel()].view_as(g))
            offset += g.numel()

    def average_buffers(self, module: torch.nn.Module) -> None:
        """Average floating buffers (batch-norm running statistics) over processes.

        Each process normalises its share of a batch with its own statistics (as
        DDP does without ``SyncBatchNorm``); averaging the running estimates once
        an epoch keeps the processes' models identical.
        """
        if not self.active:
            return
        for buffer in module.buffers():
            if buffer.is_floating_point():
                dist.all_reduce(buffer)
                buffer /= self.world_size

    def shard(self, rows: torch.Tensor) -> torch.Tensor:
        """This process's share of a batch of rows."""
        return rows[self.rank :: self.world_size] if self.active else rows
