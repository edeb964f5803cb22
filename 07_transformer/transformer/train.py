"""Training: the step (forward, label-smoothed loss, backward, Adam + Noam) and the two tasks.

    train_steps(...)    the loop: token-budget batches, gradient accumulation, progress line,
                        periodic evaluation and checkpoints; resumes only a run with the same
                        settings, stops on a time limit (resumable), on SIGINT/SIGTERM (saved),
                        and on a NaN or infinite loss (nothing saved)
    run_copy(...)       the Annotated Transformer's copy task; exact match of greedy decoding
    run_multi30k(...)   German->English on Multi30k; val loss and BLEU, test BLEU greedy + beam

Gradients are accumulated as sums over target tokens and divided by the total token count
of all micro-batches at the update, so `--accum k` equals one batch k times as large.
"""

from __future__ import annotations

import glob
import math
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from shared.checks import check_memory
from shared.progress import Progress
from shared.stopping import StopRequest

from .bleu import corpus_bleu
from .checkpoint import history as read_history
from .checkpoint import model_state, read_checkpoint, save_checkpoint
from .data import Vocab, detokenize, make_batches, make_copy_data, pad_batch, tokenize
from .decode import beam_search, greedy
from .loss import label_smoothed_cross_entropy
from .model import BOS_ID, CONFIGS, PAD_ID, Transformer, TransformerConfig
from .optim import Adam, average_checkpoints, noam_lr


class TrainingInterrupted(KeyboardInterrupt):
    """Raised after a SIGINT/SIGTERM once the current step is finished and a checkpoint is saved."""


class NonFiniteLossError(ValueError):
    """The loss became NaN or infinite: training stops before the update, nothing is saved."""


class RunMismatchError(ValueError):
    """The checkpoint to resume was trained with other settings than the ones asked for."""


