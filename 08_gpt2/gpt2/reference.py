"""nanoGPT's CPU shakespeare_char run, done by PyTorch with nanoGPT's own model: the reference's spread.

    python -m gpt2.reference [--seeds 1337 1338 1339 1340]

The issue's bar (val loss <= 1.88) is the figure nanoGPT's README quotes for one run of its CPU
configuration. How much does that figure move with the seed? This module reruns that recipe
in PyTorch, as nanoGPT's train.py and model.py do it, for several seeds:

- nanoGPT's model: `bias=False` (no biases in Linear or LayerNorm: nanoGPT's default, unlike
  GPT-2 and our model), exact-erf GELU (`nn.GELU()`), tied LM head, N(0, 0.02) init with the
  residual projections at 0.02 / sqrt(2 * n_layer);
- nanoGPT's data: the first 90% of tiny shakespeare's characters for training, batches of
  random windows from `torch.randint` after `torch.manual_seed(seed)`;
- nanoGPT's CPU settings: 4 layers, 4 heads, 128 wide, block 64, batch 12, 2000 iterations,
  AdamW (0.9, 0.99), weight decay 0.1 on 2-D tensors, lr 1e-3 with 100 warmup steps and a
  cosine to 1e-4 at 2000, clipping at 1.0, dropout 0;
- at iteration 2000, nanoGPT's evaluation (mean of 20 random batches per split) and a steadier
  one over 200 batches.

Not a benchmark and not a test: about 80 s per seed on one core. torch is imported only here.
"""

from __future__ import annotations

import math
import sys
import time

import numpy as np

from .optim import cosine_lr

SETTINGS = dict(n_layer=4, n_head=4, n_embd=128, block_size=64, batch_size=12, max_iters=2000, lr=1e-3,
                min_lr=1e-4, warmup_iters=100, weight_decay=0.1, betas=(0.9, 0.99), grad_clip=1.0)  # fmt: skip


def nanogpt_model(torch, vocab_size: int, n_layer: int, n_head: int, n_embd: int, block_size: int):
    """nanoGPT's GPT with bias=False and dropout 0, initialised as nanoGPT does."""
    nn, F = torch.nn, torch.nn.functional

    class LayerNorm(nn.Module):  # nanoGPT's LayerNorm with bias=False: a gain only
        def __init__(self):
            super().__init__()
            self.weight = nn.Parameter(torch.ones(n_embd))

        def forward(self, x):
            return F.layer_norm(x, (n_embd,), self.weight, None, 1e-5)

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln_1, self.ln_2 = LayerNorm(), LayerNorm()
            self.c_attn = nn.Linear(n_embd, 3 * n_embd, bias=False)
            self.attn_proj = nn.Linear(n_embd, n_embd, bias=False)
            self.c_fc = nn.Linear(n_embd, 4 * n_embd, bias=False)
            self.mlp_proj = nn.Linear(4 * n_embd, n_embd, bias=False)

        def forward(self, x):
            B, T, C = x.shape
            q, k, v = self.c_attn(self.ln_1(x)).split(C, dim=2)
            q, k, v = (t.view(B, T, n_head, C // n_head).transpose(1, 2) for t in (q, k, v))  # (B, nh, T, hs)
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            x = x + self.attn_proj(y.transpose(1, 2).reshape(B, T, C))
            return x + self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x))))

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.wte, self.wpe = nn.Embedding(vocab_size, n_embd), nn.Embedding(block_size, n_embd)
            self.blocks = nn.ModuleList(Block() for _ in range(n_layer))
            self.ln_f = LayerNorm()
            self.lm_head = nn.Linear(n_embd, vocab_size, bias=False)
            self.wte.weight = self.lm_head.weight  # tied
            self.apply(self._init_weights)  # children before parents, as nanoGPT
            for name, p in self.named_parameters():
                if name.endswith(("attn_proj.weight", "mlp_proj.weight")):
                    nn.init.normal_(p, 0.0, 0.02 / math.sqrt(2 * n_layer))

        @staticmethod
        def _init_weights(module):
            if isinstance(module, (nn.Linear, nn.Embedding)):
                nn.init.normal_(module.weight, 0.0, 0.02)

        def forward(self, idx, targets):
            x = self.wte(idx) + self.wpe(torch.arange(idx.shape[1]))
            for block in self.blocks:
                x = block(x)
            logits = self.lm_head(self.ln_f(x))
            return F.cross_entropy(logits.view(-1, logits.shape[-1]), targets.view(-1))

    return GPT()


def run_nanogpt(torch, text: str, seed: int, s: dict = SETTINGS) -> dict:
    """One nanoGPT run from `seed`; the 20- and 200-batch evaluations at the last iteration."""
    torch.manual_seed(seed)
    chars = sorted(set(text))
    index = {c: i for i, c in enumerate(chars)}
    ids = torch.tensor([index[c] for c in text], dtype=torch.long)
    cut = int(0.9 * len(ids))
    splits = {"train": ids[:cut], "val": ids[cut:]}
    B, T = s["batch_size"], s["block_size"]

    def get_batch(split):
        data = splits[split]
        starts = torch.randint(len(data) - T, (B,))
        return torch.stack([data[i : i + T] for i in starts]), torch.stack([data[i + 1 : i + 1 + T] for i in starts])

    model = nanogpt_model(torch, len(chars), s["n_layer"], s["n_head"], s["n_embd"], T)
    params = list(model.parameters())
    groups = [{"params": [p for p in params if p.dim() >= 2], "weight_decay": s["weight_decay"]},
              {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0}]  # fmt: skip
    optimizer = torch.optim.AdamW(groups, lr=s["lr"], betas=s["betas"])
    for step in range(s["max_iters"]):
        for group in optimizer.param_groups:
            group["lr"] = cosine_lr(step, s["lr"], s["min_lr"], s["warmup_iters"], s["max_iters"])
        loss = model(*get_batch("train"))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, s["grad_clip"])
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
    model.eval()
    with torch.no_grad():
        result = {f"{split}_loss_20": float(np.mean([model(*get_batch(split)).item() for _ in range(20)]))
                  for split in ("train", "val")}  # fmt: skip
        result["val_loss_200"] = float(np.mean([model(*get_batch("val")).item() for _ in range(200)]))
    return result


def run_reference(args) -> None:
    """The `reference` command: nanoGPT's recipe in PyTorch for each of --seeds (torch gets --threads)."""
    try:
        import torch
    except ImportError:
        raise ValueError("this reference run needs PyTorch (pip install torch)") from None
    from shared.data import read_text

    torch.set_num_threads(args.threads)
    text = read_text("tinyshakespeare.txt")
    vals = []
    for seed in args.seeds or [1337, 1338, 1339, 1340]:
        started = time.perf_counter()
        r = run_nanogpt(torch, text, seed)
        vals.append(r["val_loss_200"])
        seconds = time.perf_counter() - started
        print(
            f"nanoGPT in PyTorch, seed {seed}: iteration 2000: train {r['train_loss_20']:.4f}, "
            f"val {r['val_loss_20']:.4f} (20 batches); val {r['val_loss_200']:.4f} (200 batches); {seconds:.0f} s",
            flush=True,
        )
    if len(vals) > 1:
        print(
            f"val (200 batches) over {len(vals)} seeds: mean {np.mean(vals):.4f}, "
            f"min {min(vals):.4f}, max {max(vals):.4f}"
        )


def main(argv=None) -> int:
    """python -m gpt2.reference ... is python -m gpt2 reference ..."""
    from .__main__ import app

    return app.main(["reference", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
