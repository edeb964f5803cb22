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


def attention_weights(saved):
    """From `Transformer.forward`'s saved activations: ([encoder self-attention per layer],
    [decoder cross-attention per layer]), each (B, h, Tq, Tk)."""
    encoder = [layer.self_attn.attention.weights for layer in saved.encoder.layers]
    cross = [layer.cross_attn.attention.weights for layer in saved.decoder_layers]
    return encoder, cross


def plot_attention(out: Path, model, src_vocab, tgt_vocab, sentence: str) -> None:
    """Greedy-translate `sentence`, then draw last-layer attention maps, one panel per head."""
    src_tokens = tokenize(sentence)
    src = pad_batch([src_vocab.encode(src_tokens)])
    hyp = greedy(model, src)[0][: model.cfg.max_len - 1]  # <bos> + hyp must fit the positional table
    tgt_in = pad_batch([[1, *hyp]])
    _, saved = model.forward(src, tgt_in)
    encoder, cross = attention_weights(saved)
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
