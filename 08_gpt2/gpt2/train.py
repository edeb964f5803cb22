"""Training GPT on tiny shakespeare with the hand-written backward: nanoGPT's loop, in NumPy.

One iteration: `grad_accum` micro-batches of random windows (forward, backward with the loss
scaled by 1/grad_accum), clip the global gradient norm, one AdamW step at the cosine schedule's
learning rate. Every `eval_interval` iterations: mean train/val loss over `eval_iters` fixed
batches, and a checkpoint (`ckpt.npz`: weights, AdamW moments, random-generator states and the
loss history, no pickle), from which `resume` continues the very same run. At the end: a larger
final evaluation, a loss-curve PNG, `results.json`, the model as a Hugging Face folder
(`model/`, loadable by `GPT.from_pretrained` and `python -m gpt2 sample`) and a sample.

The data split is nanoGPT's: the first 90% of the text for training, the last 10% for validation.
Text is character-level by default (65 symbols) or GPT-2 BPE tokens (`tokenizer="gpt2"`).
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

import numpy as np

from shared import checkpoint
from shared.checks import check_memory
from shared.plotting import plot_curves
from shared.progress import Progress
from shared.results import write_results
from shared.seeding import make_rng
from shared.stopping import StopRequest
from shared.timing import matmul_gflops

from .ddp import World, batch_rows
from .device import array_module, to_numpy
from .model import GPT, GPTConfig
from .optim import AdamW, clip_grad_norm, cosine_lr
from .sample import generate
from .tokenizer import CharTokenizer, GPT2Tokenizer, start_tokens

__all__ = ["NonFiniteLossError", "TrainConfig", "load_checkpoint", "matmul_peak_flops", "train"]


class NonFiniteLossError(ValueError):
    """The loss or the gradient norm became NaN or infinite: training stops before the update, nothing is saved."""


@dataclass
class TrainConfig:
    """Defaults: nanoGPT's CPU shakespeare_char configuration, shortened to 500 iterations."""

    tokenizer: str = "char"  # "char" or "gpt2"
    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 128
    block_size: int = 64
    batch_size: int = 12
    grad_accum: int = 1
    max_iters: int = 500
    lr: float = 1e-3
    min_lr: float = 1e-4
    warmup_iters: int = 100
    lr_decay_iters: int | None = None  # None: max_iters
    weight_decay: float = 0.1
    beta1: float = 0.9
    beta2: float = 0.99
    grad_clip: float = 1.0
    dropout: float = 0.0
    eval_interval: int = 250
    eval_iters: int = 20
    final_eval_iters: int = 200
    sample_tokens: int = 300
    seed: int = 1337

    def __post_init__(self) -> None:
        if self.tokenizer not in ("char", "gpt2"):
            raise ValueError(f"tokenizer must be 'char' or 'gpt2', got {self.tokenizer!r}")
        positive = (
            "n_layer",
            "n_head",
            "n_embd",
            "block_size",
            "batch_size",
            "grad_accum",
            "eval_interval",
            "eval_iters",
            "final_eval_iters",
        )
        for name in (*positive, "max_iters", "warmup_iters", "sample_tokens", "lr_decay_iters", "seed"):
            value = getattr(self, name)
            if value is None and name == "lr_decay_iters":
                continue
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise ValueError(f"{name} must be an integer, got {value!r}")
            if value < (1 if name in positive else 0):
                raise ValueError(f"{name} must be {'positive' if name in positive else '>= 0'}, got {value}")
        for name in ("lr", "min_lr", "weight_decay", "beta1", "beta2", "grad_clip", "dropout"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ValueError(f"{name} must be a finite number, got {value!r}")
        if not (self.lr > 0 and 0 <= self.min_lr <= self.lr):
            raise ValueError(f"need lr > 0 and 0 <= min_lr <= lr, got lr={self.lr}, min_lr={self.min_lr}")
        if not (self.weight_decay >= 0 and self.grad_clip >= 0):
            raise ValueError("weight_decay and grad_clip must be >= 0")
        if not (0 <= self.beta1 < 1 and 0 <= self.beta2 < 1):
            raise ValueError(f"betas must be in [0, 1), got {self.beta1}, {self.beta2}")

    @property
    def decay_iters(self) -> int:
        return self.max_iters if self.lr_decay_iters is None else self.lr_decay_iters


def config_from_dict(values: dict) -> GPTConfig:
    """GPTConfig from our own (asdict) form, as stored in training checkpoints."""
    known = {f.name for f in fields(GPTConfig)}
    return GPTConfig(**{k: v for k, v in values.items() if k in known})


# --------------------------------------------------------------------------- data


def load_data(tokenizer_kind: str, text: str | None = None):
    """(tokenizer, train ids, val ids) for tiny shakespeare (or `text`), split 90/10 like nanoGPT."""
    if text is None:
        from shared.data import read_text

        text = read_text("tinyshakespeare.txt")
    if tokenizer_kind == "char":
        tokenizer = CharTokenizer.from_text(text)
    else:
        tokenizer = GPT2Tokenizer.load()
    dtype = np.uint16 if tokenizer.vocab_size <= 65535 else np.int32
    split = int(0.9 * len(text))
    train_ids = np.array(tokenizer.encode(text[:split]), dtype=dtype)
    val_ids = np.array(tokenizer.encode(text[split:]), dtype=dtype)
    return tokenizer, train_ids, val_ids


def get_batch(
    data: np.ndarray, batch_size: int, block_size: int, rng: np.random.Generator, rank: int = 0, ranks: int = 1
):
    """batch_size random windows: inputs x (B, T) and next-token targets y (B, T).

    With `ranks` > 1 (data parallelism, ddp.py) the generator draws a global batch of ranks x B
    windows, the same on every rank, and rank `rank` keeps its rows rank*B:(rank+1)*B.
    """
    if len(data) <= block_size:
        raise ValueError(f"the data ({len(data)} tokens) is shorter than block_size + 1 = {block_size + 1}")
    starts = rng.integers(0, len(data) - block_size, size=batch_size * ranks)[batch_rows(rank, ranks, batch_size)]
    offsets = starts[:, None] + np.arange(block_size)  # (B, T)
    return data[offsets].astype(np.int64), data[offsets + 1].astype(np.int64)


def evaluate(model: GPT, data: np.ndarray, cfg: TrainConfig, iters: int, seed: int) -> float:
    """Mean loss over `iters` batches drawn with a fixed seed (the same batches at every evaluation)."""
    rng = make_rng(seed)
    model.eval()
    losses = [model(*get_batch(data, cfg.batch_size, cfg.block_size, rng))[1] for _ in range(iters)]
    model.train()
    return float(np.mean(losses))


# --------------------------------------------------------------------------- speed accounting


_PEAK: dict[int, float] = {}


def matmul_peak_flops(n: int = 1024, repeats: int = 5) -> float:
    """This machine's float32 matmul rate in FLOP/s (best of `repeats` n x n products), for MFU."""
    if n not in _PEAK:
        _PEAK[n] = matmul_gflops(n, repeats) * 1e9
    return _PEAK[n]


def flops_per_token(model: GPT, T: int) -> float:
    """Forward + backward FLOPs per token: 6N for the weights + 12 L C T for attention (PaLM, app. B)."""
    cfg = model.config
    return 6 * model.num_parameters(non_embedding=True) + 12 * cfg.n_layer * cfg.n_embd * T


# --------------------------------------------------------------------------- checkpoints


CHECKPOINT_KEYS = (
    "train_config",
    "model_config",
    "tokenizer",
    "step",
    "adam_steps",
    "data_rng",
    "dropout_rng",
    "history",
)


def save_checkpoint(
    path: Path,
    model: GPT,
    optimizer: AdamW,
    cfg: TrainConfig,
    tokenizer,
    state: dict,
    world: World | None = None,
    write: bool = True,
) -> None:
    """Weights, AdamW moments, the generators' states and the loss history (atomic: shared.checkpoint).

    With ranks, every rank calls this (ZeRO-1 gathers the moments' shards); rank 0 writes if `write`.
    """
    world = World() if world is None else world
    optimizer_state = optimizer.state_arrays()
    if not (world.is_main and write):
        return
    arrays = {f"param/{name}": to_numpy(p.data) for name, p in model.params.items()}
    arrays.update({name: to_numpy(array) for name, array in optimizer_state.items()})
    meta = {
        "train_config": asdict(cfg),
        "model_config": asdict(model.config),
        "tokenizer": tokenizer.to_dict(),
        "step": state["step"],
        "adam_steps": optimizer.step_count,
        "data_rng": state["data_rng"].bit_generator.state,
        "dropout_rng": model.dropout_rng.bit_generator.state if model.xp is np else None,  # CuPy's: not saved
        "history": state["history"],
    }
    if world.size > 1:  # a single-process checkpoint stays as it was
        meta.update(ranks=world.size, zero=int(getattr(optimizer, "world", None) is not None))
    checkpoint.save(path, arrays, meta)


def load_checkpoint(path: str | Path) -> tuple[dict, dict[str, np.ndarray]]:
    """(meta, arrays) of a training checkpoint, with a clear error for anything else.

    The file is read by `shared.checkpoint.load` (no pickle; every header checked before an
    array is allocated); then the description must hold every key a resume needs.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {path} does not exist")
    try:
        arrays, meta = checkpoint.load(path)
    except checkpoint.CheckpointError as error:
        raise ValueError(f"{path} is not a training checkpoint of this project ({error})") from None
    missing = [key for key in CHECKPOINT_KEYS if key not in meta]
    if missing:
        raise ValueError(f"{path} is not a training checkpoint of this project (no {', '.join(missing)})")
    for key in ("step", "adam_steps"):
        if isinstance(meta[key], bool) or not isinstance(meta[key], int) or meta[key] < 0:
            raise ValueError(f"{path}: {key} must be an integer >= 0, got {meta[key]!r}")
    history = meta["history"]
    names = ("iter", "loss", "eval_iter", "train_loss", "val_loss")
    if not isinstance(history, dict) or not all(isinstance(history.get(n), list) for n in names):
        raise ValueError(f"{path}: history must hold the lists {', '.join(names)}")
    return meta, arrays


def estimate_bytes(cfg: TrainConfig, vocab_size: int) -> float:
    """Rough float32 memory of a training run: weights x 4 (grads, two AdamW moments) + activations."""
    C, T, L = cfg.n_embd, cfg.block_size, cfg.n_layer
    weights = vocab_size * C + T * C + L * 12 * C * C
    rows = cfg.batch_size * T
    activations = rows * (L * (20 * C + 2 * cfg.n_head * T) + 2 * vocab_size)  # per block ~20C + attention maps
    return 4.0 * (4 * weights + activations)


def _silent(*args, **kwargs) -> None:
    pass


class _NoProgress:
    """Ranks other than 0 show no progress line."""

    def update(self, *args, **kwargs) -> None:
        pass

    write = close = update


# --------------------------------------------------------------------------- the loop


def train(cfg: TrainConfig, out: Path, *args, world: World | None = None, **kwargs) -> dict:
    """Train (or resume) and return the metrics written to results.json (see `_train`).

    With ranks, an error after the loop has started may be one rank's alone (rank 0 evaluates and
    writes; the others wait in the next all-reduce): that rank prints it and MPI aborts every rank,
    instead of leaving the others waiting forever. Errors before (bad options, a resume mismatch)
    are met by every rank alike and raised as usual.
    """
    world = World() if world is None else world
    try:
        return _train(cfg, out, *args, world=world, **kwargs)
    except Exception as error:
        if world.size > 1 and world.started:
            world.abort(error)
        raise


def _train(
    cfg: TrainConfig,
    out: Path,
    resume: str | Path | None = None,
    text: str | None = None,
    log=print,
    device: str = "cpu",
    keep_best: bool = False,
    max_seconds: float | None = None,
    world: World | None = None,
    zero: int = 0,
    dtype=np.float32,
) -> dict:
    """Train (or resume) and return the metrics written to results.json.

    `device`: "cpu" (NumPy) or "cuda" (CuPy). `keep_best`: write the checkpoint only when the
    validation loss improves (nanoGPT's default for shakespeare_char). `max_seconds`: stop early,
    with the usual final evaluation, once training has run this long. `world`: the ranks of a data-
    parallel run (ddp.MPIWorld; None: one process); `zero=1` shards AdamW's moments over them.
    Only rank 0 logs, evaluates, samples and writes; the other ranks return {}.
    """
    started = time.perf_counter()
    world = World() if world is None else world
    if world.size == 1 and zero:
        raise ValueError("--zero 1 shards the optimizer over ranks: it needs --ddp with mpiexec -n N, N >= 2")
    if not world.is_main:
        log = _silent
    array_module(device)  # a missing GPU is an error before the data is read
    out = Path(out)
    if world.is_main:
        out.mkdir(parents=True, exist_ok=True)
    meta = arrays = None
    if resume is not None:
        meta, arrays = load_checkpoint(resume)
        saved = TrainConfig(**{k: v for k, v in meta["train_config"].items() if k in {f.name for f in fields(cfg)}})
        arch = ("tokenizer", "n_layer", "n_head", "n_embd", "block_size")
        clashes = [
            f"{k}={getattr(cfg, k)} vs {getattr(saved, k)}" for k in arch if getattr(cfg, k) != getattr(saved, k)
        ]
        if clashes:
            raise ValueError(f"--resume: the checkpoint was trained with a different model: {', '.join(clashes)}")
        saved_ranks = meta.get("ranks", 1)
        if saved_ranks != world.size:
            raise ValueError(
                f"--resume: the checkpoint was trained with {saved_ranks} rank(s), this run has {world.size}; "
                f"resume with mpiexec -n {saved_ranks} (the batch and the data stream depend on the rank count)"
            )
    tokenizer, train_ids, val_ids = load_data(cfg.tokenizer, text)
    if meta is not None and tokenizer.to_dict() != meta["tokenizer"]:
        raise ValueError("--resume: the checkpoint's vocabulary differs from this data's")
    model_cfg = GPTConfig(
        vocab_size=tokenizer.vocab_size,
        n_positions=cfg.block_size,
        n_embd=cfg.n_embd,
        n_layer=cfg.n_layer,
        n_head=cfg.n_head,
        dropout=cfg.dropout,
    )
    check_memory(estimate_bytes(cfg, tokenizer.vocab_size), "this model and batch size")
    model = GPT(model_cfg, seed=cfg.seed, device=device, dtype=dtype)
    if zero:
        from .ddp import ZeroAdamW

        optimizer = ZeroAdamW(
            model.params, world, lr=cfg.lr, betas=(cfg.beta1, cfg.beta2), weight_decay=cfg.weight_decay
        )
    else:
        optimizer = AdamW(model.params, lr=cfg.lr, betas=(cfg.beta1, cfg.beta2), weight_decay=cfg.weight_decay)
    data_rng = make_rng(cfg.seed + 1)
    history = {"iter": [], "loss": [], "eval_iter": [], "train_loss": [], "val_loss": []}
    start_step = 0
    if meta is not None:
        if replace(config_from_dict(meta["model_config"]), dropout=cfg.dropout) != model_cfg:
            raise ValueError("--resume: the checkpoint's model configuration differs")
        for name, p in model.params.items():
            key = f"param/{name}"
            if key not in arrays or arrays[key].shape != p.data.shape:
                raise ValueError(f"--resume: checkpoint tensor {key} is missing or has the wrong shape")
            if not np.isfinite(arrays[key]).all():
                raise ValueError(f"--resume: checkpoint tensor {key} holds NaN or infinity")
            p.data[...] = model.xp.asarray(arrays[key])
        optimizer.load_state_arrays(arrays, meta["adam_steps"])
        try:
            data_rng.bit_generator.state = meta["data_rng"]
            if meta["dropout_rng"] is not None and model.xp is np:
                model.dropout_rng.bit_generator.state = meta["dropout_rng"]
        except (TypeError, ValueError, KeyError) as error:
            raise ValueError(f"--resume: the checkpoint's generator states are invalid ({error!r})") from None
        history = meta["history"]
        start_step = int(meta["step"])
        log(f"resumed from {resume} at iteration {start_step}")

    n_params = model.num_parameters()
    tokens_per_iter = cfg.batch_size * cfg.block_size * cfg.grad_accum * world.size  # all ranks
    flops_per_iter = flops_per_token(model, cfg.block_size) * tokens_per_iter
    # MFU against the CPU's matmul rate, times the ranks (one core each); measured on rank 0 only
    peak = matmul_peak_flops() * world.size if device == "cpu" and world.is_main else float("nan")
    log(
        f"model: {n_params / 1e6:.2f}M parameters, vocab {tokenizer.vocab_size}, {len(train_ids):,} train / "
        f"{len(val_ids):,} val tokens; {tokens_per_iter} tokens/iter; matmul peak {peak / 1e9:.0f} GFLOP/s"
    )
    if world.size > 1:
        log(
            f"data parallel: {world.size} ranks x micro-batch {cfg.batch_size} x accumulation {cfg.grad_accum} "
            f"= effective batch {world.size * cfg.batch_size * cfg.grad_accum}"
            + (f"; ZeRO-1 optimizer state {optimizer.state_bytes() / 1e6:.2f} MB per rank" if zero else "")
        )

    world.started = True  # from here a failure may be one rank's alone (train() then aborts them all)
    progress = Progress(cfg.max_iters, "train") if world.is_main else _NoProgress()
    eval_cfg = replace(cfg, batch_size=cfg.batch_size * world.size)  # rank 0 evaluates the global batch size
    step_times: list[float] = []
    stop = StopRequest()
    try:
        last, best_val = cfg.max_iters, min(history["val_loss"], default=float("inf"))
        for step in range(start_step, cfg.max_iters + 1):
            out_of_time = max_seconds is not None and time.perf_counter() - started > max_seconds
            stop_now, out_of_time = world.agree(stop.requested, out_of_time)  # the ranks stop at one step
            if out_of_time and last == cfg.max_iters:
                last = step  # out of time: evaluate, save and finish here
            if stop_now:  # SIGINT/SIGTERM: save this iteration's state, which resumes exactly
                state = {"step": step, "data_rng": data_rng, "history": history}
                save_checkpoint(out / "ckpt.npz", model, optimizer, cfg, tokenizer, state, world)
                progress.close()
                log(f"interrupted at iteration {step}; saved {out / 'ckpt.npz'}; continue with --resume")
                raise KeyboardInterrupt
            if (step % cfg.eval_interval == 0 or step == last) and not world.is_main:
                if zero:  # rank 0 may save: the moments' shards are gathered by every rank
                    save_checkpoint(out / "ckpt.npz", model, optimizer, cfg, tokenizer, {}, world)
            elif step % cfg.eval_interval == 0 or step == last:
                train_loss = evaluate(model, train_ids, eval_cfg, cfg.eval_iters, cfg.seed + 2)
                val_loss = evaluate(model, val_ids, eval_cfg, cfg.eval_iters, cfg.seed + 3)
                if not (math.isfinite(train_loss) and math.isfinite(val_loss)):
                    raise NonFiniteLossError(
                        f"the evaluation loss became {train_loss} / {val_loss} at iteration {step}; "
                        "the last good checkpoint is kept"
                    )
                if not history["eval_iter"] or history["eval_iter"][-1] != step:
                    history["eval_iter"].append(step)
                    history["train_loss"].append(train_loss)
                    history["val_loss"].append(val_loss)
                progress.write(f"step {step}: train loss {train_loss:.4f}, val loss {val_loss:.4f}")
                write = not keep_best or val_loss < best_val
                if write or zero:  # ZeRO-1: every rank takes part in gathering the moments
                    state = {"step": step, "data_rng": data_rng, "history": history}
                    save_checkpoint(out / "ckpt.npz", model, optimizer, cfg, tokenizer, state, world, write)
                best_val = min(best_val, val_loss)
            if step == last:
                break
            tick = time.perf_counter()
            lr = cosine_lr(step, cfg.lr, cfg.min_lr, cfg.warmup_iters, cfg.decay_iters)
            loss = 0.0
            for _ in range(cfg.grad_accum):
                x, y = get_batch(train_ids, cfg.batch_size, cfg.block_size, data_rng, world.rank, world.size)
                _, micro_loss = model(x, y)
                model.backward(scale=1.0 / cfg.grad_accum)
                loss += micro_loss / cfg.grad_accum
            if world.size > 1:  # the one all-reduce: mean gradient (and loss) over the ranks
                loss = world.average_gradients(model.parameters(), loss)
            if not np.isfinite(loss):
                raise NonFiniteLossError(
                    f"the loss became {loss} at iteration {step}; lower the learning rate "
                    "(nothing was updated or saved: the last good checkpoint is kept)"
                )
            norm = clip_grad_norm(model.parameters(), cfg.grad_clip)
            if not math.isfinite(norm):
                raise NonFiniteLossError(
                    f"the gradient norm became {norm} at iteration {step}; nothing was updated or saved"
                )
            optimizer.step(lr)
            model.zero_grad()
            dt = time.perf_counter() - tick
            step_times.append(dt)
            history["iter"].append(step)
            history["loss"].append(float(loss))
            progress.update(
                step + 1,
                loss=float(loss),
                lr=lr,
                **{"tok/s": round(tokens_per_iter / dt), "mfu": f"{flops_per_iter / dt / peak:.1%}"},
            )
    finally:
        stop.restore()
    progress.close()
    if not world.is_main:
        return {}

    final_val = evaluate(model, val_ids, eval_cfg, cfg.final_eval_iters, cfg.seed + 4)
    final_train = evaluate(model, train_ids, eval_cfg, cfg.final_eval_iters, cfg.seed + 5)
    log(f"final ({cfg.final_eval_iters} batches): train loss {final_train:.4f}, val loss {final_val:.4f}")
    model_dir = model.save_pretrained(out / "model")
    (model_dir / "tokenizer.json").write_text(json.dumps(tokenizer.to_dict()) + "\n")
    plot_curves(
        out / "loss.png",
        {
            "train (per iteration)": (history["iter"], history["loss"]),
            "val (evaluations)": (history["eval_iter"], history["val_loss"]),
        },
        xlabel="iteration",
        ylabel="cross-entropy",
        title="GPT on tiny shakespeare",
    )
    sample = ""
    if cfg.sample_tokens:
        start = start_tokens(tokenizer)
        rng = make_rng(cfg.seed)
        tokens = [
            int(t[0])
            for t in generate(
                model, [start], cfg.sample_tokens, temperature=0.8, top_k=200, rng=rng, sliding_window=True
            )
        ]
        sample = tokenizer.decode(tokens)
        (out / "sample.txt").write_text(sample + "\n")
        log(f"--- sample ({cfg.sample_tokens} tokens, temperature 0.8, top-k 200) ---\n{sample}\n---")
    median_step = float(np.median(step_times)) if step_times else float("nan")
    metrics = {
        "val_loss": final_val,
        "train_loss": final_train,
        "iters": last,
        "parameters": n_params,
        "step_seconds_median": median_step if step_times else None,
        "tokens_per_second": tokens_per_iter / median_step if step_times else None,
        "mfu": flops_per_iter / median_step / peak if step_times else None,
    }
    if keep_best or device != "cpu":
        metrics.update(best_val_loss=best_val, device=device)
    if device != "cpu":
        metrics["mfu"] = None
    if world.size > 1:
        metrics.update(ranks=world.size, zero=zero, allreduce_seconds=world.comm_seconds())
    write_results(out, metrics, time.perf_counter() - started, cfg.seed)
    return metrics
