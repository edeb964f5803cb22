"""Run by tests/test_ddp.py under `mpiexec -n N`: a small training run of gpt2.train on every rank.

python ddp_worker.py OUT DTYPE BATCH ZERO STEPS [RESUME]: rank r trains into OUT/rank{r} (only rank 0
should write anything there), with micro-batch BATCH per rank, in float32 or float64. With `state` as
OUT it prints each rank's ZeRO-1 optimizer bytes instead (rank 0 prints the list).
"""

import sys
from pathlib import Path

import numpy as np
from gpt2.ddp import MPIWorld, ZeroAdamW
from gpt2.model import GPT, GPTConfig
from gpt2.train import TrainConfig, train

TEXT = "the cat sat on the mat. the dog sat on the log. " * 60
SMALL = dict(n_layer=1, n_head=2, n_embd=16, block_size=16, eval_iters=2, final_eval_iters=2, warmup_iters=2,
             lr=1e-2, lr_decay_iters=10, sample_tokens=0, seed=3)  # fmt: skip


def main(argv):
    world = MPIWorld()
    if argv[0] == "state":
        model = GPT(GPTConfig(vocab_size=13, n_positions=16, n_embd=16, n_layer=1, n_head=2), seed=3)
        sizes = world.comm.gather(ZeroAdamW(model.params, world).state_bytes(), root=0)
        if world.is_main:
            full = 2 * sum(p.data.nbytes for p in model.params.values())
            print("state", full, *sizes)
        return
    if argv[0] == "fail":  # rank 0 alone fails in its first evaluation: every rank must end, none hang
        import gpt2.train

        def evaluate(*args):
            raise ValueError("rank 0's evaluation failed")

        if world.is_main:
            gpt2.train.evaluate = evaluate
        argv = argv[1:]
    out, dtype, batch, zero, steps = Path(argv[0]), np.dtype(argv[1]), int(argv[2]), int(argv[3]), int(argv[4])
    resume = argv[5] if len(argv) > 5 else None
    cfg = TrainConfig(batch_size=batch, max_iters=steps, eval_interval=max(steps, 1), **SMALL)
    kwargs = dict(text=TEXT, log=lambda *a: None, world=world, zero=zero, dtype=dtype)
    train(cfg, out / f"rank{world.rank}", resume=resume, **kwargs)


if __name__ == "__main__":
    main(sys.argv[1:])
