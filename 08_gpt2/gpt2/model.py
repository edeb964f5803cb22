"""GPT-2 (Radford et al. 2019): the config, one transformer block forward and backward, and the model.

The model is the one OpenAI released: token + learned position embeddings, `n_layer` pre-LN
blocks (LayerNorm -> causal self-attention -> residual, LayerNorm -> 4x MLP with tanh-GELU ->
residual), a final LayerNorm, and an LM head tied to the token embedding.

`block_forward` / `block_backward`, written once, serve training, backward and cached decoding.
A block's parameters are its slice of the checkpoint under Hugging Face's `GPT2LMHeadModel`
names ((in, out) weights as its Conv1D: released checkpoints load without transposes); its saved
activations are named (llm.c's ActivationTensors). Arrays are NumPy or, with device="cuda",
CuPy (device.py), in the dtype of the inputs (float32; float64 for gradchecks).
Not here: layers (layers.py), KV cache (kv_cache.py), Hugging Face folders (hf.py), optimizer,
sampling, tokenizer.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np

from .device import array_module
from .kv_cache import KVCache, attention_cached

# isort: off
from .layers import (Parameter, attention_backward, attention_forward, crossentropy_backward, crossentropy_forward,
                     dropout_backward, dropout_forward, encoder_backward, encoder_forward, gelu_backward,
                     gelu_forward, layernorm_backward, layernorm_forward, linear_backward, linear_forward)  # fmt: skip
# isort: on

__all__ = ["GPT", "PRESETS", "CheckpointError", "GPTConfig", "KVCache", "Parameter", "attention_backward",
           "attention_forward", "block_backward", "block_forward", "crossentropy_backward", "crossentropy_forward",
           "dropout_forward", "encoder_backward", "encoder_forward", "gelu_backward", "gelu_forward",
           "layernorm_backward", "layernorm_forward", "linear_backward", "linear_forward"]  # fmt: skip


class CheckpointError(ValueError):
    """A checkpoint folder, config or weight file that does not describe a valid GPT-2."""


@dataclass
class GPTConfig:
    """Hyperparameters, under Hugging Face's GPT2Config field names."""

    vocab_size: int = 50257
    n_positions: int = 1024  # longest sequence (the learned position table's size)
    n_embd: int = 768
    n_layer: int = 12
    n_head: int = 12
    layer_norm_epsilon: float = 1e-5
    dropout: float = 0.0  # one rate for embeddings, attention weights and residuals (HF's *_pdrop)

    def __post_init__(self) -> None:
        for name in ("vocab_size", "n_positions", "n_embd", "n_layer", "n_head"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
                raise ValueError(f"GPTConfig.{name} must be a positive integer, got {value!r}")
        if self.n_embd % self.n_head:
            raise ValueError(f"n_embd ({self.n_embd}) must be divisible by n_head ({self.n_head})")
        for name, ok, wanted in (("layer_norm_epsilon", lambda v: v > 0, "positive"),
                                 ("dropout", lambda v: 0.0 <= v < 1.0, "in [0, 1)")):  # fmt: skip
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ValueError(f"GPTConfig.{name} must be a finite number, got {value!r}")
            if not ok(value):
                raise ValueError(f"{name} must be {wanted}, got {value}")

    @classmethod
    def preset(cls, name: str, **overrides) -> GPTConfig:
        """One of the four released sizes: 'gpt2' (124M), 'gpt2-medium', 'gpt2-large', 'gpt2-xl'."""
        if name not in PRESETS:
            raise ValueError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}")
        return cls(**{**PRESETS[name], **overrides})

    def to_hf_dict(self) -> dict:
        """config.json content as transformers writes it (gpt2/hf.py)."""
        from .hf import config_to_hf

        return config_to_hf(self)


PRESETS = {
    "gpt2": dict(n_layer=12, n_head=12, n_embd=768),  # 124M
    "gpt2-medium": dict(n_layer=24, n_head=16, n_embd=1024),  # 350M
    "gpt2-large": dict(n_layer=36, n_head=20, n_embd=1280),  # 774M
    "gpt2-xl": dict(n_layer=48, n_head=25, n_embd=1600),  # 1558M
}


# --------------------------------------------------------------------------- one block, written once