@dataclass
class TrainConfig:
    steps: int = 1000
    max_tokens: int = 2000  # padded target tokens per micro-batch
    accum: int = 1  # micro-batches per update
    warmup: int = 400
    lr_factor: float = 1.0
    label_smoothing: float = 0.1
    eval_every: int = 200
    keep_last: int = 5  # parameter snapshots kept for checkpoint averaging
    seed: int = 0

    def __post_init__(self):
        for name in ("steps", "max_tokens", "accum", "warmup", "eval_every", "keep_last"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
        if not (math.isfinite(self.lr_factor) and self.lr_factor > 0):  # `not > 0`: NaN fails too
            raise ValueError(f"lr_factor must be a finite number > 0, got {self.lr_factor}")
        if not 0.0 <= self.label_smoothing < 1.0:  # NaN fails both comparisons
            raise ValueError(f"label_smoothing must be in [0, 1), got {self.label_smoothing}")

    def identity(self) -> dict:
        """The settings a resumed run must share with the run it continues (not its length)."""
        return {k: v for k, v in asdict(self).items() if k not in ("steps", "eval_every", "keep_last")}


def check_same_run(meta: dict, cfg, run: dict, path) -> None:
    """Refuse to resume `path` when its model or training settings differ from the ones asked for."""
    differences = []
    stored_config, stored_run = meta.get("config", {}), meta.get("run", {})
    for key, value in cfg.to_dict().items():
        if stored_config.get(key) != value:
            differences.append(f"{key} {stored_config.get(key)!r} -> {value!r}")

    def flat(values: dict) -> dict:  # the training settings sit under "train"
        return {
            k: v
            for key, value in values.items()
            for k, v in (value if isinstance(value, dict) else {key: value}).items()
        }

    stored_flat = flat(stored_run)
    for key, value in flat(run).items():
        if stored_flat.get(key) != value:
            differences.append(f"{key} {stored_flat.get(key)!r} -> {value!r}")
    if differences:
        raise RunMismatchError(
            f"{path} holds a run trained with other settings ({'; '.join(differences)}); "
            "pass --force to start afresh there, or choose another --out"
        )


def make_tensors(src_ids, tgt_ids, index):
    """Padded (src, tgt_in, tgt_out) for the pairs `index`: tgt_in = <bos> y, tgt_out = y <eos>."""
    src = pad_batch([src_ids[i] for i in index])
    tgt = pad_batch([[BOS_ID, *tgt_ids[i]] for i in index])
    return src, tgt[:, :-1], tgt[:, 1:]


def evaluate_loss(model, src_ids, tgt_ids, max_tokens=4000, smoothing=0.0) -> float:
    """Mean per-token cross-entropy (no dropout; no smoothing by default) over a dataset."""
    total, count = 0.0, 0
    for index in make_batches(src_ids, tgt_ids, max_tokens):
        src, tgt_in, tgt_out = make_tensors(src_ids, tgt_ids, index)
        logits, _ = model.forward(src, tgt_in)
        loss, _, n = label_smoothed_cross_entropy(logits, tgt_out, smoothing, PAD_ID, reduction="sum")
        total, count = total + loss, count + n
    return total / max(count, 1)


def train_steps(
    model,
    src_ids,
    tgt_ids,
    tc: TrainConfig,
    ckpt_path,
    vocabs=(None, None),
    evaluate=None,
    resume=True,
    run: dict | None = None,
    max_seconds: float | None = None,
):
    """Train to `tc.steps` updates, resuming from `ckpt_path` if it exists; returns (history, step).

    `evaluate(step) -> dict` is called every `tc.eval_every` updates and at the end; its
    numbers are printed and appended to the history. A checkpoint is written at each evaluation.
    `run` describes the run (task, data settings); it is stored in the checkpoint together with
    `tc.identity()`, and a resume with different settings is refused (`RunMismatchError`).
    `max_seconds` stops training (with a checkpoint) once that much wall time has passed.
    A NaN or infinite loss stops training before the update (`NonFiniteLossError`), and nothing is
    saved: the last checkpoint written is the last good one.
    """
    optimizer = Adam(model.named_parameters())
    grads = model.named_gradients()
    history = {"step": [], "train_loss": [], "lr": [], "tokens_per_s": []}
    step = 0
    ckpt_path = Path(ckpt_path)
    run = {**(run or {}), "train": tc.identity()}
    snapshots = str(ckpt_path.with_name(f"{ckpt_path.stem}.step*.npz"))
    if resume and ckpt_path.is_file():
        arrays, meta = read_checkpoint(ckpt_path)
        check_same_run(meta, model.cfg, run, ckpt_path)
        model.load_state_dict(model_state(arrays))
        optimizer.load_state_dict(arrays)
        step = meta["step"]
        history.update(read_history(arrays))
        print(f"resumed from {ckpt_path} at step {step}", flush=True)
    else:  # a fresh run: old snapshots must not enter the average
        for old in glob.glob(snapshots):
            os.remove(old)

    def save(with_snapshot: bool) -> None:
        save_checkpoint(ckpt_path, model, step, optimizer, *vocabs, history=history, run=run)
        if with_snapshot:
            snapshot = ckpt_path.with_name(f"{ckpt_path.stem}.step{step:07d}.npz")
            save_checkpoint(snapshot, model, step, None, *vocabs, run=run)
            for old in sorted(glob.glob(snapshots))[: -tc.keep_last]:
                os.remove(old)

    rng = np.random.default_rng([tc.seed, step])  # a resumed run continues with fresh (but seeded) randomness
    batches: list = []
    first_step = step  # the progress line counts this run's steps, so its rate and ETA stay right on resume
    description = "train" if first_step == 0 else f"train (resumed at step {first_step})"
    progress = Progress(total=max(tc.steps - first_step, 0), description=description, unit="step")
    window_loss, window_tokens, window_time = 0.0, 0, 0.0
    loop_started = time.perf_counter()
    stop = StopRequest()
    try:
        while step < tc.steps:
            started = time.perf_counter()
            model.zero_grad()
            loss_sum, n_tokens = 0.0, 0
            for _ in range(tc.accum):
                if not batches:
                    batches = make_batches(src_ids, tgt_ids, tc.max_tokens, rng)
                index = batches.pop()
                src, tgt_in, tgt_out = make_tensors(src_ids, tgt_ids, index)
                logits, saved = model.forward(src, tgt_in, rng)
                loss, dlogits, n = label_smoothed_cross_entropy(logits, tgt_out, tc.label_smoothing, PAD_ID, "sum")
                model.backward(dlogits, saved)
                loss_sum, n_tokens = loss_sum + loss, n_tokens + n
            if not math.isfinite(loss_sum):
                where = (
                    f"the last good checkpoint is {ckpt_path}" if ckpt_path.is_file() else "no checkpoint was written"
                )
                raise NonFiniteLossError(
                    f"the loss became {loss_sum} at step {step + 1}: training stopped and nothing was saved ({where}); "
                    "lower the learning rate (--lr-factor) or raise --warmup"
                )
            step += 1
            lr = noam_lr(step, model.cfg.d_model, tc.warmup, tc.lr_factor)
            optimizer.step(grads, lr, grad_scale=1.0 / max(n_tokens, 1))
            elapsed = time.perf_counter() - started
            window_loss, window_tokens = window_loss + loss_sum, window_tokens + n_tokens
            window_time += elapsed
            progress.update(step - first_step, loss=loss_sum / max(n_tokens, 1), lr=lr, tok_s=n_tokens / elapsed)
            out_of_time = max_seconds is not None and time.perf_counter() - loop_started >= max_seconds
            if step % 10 == 0 or step == tc.steps or out_of_time:
                history["step"].append(step)
                history["train_loss"].append(window_loss / max(window_tokens, 1))
                history["lr"].append(lr)
                history["tokens_per_s"].append(window_tokens / max(window_time, 1e-9))
                window_loss, window_tokens, window_time = 0.0, 0, 0.0
            if step % tc.eval_every == 0 or step == tc.steps:
                if evaluate is not None:
                    metrics = evaluate(step)
                    progress.write(f"step {step}: " + ", ".join(f"{k} {v:.4f}" for k, v in metrics.items()))
                    for key, value in metrics.items():
                        history.setdefault(f"eval_{key}", []).append(value)
                    history.setdefault("eval_step", []).append(step)
                save(with_snapshot=True)
            elif stop.requested or out_of_time:
                save(with_snapshot=out_of_time)
            if stop.requested:
                raise TrainingInterrupted(f"stopped at step {step}; checkpoint saved to {ckpt_path}; rerun to resume")
            if out_of_time:
                progress.write(f"time limit reached at step {step}; checkpoint saved; rerun the command to continue")
                break
    finally:
        stop.restore()
        progress.close()
    return history, step


def averaged_state(ckpt_path, last: int):
    """Mean parameters of the last `last` snapshots next to `ckpt_path` (section 6.1)."""
    ckpt_path = Path(ckpt_path)
    files = sorted(glob.glob(str(ckpt_path.with_name(f"{ckpt_path.stem}.step*.npz"))))[-last:]
    if not files:
        raise FileNotFoundError(f"no snapshots {ckpt_path.stem}.step*.npz next to {ckpt_path}")
    return average_checkpoints([model_state(read_checkpoint(f)[0]) for f in files]), files


# ---------------------------------------------------------------------------------------
# copy task


COPY_HELD_OUT = 200  # held-out sequences the copy task is scored on


def run_copy(
    out: Path,
    steps: int = 500,
    seed: int = 0,
    length: int = 10,
    vocab_size: int = 11,
    resume: bool = False,
    max_seconds: float | None = None,
) -> dict:
    """Annotated Transformer copy task (N=2): learn y = x, then greedy-decode held-out sequences."""
    rng = np.random.default_rng(seed)
    cfg = TransformerConfig(src_vocab_size=vocab_size, tgt_vocab_size=vocab_size, max_len=64, **CONFIGS["tiny"])
    model = Transformer(cfg, seed=seed)
    train = make_copy_data(20000, length, vocab_size, rng)
    held_out = make_copy_data(COPY_HELD_OUT, length, vocab_size, np.random.default_rng(seed + 12345))
    # A sequence's own <eos> is appended by make_tensors' callers: the target is x <eos>.
    src_ids = [[*s, 2] for s in train]
    tc = TrainConfig(
        steps=steps,
        max_tokens=64 * (length + 1),
        warmup=100,
        lr_factor=0.25,
        label_smoothing=0.0,
        eval_every=max(steps // 4, 1),
        seed=seed,
    )

    def evaluate(step):
        decoded = greedy(model, pad_batch([[*s, 2] for s in held_out]))
        return {"exact_match": float(np.mean([d == s for d, s in zip(decoded, held_out)]))}

    started = time.perf_counter()
    run = {"task": "copy", "length": length, "vocab_size": vocab_size}
    history, step = train_steps(
        model,
        src_ids,
        src_ids,
        tc,
        out / "copy.npz",
        evaluate=evaluate,
        resume=resume,
        run=run,
        max_seconds=max_seconds,
    )
    seconds = time.perf_counter() - started
    decoded = greedy(model, pad_batch([[*s, 2] for s in held_out]))
    exact = float(np.mean([d == s for d, s in zip(decoded, held_out)]))
    beam = beam_search(model, pad_batch([[*s, 2] for s in held_out]), beam=4)
    exact_beam = float(np.mean([d == s for d, s in zip(beam, held_out)]))
    print(f"copy task: held-out exact match greedy {exact:.3f}, beam-4 {exact_beam:.3f} ({len(held_out)} sequences)")
    print(f"example: {held_out[0]} -> {decoded[0]}")
    from .plots import plot_training

    plot_training(out, history)
    return {
        "exact_match": exact,
        "exact_match_beam": exact_beam,
        "final_train_loss": float(history["train_loss"][-1]) if history["train_loss"] else None,
        "parameters": model.num_parameters(),
        "steps": step,
        "train_seconds": seconds,
    }


# ---------------------------------------------------------------------------------------
# Multi30k


def load_multi30k(split: str) -> tuple[list[str], list[str]]:
    """(German lines, English lines) of 'train', 'val' or 'test_2016_flickr' through `shared.data`."""
    from shared.data import read_text

    de = read_text(f"multi30k/{split}.de").rstrip("\n").split("\n")
    en = read_text(f"multi30k/{split}.en").rstrip("\n").split("\n")
    if len(de) != len(en):
        raise ValueError(f"multi30k/{split}: {len(de)} German but {len(en)} English lines; is a file corrupt?")
    return de, en


def translate_lines(
    model,
    src_vocab: Vocab,
    tgt_vocab: Vocab,
    lines,
    beam: int = 1,
    batch_size: int = 100,
    alpha: float = 0.6,
    unk_replace: bool = False,
):
    """Detokenized translations of raw German lines (greedy for beam == 1)."""
    tokens = [tokenize(line) for line in lines]
    for i, t in enumerate(tokens):
        if len(t) + 1 > model.cfg.max_len:
            raise ValueError(
                f"sentence {i} has {len(t)} tokens; the model's positional table holds {model.cfg.max_len}"
            )
    ids = [src_vocab.encode(t) for t in tokens]
    if not 1 <= beam <= 1024:
        raise ValueError(f"beam must be an integer from 1 to 1024, got {beam}")
    batch_size = max(1, min(batch_size, 512 // beam))  # at most ~512 decoder rows (sentences x beams) at once
    if ids:
        # The decoder's key/value caches: rows x layers x (k, v) x output length x d_model, about
        # three times over while beams are reordered and caches grow by concatenation.
        rows = min(batch_size, len(ids)) * beam
        length = min(max(len(i) for i in ids) + 50, model.cfg.max_len)
        itemsize = np.dtype(model.cfg.dtype).itemsize
        check_memory(3 * rows * model.cfg.n_layers * 2 * length * model.cfg.d_model * itemsize, f"beam {beam} decoding")
    order = sorted(range(len(ids)), key=lambda i: len(ids[i]))  # similar lengths batch together
    outputs: list[str] = [""] * len(ids)
    for start in range(0, len(order), batch_size):
        chunk = order[start : start + batch_size]
        src = pad_batch([ids[i] for i in chunk])
        hyps = greedy(model, src) if beam == 1 else beam_search(model, src, beam=beam, alpha=alpha)
        for i, hyp in zip(chunk, hyps):
            outputs[i] = detokenize(tgt_vocab.decode(hyp))
    return outputs


def bleu_of(model, src_vocab, tgt_vocab, de, en, beam: int) -> tuple[float, list[str]]:
    hyps = translate_lines(model, src_vocab, tgt_vocab, de, beam=beam)
    return corpus_bleu(hyps, en), hyps


def run_multi30k(
    out: Path,
    model_config: str,
    tc: TrainConfig,
    min_freq: int = 2,
    resume: bool = True,
    val_bleu_sentences: int = 200,
    average_last: int = 5,
    eval_limit: int | None = None,
    max_seconds: float | None = None,
    examples: int = 3,
) -> dict:
    """Train German->English on Multi30k and report BLEU on test_2016_flickr (greedy and beam 4).

    eval_limit: score only the first N test sentences (and at most N validation sentences
    during training), for short runs; None scores all 1,000. max_seconds: stop training
    (with a checkpoint, resumable) after that much wall time, then evaluate.
    """
    train_de, train_en = load_multi30k("train")
    val_de, val_en = load_multi30k("val")
    test_de, test_en = load_multi30k("test_2016_flickr")
    if eval_limit is not None:
        test_de, test_en = test_de[:eval_limit], test_en[:eval_limit]
        val_bleu_sentences = min(val_bleu_sentences, eval_limit)
    train_de_tokens, train_en_tokens = [tokenize(s) for s in train_de], [tokenize(s) for s in train_en]
    src_vocab, tgt_vocab = Vocab.build(train_de_tokens, min_freq), Vocab.build(train_en_tokens, min_freq)
    print(
        f"vocabulary: German {len(src_vocab)}, English {len(tgt_vocab)} words (min_freq {min_freq}); "
        f"{len(train_de)} training pairs"
    )
    # Separate vocabularies: the source has its own embedding; the target embedding doubles as the output projection.
    cfg = TransformerConfig(
        src_vocab_size=len(src_vocab), tgt_vocab_size=len(tgt_vocab), share_embeddings=False, **CONFIGS[model_config]
    )
    model = Transformer(cfg, seed=tc.seed)
    print(f"model '{model_config}': {model.num_parameters():,} parameters")

    src_ids = [src_vocab.encode(t) for t in train_de_tokens]
    tgt_ids = [tgt_vocab.encode(t) for t in train_en_tokens]
    val_src = [src_vocab.encode(tokenize(s)) for s in val_de]
    val_tgt = [tgt_vocab.encode(tokenize(s)) for s in val_en]

    def evaluate(step):
        val_loss = evaluate_loss(model, val_src, val_tgt)
        bleu, _ = bleu_of(model, src_vocab, tgt_vocab, val_de[:val_bleu_sentences], val_en[:val_bleu_sentences], 1)
        return {"val_loss": val_loss, "val_bleu_greedy": bleu}

    ckpt = out / "multi30k.npz"
    run = {"task": "multi30k", "model": model_config, "min_freq": min_freq}
    started, cpu_started = time.perf_counter(), time.process_time()
    history, step = train_steps(
        model,
        src_ids,
        tgt_ids,
        tc,
        ckpt,
        (src_vocab, tgt_vocab),
        evaluate,
        resume=resume,
        run=run,
        max_seconds=max_seconds,
    )
    train_seconds, train_cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    results = {"parameters": model.num_parameters(), "model_config": model_config, "steps": step}
    results["val_loss"] = evaluate_loss(model, val_src, val_tgt)
    scored = f"{len(test_de)} sentences" + (" (--eval-limit)" if eval_limit is not None and eval_limit < 1000 else "")
    for name in ("last", "averaged"):
        if name == "averaged":
            if average_last < 2:
                continue
            averaged, files = averaged_state(ckpt, average_last)
            if len(files) < 2:
                continue
            model.load_state_dict(averaged)
            print(f"averaged the last {len(files)} snapshots: {[Path(f).name for f in files]}")
        greedy_bleu, _ = bleu_of(model, src_vocab, tgt_vocab, test_de, test_en, 1)
        beam_bleu, hyps = bleu_of(model, src_vocab, tgt_vocab, test_de, test_en, 4)
        label = f"{name} weights, step {step}, {scored}"
        print(f"test_2016_flickr BLEU ({label}): greedy {greedy_bleu:.2f}, beam 4 {beam_bleu:.2f}")
        results[name] = {"test_bleu": {"greedy": greedy_bleu / 100, "beam4": beam_bleu / 100}}
        (out / f"test_hypotheses_{name}.txt").write_text("\n".join(hyps) + "\n")
        if name == "last":
            for de, hyp, en in list(zip(test_de, hyps, test_en))[:examples]:
                print(f"  {de}\n    -> {hyp}\n    reference: {en}")
    results["test_sentences"] = len(test_de)
    results["train_seconds_this_run"] = train_seconds
    results["train_cpu_seconds_this_run"] = train_cpu_seconds
    from .plots import plot_attention, plot_training

    plot_training(out, history)
    plot_attention(out, model, src_vocab, tgt_vocab, test_de[0])
    return results
