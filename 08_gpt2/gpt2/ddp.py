"""Data parallelism over MPI: N processes, one model each, gradients averaged with one all-reduce.

`mpiexec -n N python -m gpt2 train --ddp` starts N copies of the training loop. Every rank builds
the same model from the same seed and draws the same global batch of N x B windows from the same
seeded stream, of which rank r keeps rows r*B:(r+1)*B (`batch_rows`). After the backward each rank
holds the gradient of the mean loss over its own B rows; the average of the N gradients is the
gradient of the mean loss over all N*B rows (the mean of means of equal-sized groups is the mean),
so after `average_gradients` every rank takes the same AdamW step as one process with batch N*B.

`World` is the single process (rank 0 of 1, no MPI at all); `MPIWorld` imports mpi4py only when
created, so training without `--ddp` never loads mpi4py or an MPI library. `ZeroAdamW` is llm.c's
ZeRO stage 1: each rank keeps the AdamW moments of one 1/N slice of the flattened parameters.

What this does not do: overlap the all-reduce with the backward (PyTorch DDP's buckets), reduce-
scatter instead of all-reduce (llm.c), NCCL between GPUs; ranks run one BLAS thread each.
"""

from __future__ import annotations

import math
import sys
import traceback

import numpy as np

from .optim import adamw_update

__all__ = ["MPIWorld", "World", "ZeroAdamW", "batch_rows", "flat_size"]


def batch_rows(rank: int, ranks: int, batch_size: int) -> slice:
    """Rank `rank`'s rows of a global batch of ranks x batch_size rows."""
    return slice(rank * batch_size, (rank + 1) * batch_size)


def flat_size(params) -> int:
    return sum(p.data.size for p in params)


class World:
    """One process: rank 0 of 1. Every collective is the identity, so the single path is unchanged."""

    rank, size = 0, 1
    name = "single process"
    started = False  # set by the training loop: from then on a failure may be one rank's alone

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def average_gradients(self, params, loss: float) -> float:
        return loss

    def agree(self, *flags: bool) -> tuple[bool, ...]:
        return flags

    def comm_seconds(self) -> float:
        return 0.0


class MPIWorld(World):
    """MPI.COMM_WORLD through mpi4py (imported here, not at module import)."""

    def __init__(self):
        try:
            from mpi4py import MPI
        except ImportError as error:
            raise ValueError(
                f"--ddp needs mpi4py and an MPI library ({error}); install them with "
                'pip install -e "08_gpt2[mpi]" and start with mpiexec -n N python -m gpt2 train --ddp'
            ) from None
        self.MPI = MPI
        self.comm = MPI.COMM_WORLD
        self.rank, self.size = self.comm.Get_rank(), self.comm.Get_size()
        self.name = f"{self.size} MPI ranks"
        self._buffer = None
        self._comm_seconds = 0.0

    def on_main(self, func):
        """func() on rank 0 and its result on every rank; its ValueError/OSError is raised on every rank."""
        result = error = None
        if self.is_main:
            try:
                result = func()
            except (ValueError, OSError) as exc:
                error = str(exc)
        result, error = self.comm.bcast((result, error), root=0)
        if error is not None:
            raise ValueError(error)
        return result

    def average_gradients(self, params, loss: float) -> float:
        """Average every gradient (and the loss) over the ranks with ONE Allreduce of a flat buffer.

        Sum over ranks, then divide by N: each rank's gradient is of its mean loss over B rows, so
        the average is the gradient of the mean over all N*B rows. Returns the mean loss.
        """
        params = list(params)
        n = flat_size(params)
        dtype = params[0].data.dtype
        if self._buffer is None or self._buffer.size != n + 1 or self._buffer.dtype != dtype:
            self._buffer = np.empty(n + 1, dtype=dtype)  # the gradients, then the loss
        buf, offset = self._buffer, 0
        for p in params:
            size = p.data.size
            buf[offset : offset + size] = 0.0 if p.grad is None else p.grad.ravel()
            offset += size
        buf[n] = loss
        tick = self.MPI.Wtime()
        self.comm.Allreduce(self.MPI.IN_PLACE, buf, op=self.MPI.SUM)
        self._comm_seconds += self.MPI.Wtime() - tick
        buf /= self.size
        offset = 0
        for p in params:
            size = p.data.size
            if p.grad is None:
                p.grad = np.zeros_like(p.data)
            p.grad[...] = buf[offset : offset + size].reshape(p.data.shape)
            offset += size
        return float(buf[n])

    def agree(self, *flags: bool) -> tuple[bool, ...]:
        """True where any rank says True (stop requests, time limits), so all ranks stop at one step."""
        counts = np.array([bool(f) for f in flags], dtype=np.int64)
        self.comm.Allreduce(self.MPI.IN_PLACE, counts, op=self.MPI.SUM)
        return tuple(bool(c) for c in counts)

    def abort(self, error: BaseException) -> None:
        """Print this rank's error (one line if expected, else the traceback) and end every rank (MPI_Abort)."""
        if isinstance(error, (ValueError, OSError)):
            print(f"error: rank {self.rank}: {error}", file=sys.stderr, flush=True)
        else:
            traceback.print_exception(error)
            sys.stderr.flush()
        self.comm.Abort(2)

    def comm_seconds(self) -> float:
        """Seconds spent in the gradient all-reduce so far (the time waiting for slower ranks included)."""
        return self._comm_seconds