def block_forward(x, w: dict, eps: float, attend, drop: float = 0.0, rng=None):
    """x (B, T, C) -> x + attn(ln_1(x)), then + mlp(ln_2(x)) (GPT-2 sec. 2.3: pre-LN); and the saved activations.

    `w`: this block's parameters by checkpoint name. `attend(qkv) -> (y, cache)` is the attention:
    full causal (training) or over a KV cache (decoding).
    """
    acts = {}
    h, acts["ln_1"] = layernorm_forward(x, w["ln_1.weight"], w["ln_1.bias"], eps)
    qkv, acts["c_attn"] = linear_forward(h, w["attn.c_attn.weight"], w["attn.c_attn.bias"])  # (B, T, 3C)
    a, acts["attn"] = attend(qkv)  # (B, T, C)
    a, acts["c_proj"] = linear_forward(a, w["attn.c_proj.weight"], w["attn.c_proj.bias"])
    a, acts["drop_attn"] = dropout_forward(a, drop, rng)
    x = x + a  # residual
    h, acts["ln_2"] = layernorm_forward(x, w["ln_2.weight"], w["ln_2.bias"], eps)
    h, acts["c_fc"] = linear_forward(h, w["mlp.c_fc.weight"], w["mlp.c_fc.bias"])  # (B, T, 4C)
    h, acts["gelu"] = gelu_forward(h)
    h, acts["mlp_proj"] = linear_forward(h, w["mlp.c_proj.weight"], w["mlp.c_proj.bias"])  # (B, T, C)
    h, acts["drop_mlp"] = dropout_forward(h, drop, rng)
    return x + h, acts  # residual


def block_backward(dx, acts: dict):
    """The block's backward: dx (B, T, C) at its output -> dx at its input, and the gradient of every parameter."""
    g = {}
    # exercise: block_backward: the layers' backwards in reverse, plus residuals (README: The backward pass)
    # MLP branch: x = x + drop(proj(gelu(fc(ln_2(x)))))
    dh, g["mlp.c_proj.weight"], g["mlp.c_proj.bias"] = linear_backward(
        dropout_backward(dx, acts["drop_mlp"]), acts["mlp_proj"]
    )
    dh = gelu_backward(dh, acts["gelu"])
    dh, g["mlp.c_fc.weight"], g["mlp.c_fc.bias"] = linear_backward(dh, acts["c_fc"])
    dh, g["ln_2.weight"], g["ln_2.bias"] = layernorm_backward(dh, acts["ln_2"])
    dx = dx + dh  # the residual passes dx through unchanged and adds the branch's gradient
    # attention branch: x = x + drop(proj(attn(c_attn(ln_1(x)))))
    da, g["attn.c_proj.weight"], g["attn.c_proj.bias"] = linear_backward(
        dropout_backward(dx, acts["drop_attn"]), acts["c_proj"]
    )
    dqkv = attention_backward(da, acts["attn"])
    dh, g["attn.c_attn.weight"], g["attn.c_attn.bias"] = linear_backward(dqkv, acts["c_attn"])
    dh, g["ln_1.weight"], g["ln_1.bias"] = layernorm_backward(dh, acts["ln_1"])
    # end exercise
    return dx + dh, g


def block_shapes(C: int) -> dict[str, tuple[int, ...]]:
    """A block's parameters, in checkpoint order: name within the block -> shape."""
    return {
        "ln_1.weight": (C,), "ln_1.bias": (C,), "attn.c_attn.weight": (C, 3 * C), "attn.c_attn.bias": (3 * C,),
        "attn.c_proj.weight": (C, C), "attn.c_proj.bias": (C,), "ln_2.weight": (C,), "ln_2.bias": (C,),
        "mlp.c_fc.weight": (C, 4 * C), "mlp.c_fc.bias": (4 * C,), "mlp.c_proj.weight": (4 * C, C),
        "mlp.c_proj.bias": (C,),
    }  # fmt: skip


BLOCK_NAMES = tuple(block_shapes(1))


# --------------------------------------------------------------------------- the model


