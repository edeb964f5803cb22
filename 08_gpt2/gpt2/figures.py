"""The README's figures from a finished training run: loss curves and the attention maps of its model.

    python -m gpt2 figures --run runs/08_gpt2/train --out 08_gpt2/assets --force

1. `loss.png`: the training loss at every iteration and the train/val evaluations (from `ckpt.npz`).
2. `attention.png`: every head's attention weights (layer x head grid) on one stretch of text,
   read from the forward pass's saved activations: row i is query position i, column j the key
   it attends to, coloured by the square root of the weight; everything above the diagonal is
   zero (the causal mask).
Not here: anything that trains; a run must exist first (`python -m gpt2 train`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from shared.plotting import new_figure, save_figure

from .device import to_numpy
from .model import GPT
from .tokenizer import load_tokenizer_file
from .train import load_checkpoint

__all__ = ["attention_maps", "make_figures"]

DEFAULT_PROMPT = "ROMEO:\nBut soft, what light through yonder window breaks?"


def attention_maps(model: GPT, idx: np.ndarray) -> np.ndarray:
    """(n_layer, n_head, T, T) attention weights of one sequence idx (1, T), from the forward's saved activations."""
    model.eval()
    model(idx, idx)  # a forward with targets keeps the activations
    _, _, blocks, *_ = model._cache
    maps = np.stack([to_numpy(acts["attn"][3][0]) for acts in blocks])  # attention cache: (q, k, v, att, ...)
    model._cache = None
    return maps


def make_figures(run: Path, out: Path, prompt: str | None = None) -> list[Path]:
    """Write loss.png and attention.png for the run in `run` into `out`; return their paths."""
    meta, _ = load_checkpoint(run / "ckpt.npz")
    history = meta["history"]
    figure, axes = new_figure(6.4, 4.0)
    axes.plot(history["iter"], history["loss"], lw=0.6, alpha=0.6, label="train (one batch per iteration)")
    axes.plot(history["eval_iter"], history["train_loss"], "o-", label="train (evaluation)")
    axes.plot(history["eval_iter"], history["val_loss"], "o-", label="val (evaluation)")
    axes.set(xlabel="iteration", ylabel="cross-entropy (nats per character)", title=f"GPT on tiny shakespeare: {run}")
    axes.legend()
    axes.grid(alpha=0.3)
    loss_path = save_figure(figure, out / "loss.png", dpi=90)

    model = GPT.from_pretrained(run / "model")
    tokenizer = load_tokenizer_file(run / "model" / "tokenizer.json")
    ids = tokenizer.encode(prompt or DEFAULT_PROMPT)[: model.config.n_positions]
    if not ids:
        raise ValueError("the prompt for the attention maps is empty")
    maps = attention_maps(model, np.array([ids]))
    L, H = maps.shape[:2]
    figure, axes = new_figure(1.5 * H, 1.6 * L, nrows=L, ncols=H)
    for (layer, head), axis in np.ndenumerate(np.asarray(axes).reshape(L, H)):
        axis.imshow(np.sqrt(maps[layer, head]), cmap="magma")  # sqrt: weak weights stay visible beside strong ones
        axis.set_title(f"layer {layer} head {head}", fontsize=7)
        axis.axis("off")
    attention_path = save_figure(figure, out / "attention.png", dpi=80)
    return [loss_path, attention_path]
