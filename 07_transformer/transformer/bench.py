"""Benchmarks: python -m transformer bench [--threads 1] [--repeats 6] (or python -m transformer.bench)

1. Training speed: one step (forward, label-smoothed loss, backward, Adam) of the `small`
   model in NumPy and of the same-shaped `torch.nn.Transformer` model on CPU (embeddings,
   sinusoidal encoding, tied output projection, dropout 0.1), on the same batch, with the
   same number of threads (`--threads`, also for torch), alternated so machine load hits both
   alike (`shared.timing.best_times`). Prints tokens/s and the time ratio ours / PyTorch.
   (torch.nn.Transformer adds a final LayerNorm to each stack; a negligible extra cost.)
2. Decoding speed: 50 output tokens one at a time with the key/value cache
   (`decode_step`) versus re-running the decoder over the whole prefix (`decode_full`).

A benchmark, not a test: numbers depend on the machine and its load. torch is imported only
inside the functions that need it.
"""

from __future__ import annotations

import sys

import numpy as np

from shared.timing import best_times

from .loss import label_smoothed_cross_entropy
from .model import BOS_ID, CONFIGS, Transformer, TransformerConfig, padding_mask
from .optim import Adam


def make_batch(rng, batch: int, length: int, vocab: int):
    src = rng.integers(4, vocab, (batch, length))
    tgt = rng.integers(4, vocab, (batch, length + 1))
    tgt[:, 0] = BOS_ID
    return src, tgt[:, :-1], tgt[:, 1:]


def ours_step_fn(cfg: TransformerConfig, batch):
    model = Transformer(cfg, seed=0)
    optimizer = Adam(model.named_parameters())
    grads = model.named_gradients()
    rng = np.random.default_rng(0)
    src, tgt_in, tgt_out = batch

    def step():
        model.zero_grad()
        logits, cache = model.forward(src, tgt_in, rng)
        loss, dlogits, n = label_smoothed_cross_entropy(logits, tgt_out, 0.1, 0, "sum")
        model.backward(dlogits, cache)
        optimizer.step(grads, 1e-4, grad_scale=1.0 / n)
        return loss / n

    return step, model.num_parameters()


def torch_step_fn(cfg: TransformerConfig, batch, threads: int):
    import torch

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    d = cfg.d_model

    class TorchTransformer(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.src_embed = torch.nn.Embedding(cfg.src_vocab_size, d)
            self.tgt_embed = torch.nn.Embedding(cfg.tgt_vocab_size, d)  # also the output projection
            self.core = torch.nn.Transformer(
                d, cfg.n_heads, cfg.n_layers, cfg.n_layers, cfg.d_ff, cfg.dropout, batch_first=True
            )
            self.drop = torch.nn.Dropout(cfg.dropout)
            position = torch.arange(cfg.max_len)[:, None]
            inv_freq = torch.exp(-np.log(10000.0) * torch.arange(0, d, 2) / d)
            pe = torch.zeros(cfg.max_len, d)
            pe[:, 0::2], pe[:, 1::2] = torch.sin(position * inv_freq), torch.cos(position * inv_freq)
            self.register_buffer("pe", pe)

        def forward(self, src, tgt_in):
            scale = d**0.5
            s = self.drop(self.src_embed(src) * scale + self.pe[: src.shape[1]])
            t = self.drop(self.tgt_embed(tgt_in) * scale + self.pe[: tgt_in.shape[1]])
            mask = torch.nn.Transformer.generate_square_subsequent_mask(tgt_in.shape[1])
            h = self.core(s, t, tgt_mask=mask, src_key_padding_mask=src == 0, memory_key_padding_mask=src == 0)
            return h @ self.tgt_embed.weight.T

    model = TorchTransformer()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4, betas=(0.9, 0.98), eps=1e-9)
    src, tgt_in, tgt_out = (torch.tensor(a) for a in batch)

    def step():
        optimizer.zero_grad()
        logits = model(src, tgt_in)
        loss = torch.nn.functional.cross_entropy(
            logits.reshape(-1, logits.shape[-1]), tgt_out.reshape(-1), ignore_index=0, label_smoothing=0.1
        )
        loss.backward()
        optimizer.step()
        return loss.item()

    return step, sum(p.numel() for p in model.parameters())


def bench_training(args) -> None:
    cfg = TransformerConfig(
        src_vocab_size=args.vocab, tgt_vocab_size=args.vocab, share_embeddings=False, **CONFIGS[args.model]
    )
    batch = make_batch(np.random.default_rng(0), args.batch, args.length, args.vocab)
    tokens = args.batch * args.length  # target tokens per step (the source has as many)
    ours, ours_params = ours_step_fn(cfg, batch)
    try:
        theirs, torch_params = torch_step_fn(cfg, batch, args.threads)
    except ImportError:
        theirs = None
        print("PyTorch is not installed: timing ours only (pip install torch to compare).")
    print(
        f"training step: model '{args.model}' ({ours_params:,} parameters in ours"
        + (f", {torch_params:,} in torch" if theirs else "")
        + f"), batch {args.batch} x {args.length} tokens, vocab {args.vocab}, {args.threads} thread(s)"
    )
    ours_s, theirs_s = best_times(ours, theirs, args.repeats)
    print(f"  {'ours (NumPy)':14s} {ours_s * 1000:8.1f} ms/step  {tokens / ours_s:8.0f} target tokens/s")
    if theirs:
        print(f"  {'PyTorch CPU':14s} {theirs_s * 1000:8.1f} ms/step  {tokens / theirs_s:8.0f} target tokens/s")
        print(f"  ratio ours / PyTorch time per step (best of {args.repeats}): {ours_s / theirs_s:.2f}x (bar: <= 1.5x)")


def bench_decoding(args) -> None:
    cfg = TransformerConfig(
        src_vocab_size=args.vocab, tgt_vocab_size=args.vocab, share_embeddings=False, **CONFIGS[args.model]
    )
    model = Transformer(cfg, seed=0)
    rng = np.random.default_rng(1)
    src = rng.integers(4, args.vocab, (args.decode_batch, 20))
    memory, _ = model.encode(src)
    mask = padding_mask(src)
    n_out = args.decode_tokens

    def cached():
        caches = model.start_decoding(memory)
        token = np.full(src.shape[0], BOS_ID)
        for t in range(n_out):
            logp, _ = model.decode_step(token, t, caches, mask)
            token = logp.argmax(-1)

    def uncached():
        prefix = np.full((src.shape[0], 1), BOS_ID)
        for _ in range(n_out):
            logp = model.decode_full(prefix, memory, mask)
            prefix = np.concatenate([prefix, logp.argmax(-1)[:, None]], axis=1)

    # Alternated, so that a change in the machine's load hits both alike.
    results = dict(zip(("with cache", "without cache"), best_times(cached, uncached, args.repeats)))
    print(f"greedy decoding of {n_out} tokens, batch {args.decode_batch}, source length 20:")
    for name, seconds in results.items():
        print(f"  {name:14s} {seconds:7.3f} s  {args.decode_batch * n_out / seconds:8.0f} tokens/s")
    print(f"  speed-up from the cache: {results['without cache'] / results['with cache']:.1f}x (bar: >= 5x)")


def run_bench(args) -> None:
    """Run the parts asked for (`python -m transformer bench`; options in `__main__.py`)."""
    if args.part in (None, "training"):
        bench_training(args)
    if args.part in (None, "decoding"):
        bench_decoding(args)


def main(argv=None) -> int:
    """`python -m transformer.bench ...` is `python -m transformer bench ...`."""
    from .__main__ import app

    return app.main(["bench", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
