"""PNG figures: loss curves, the learning-rate schedule, and attention maps (encoder self-attention,
decoder cross-attention) for one sentence, read from the caches of a teacher-forced forward pass."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from shared.plotting import new_figure, plot_curves, save_figure

from .data import pad_batch, tokenize
from .decode import greedy


def plot_training(out: Path, history: dict) -> None:
    if not history.get("step"):
        return
    curves = {"train loss (label-smoothed)": (history["step"], history["train_loss"])}
    if history.get("eval_val_loss"):
        curves["val loss (cross-entropy)"] = (history["eval_step"], history["eval_val_loss"])
    plot_curves(Path(out) / "loss.png", curves, title="loss", xlabel="step", ylabel="loss per token")
    plot_curves(
        Path(out) / "learning_rate.png",
        {"Noam schedule, eq. (3)": (history["step"], history["lr"])},
        title="learning rate",
        xlabel="step",
        ylabel="lr",
    )


def attention_weights(cache):
    """From `Transformer.forward`'s cache: ([encoder self-attn per layer], [decoder cross-attn per layer]),
    each (B, h, Tq, Tk)."""
    enc_cache, _, dec_caches, _, _ = cache
    encoder = [layer_cache[0][1][2][0] for layer_cache in enc_cache[1]]  # c1 -> sublayer cache -> attention -> weights
    cross = [layer_cache[1][1][2][0] for layer_cache in dec_caches]
    return encoder, cross


def plot_attention(out: Path, model, src_vocab, tgt_vocab, sentence: str) -> None:
    """Greedy-translate `sentence`, then draw last-layer attention maps, one panel per head."""
    src_tokens = tokenize(sentence)
    src = pad_batch([src_vocab.encode(src_tokens)])
    hyp = greedy(model, src)[0]
    tgt_in = pad_batch([[1, *hyp]])
    _, cache = model.forward(src, tgt_in)
    encoder, cross = attention_weights(cache)
    src_labels = [*(t if t in src_vocab.index else f"{t}(unk)" for t in src_tokens), "<eos>"]
    tgt_labels = [*tgt_vocab.decode(hyp), "<eos>"][: tgt_in.shape[1]]
    for name, weights, rows, cols in (
        ("attention_encoder_self.png", encoder[-1][0], src_labels, src_labels),
        ("attention_decoder_cross.png", cross[-1][0], tgt_labels, src_labels),
    ):
        heads = weights.shape[0]
        fig, axes = new_figure(width=4 * heads, height=4.5, ncols=heads)
        for h, ax in enumerate(np.atleast_1d(axes)):
            ax.imshow(np.asarray(weights[h]), cmap="viridis", vmin=0.0)
            ax.set_xticks(range(len(cols)), cols, rotation=90, fontsize=7)
            ax.set_yticks(range(len(rows)), rows, fontsize=7)
            ax.set_title(f"head {h + 1}")
        fig.suptitle(f"{name[:-4].replace('_', ' ')} (last layer): {sentence}", fontsize=9)
        save_figure(fig, Path(out) / name)