class GPT:
    """GPT-2: `logits, loss = model(idx, targets)`, then `model.backward()` fills every `.grad`."""

    def __init__(self, config: GPTConfig, seed=0, dtype=np.float32, init: bool = True, device: str = "cpu"):
        self.config = config
        self.dtype = np.dtype(dtype)
        self.training = True
        self.device, self.xp = device, array_module(device)
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        self.params = self._init_params(rng, init)  # drawn on the host, so both devices start from the same weights
        if self.xp is np:
            self.dropout_rng = np.random.default_rng(rng.integers(2**63))  # dropout masks, after the init draws
        else:
            self.dropout_rng = self.xp.random.default_rng(int(rng.integers(2**63)))  # masks made on the GPU
            for p in self.params.values():
                p.data = self.xp.asarray(p.data)
        self._cache = None  # activations of the last forward with targets, for backward

    def _init_params(self, rng: np.random.Generator, init: bool = True) -> dict[str, Parameter]:
        """GPT-2's init: N(0, 0.02) weights, zero biases, unit LayerNorm gains; the two projections
        that write into the residual stream get std 0.02 / sqrt(2 * n_layer) (Radford et al. 2019,
        sec. 2.3), so the stream's variance does not grow with depth."""
        cfg, dt = self.config, self.dtype
        C, V = cfg.n_embd, cfg.vocab_size
        residual_std = 0.02 / math.sqrt(2 * cfg.n_layer)

        def normal(shape, std=0.02):
            if not init:  # from_pretrained overwrites every weight: skip drawing 124M+ numbers
                return np.zeros(shape, dt)
            return (rng.standard_normal(shape, dtype=np.float32) * std).astype(dt)

        params = {"transformer.wte.weight": normal((V, C)), "transformer.wpe.weight": normal((cfg.n_positions, C))}
        for l in range(cfg.n_layer):
            for name, dims in block_shapes(C).items():
                if name.endswith("bias"):
                    array = np.zeros(dims, dt)
                elif name.startswith("ln_"):
                    array = np.ones(dims, dt)  # LayerNorm gains
                else:
                    array = normal(dims, residual_std if name.endswith("c_proj.weight") else 0.02)
                params[f"transformer.h.{l}.{name}"] = array
        params["transformer.ln_f.weight"], params["transformer.ln_f.bias"] = np.ones(C, dt), np.zeros(C, dt)
        return {name: Parameter(array) for name, array in params.items()}

    def block(self, l: int) -> dict:
        """Block l's parameter arrays under their names within the block (`ln_1.weight`, ...)."""
        prefix = f"transformer.h.{l}."
        return {name: self.params[prefix + name].data for name in BLOCK_NAMES}

    def named_parameters(self) -> dict[str, Parameter]:
        """Hugging Face GPT2LMHeadModel names -> Parameters (the LM head is `transformer.wte.weight`)."""
        return self.params

    def parameters(self) -> list[Parameter]:
        return list(self.params.values())

    def num_parameters(self, non_embedding: bool = False) -> int:
        n = sum(p.data.size for p in self.params.values())
        return n - self.params["transformer.wpe.weight"].data.size if non_embedding else n

    def zero_grad(self) -> None:
        for p in self.params.values():
            if p.grad is not None:
                p.grad.fill(0.0)

    def train(self, mode: bool = True) -> GPT:
        self.training = mode
        return self

    def eval(self) -> GPT:
        return self.train(False)

    def _p(self, name: str) -> np.ndarray:
        return self.params[name].data

    def _check_idx(self, idx, what: str = "idx", allow_ignore: bool = False) -> np.ndarray:
        idx = np.asarray(idx)  # token ids come from the host; they are checked here, then moved
        if idx.ndim != 2:
            raise ValueError(f"{what} must be a 2-D integer array (batch, time), got shape {idx.shape}")
        if idx.size and not np.issubdtype(idx.dtype, np.integer):
            raise ValueError(f"{what} must hold integer token ids, got dtype {idx.dtype}")
        low = -1 if allow_ignore else 0
        if idx.size and (idx.min() < low or idx.max() >= self.config.vocab_size):
            raise ValueError(
                f"{what} holds ids outside [{low}, {self.config.vocab_size}) "
                f"(min {idx.min()}, max {idx.max()}): not in this model's vocabulary"
            )
        return self.xp.asarray(idx.astype(np.int64, copy=False))

    def __call__(self, idx, targets=None):
        return self.forward(idx, targets)

    def forward(self, idx, targets=None):
        """idx (B, T) token ids -> logits (B, T, V); with targets (B, T) also the mean cross-entropy.

        A forward with targets keeps the activations that `backward()` needs.
        """
        cfg = self.config
        idx = self._check_idx(idx)
        B, T = idx.shape
        if T == 0 or T > cfg.n_positions:
            raise ValueError(f"sequence length {T} must be in [1, n_positions={cfg.n_positions}]")
        if B == 0:
            raise ValueError("idx has no rows: the batch must hold at least one sequence")
        if targets is not None:
            targets = self._check_idx(targets, "targets", allow_ignore=True)
            if targets.shape != idx.shape:
                raise ValueError(f"targets shape {targets.shape} must equal idx shape {idx.shape}")
        p = self._p
        drop = cfg.dropout if self.training else 0.0
        rng = self.dropout_rng if drop > 0 else None

        def attend(qkv):
            return attention_forward(qkv, cfg.n_head, drop, rng)

        x, enc_cache = encoder_forward(p("transformer.wte.weight"), p("transformer.wpe.weight"), idx)  # (B, T, C)
        x, enc_mask = dropout_forward(x, drop, rng)
        blocks = []
        for l in range(cfg.n_layer):
            x, acts = block_forward(x, self.block(l), cfg.layer_norm_epsilon, attend, drop, rng)
            if targets is not None:  # keep activations only when a backward can follow
                blocks.append(acts)
        xf, c_lnf = layernorm_forward(
            x, p("transformer.ln_f.weight"), p("transformer.ln_f.bias"), cfg.layer_norm_epsilon
        )
        wte = p("transformer.wte.weight")
        logits = (xf.reshape(B * T, -1) @ wte.T).reshape(B, T, -1)  # (B, T, V): the LM head is wte (tied)
        self._cache = None
        if targets is None:
            return logits, None
        loss, c_loss = crossentropy_forward(logits, targets)
        self._cache = (enc_cache, enc_mask, blocks, c_lnf, xf, c_loss)
        return logits, loss

    def backward(self, scale: float = 1.0) -> None:
        """Accumulate d(scale * loss)/d(param) into every `.grad` (scale < 1 for gradient accumulation).

        Needs the previous forward to have had targets."""
        if self._cache is None:
            raise RuntimeError("backward() needs a forward with targets first (and only one backward per forward)")
        enc_cache, enc_mask, blocks, c_lnf, xf, c_loss = self._cache
        self._cache = None
        params = self.params
        dlogits = crossentropy_backward(c_loss, scale)  # (B, T, V)
        wte = params["transformer.wte.weight"]
        V, C = wte.data.shape
        dlogits2 = dlogits.reshape(-1, V)  # (B*T, V)
        dxf = (dlogits2 @ wte.data).reshape(xf.shape)  # (B, T, C)
        wte.accumulate(dlogits2.T @ xf.reshape(-1, C))  # (V, C): the LM head's share of dwte
        dx, dw, db = layernorm_backward(dxf, c_lnf)
        params["transformer.ln_f.weight"].accumulate(dw)
        params["transformer.ln_f.bias"].accumulate(db)
        for l in reversed(range(self.config.n_layer)):
            dx, grads = block_backward(dx, blocks[l])
            for name, grad in grads.items():
                params[f"transformer.h.{l}.{name}"].accumulate(grad)
        dx = dropout_backward(dx, enc_mask)
        wpe = params["transformer.wpe.weight"]
        wpe.grad = self.xp.zeros_like(wpe.data) if wpe.grad is None else wpe.grad
        encoder_backward(dx, enc_cache, wte.grad, wpe.grad)  # the embedding's share of dwte (tying)

    def forward_cached(self, idx, cache: KVCache, valid=None, all_logits: bool = False):
        """Run new tokens idx (B, Tn) against `cache`, append their keys/values, return logits.

        `valid` (B, Tn) marks real tokens (False = left padding of a shorter prompt). Returns the
        last position's logits (B, V), or (B, Tn, V) with all_logits. Dropout is never applied.
        """
        cfg = self.config
        idx = self._check_idx(idx)
        positions, valid = cache.place(idx.shape, valid)  # (B, Tn) each row's positions; pads take none
        p = self._p
        x, _ = encoder_forward(p("transformer.wte.weight"), p("transformer.wpe.weight"), idx, positions)
        for l in range(cfg.n_layer):
            attend = partial(attention_cached, n_head=cfg.n_head, cache=cache, layer=l)
            x, _ = block_forward(x, self.block(l), cfg.layer_norm_epsilon, attend)
        cache.advance(valid)
        if not all_logits:
            x = x[:, -1:]  # only the last position is needed to pick the next token
        x, _ = layernorm_forward(x, p("transformer.ln_f.weight"), p("transformer.ln_f.bias"), cfg.layer_norm_epsilon)
        logits, _ = linear_forward(x, p("transformer.wte.weight").T, None)
        return logits if all_logits else logits[:, 0]

    def save_pretrained(self, path: str | os.PathLike) -> Path:
        """Write `config.json` and `model.safetensors` (float32) as transformers does."""
        from .hf import save_pretrained

        return save_pretrained(self, path)

    @classmethod
    def from_pretrained(cls, path: str | os.PathLike, dtype=np.float32) -> GPT:
        """Load a Hugging Face GPT-2 folder (`config.json` + `model.safetensors`), every size checked first."""
        from .hf import from_pretrained

        return from_pretrained(path, dtype)