class ZeroAdamW:
    """AdamW with ZeRO stage 1 (Rajbhandari et al. 2020, sec. 5.1; llm.c's zero_stage=1).

    The parameters are seen as one flat vector of n numbers cut into N equal shards (the last one
    padded). Rank r keeps the moments m, v of shard r only (2n/N numbers instead of 2n), applies
    AdamW to that shard with the averaged gradient, and an Allgather of the shards gives every rank
    the whole updated vector. Elementwise it is the same update as `optim.AdamW`.
    """

    def __init__(self, params, world: MPIWorld, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        self.params = dict(params)
        self.world = world
        self.lr, self.betas, self.eps, self.weight_decay = lr, betas, eps, weight_decay
        self.n = flat_size(self.params.values())
        self.shard = math.ceil(self.n / world.size)
        self.lo, self.hi = world.rank * self.shard, min((world.rank + 1) * self.shard, self.n)
        dtype = next(iter(self.params.values())).data.dtype
        decays = np.concatenate([np.full(p.data.size, p.data.ndim >= 2) for p in self.params.values()])
        self.decays = decays[self.lo : self.hi]
        self.m = np.zeros(self.hi - self.lo, dtype=dtype)
        self.v = np.zeros(self.hi - self.lo, dtype=dtype)
        self.step_count = 0

    def _flat(self, attr: str) -> np.ndarray:
        flat = np.zeros(self.shard * self.world.size, dtype=self.m.dtype)
        flat[: self.n] = np.concatenate([getattr(p, attr).ravel() for p in self.params.values()])
        return flat

    def _unflat(self, flat: np.ndarray, prefix: str | None) -> dict:
        out, offset = {}, 0
        for name, p in self.params.items():
            out[name] = flat[offset : offset + p.data.size].reshape(p.data.shape)
            offset += p.data.size
        return out if prefix is None else {f"{prefix}/{name}": a for name, a in out.items()}

    def step(self, lr: float | None = None) -> None:
        lr = self.lr if lr is None else lr
        beta1, beta2 = self.betas
        self.step_count += 1
        t = self.step_count
        p, g = self._flat("data"), self._flat("grad")
        mine = p[self.lo : self.hi].copy()
        if self.weight_decay:
            mine *= np.where(self.decays, 1 - lr * self.weight_decay, 1.0).astype(mine.dtype)
        step_size, root_correction = lr / (1 - beta1**t), math.sqrt(1 - beta2**t)
        adamw_update(mine, g[self.lo : self.hi], self.m, self.v, step_size, root_correction, self.eps, self.betas)
        send = np.zeros(self.shard, dtype=p.dtype)
        send[: self.hi - self.lo] = mine
        self.world.comm.Allgather(send, p)  # every rank's shard -> the whole vector on every rank
        for name, array in self._unflat(p, None).items():
            self.params[name].data[...] = array

    def state_bytes(self) -> int:
        return self.m.nbytes + self.v.nbytes

    def _gather_moment(self, moment: np.ndarray) -> np.ndarray:
        send = np.zeros(self.shard, dtype=moment.dtype)
        send[: moment.size] = moment
        full = np.empty(self.shard * self.world.size, dtype=moment.dtype)
        self.world.comm.Allgather(send, full)
        return full

    def state_arrays(self) -> dict[str, np.ndarray]:
        """The whole moments under optim.AdamW's names (a collective: every rank must call it)."""
        state = self._unflat(self._gather_moment(self.m), "adam_m")
        state.update(self._unflat(self._gather_moment(self.v), "adam_v"))
        return state

    def load_state_arrays(self, arrays, step_count: int) -> None:
        for kind, store in (("adam_m", self.m), ("adam_v", self.v)):
            parts = []
            for name, p in self.params.items():
                key = f"{kind}/{name}"
                if key not in arrays or arrays[key].shape != p.data.shape:
                    raise ValueError(f"checkpoint optimizer state {key} is missing or has the wrong shape")
                parts.append(np.asarray(arrays[key]).ravel())
            store[...] = np.concatenate(parts)[self.lo : self.hi]
        self.step_count = int(step_count)
