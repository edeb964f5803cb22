"""Hugging Face's folder format for GPT-2: `config.json` + `model.safetensors`, read and written.

`config.json` uses transformers' GPT2Config names (`n_positions`, `n_embd`, ...; `n_ctx` is an
old alias); `model.safetensors` holds the weights under `GPT2LMHeadModel` names. The hub's
own `gpt2` files have no `transformer.` prefix and also carry the causal-mask buffers
`attn.bias` / `attn.masked_bias` and sometimes a duplicate `lm_head.weight`; all of that loads.

A folder is treated as hostile until checked: `config.json` is read with a size and nesting
limit (`shared.checkpoint.load_json`); every size in it must be an integer within `LIMITS` and
every float finite; the parameter count it implies must fit the bytes `model.safetensors`
really holds (at least 2 bytes a parameter, F16) and the memory this machine has, all before
the model is built; the weights must be finite. So a 19 KB folder whose config says
`n_layer: 3000000` is one clear error, not 14 GB of zeros.
Not here: other architectures (another activation, an untied head, ...), which are refused.
"""

from __future__ import annotations

import json
import os
from dataclasses import fields
from pathlib import Path

import numpy as np

from shared.checkpoint import CheckpointError as FileError
from shared.checkpoint import load_json
from shared.checks import check_memory

from .device import to_numpy
from .model import GPT, CheckpointError, GPTConfig
from .safetensors_io import SafetensorsError, _parse_header, read_safetensors, write_safetensors

__all__ = ["LIMITS", "config_from_hf", "config_to_hf", "from_pretrained", "parameter_count", "save_pretrained"]

# Far above GPT-2 XL (48 layers, 1600 wide, 50257 tokens, 1024 positions), far below what breaks a machine.
LIMITS = {"vocab_size": 1 << 20, "n_positions": 1 << 16, "n_embd": 1 << 15, "n_layer": 1024, "n_head": 1024}
MAX_CONFIG_BYTES = 1 << 20


def config_to_hf(config: GPTConfig) -> dict:
    """config.json content as transformers writes it for GPT2LMHeadModel."""
    return {
        "architectures": ["GPT2LMHeadModel"],
        "model_type": "gpt2",
        "vocab_size": config.vocab_size,
        "n_positions": config.n_positions,
        "n_ctx": config.n_positions,
        "n_embd": config.n_embd,
        "n_layer": config.n_layer,
        "n_head": config.n_head,
        "n_inner": None,
        "layer_norm_epsilon": config.layer_norm_epsilon,
        "activation_function": "gelu_new",
        "resid_pdrop": config.dropout,
        "embd_pdrop": config.dropout,
        "attn_pdrop": config.dropout,
        "initializer_range": 0.02,
        "scale_attn_weights": True,
        "tie_word_embeddings": True,
        "bos_token_id": 50256,
        "eos_token_id": 50256,
        "torch_dtype": "float32",
    }


def config_from_hf(raw, source: str = "config.json") -> GPTConfig:
    """A GPTConfig from a config.json dict; refuse the variants this model does not implement and any size
    over `LIMITS` (checked here, before anything is allocated)."""
    if not isinstance(raw, dict):
        raise CheckpointError(f"{source} must hold a JSON object")
    if raw.get("model_type", "gpt2") != "gpt2":
        raise CheckpointError(f"{source} has model_type {raw.get('model_type')!r}; only 'gpt2' is supported")
    activation = raw.get("activation_function", "gelu_new")
    if activation not in ("gelu_new", "gelu_pytorch_tanh"):
        raise CheckpointError(f"activation_function {activation!r} is not GPT-2's tanh GELU ('gelu_new')")
    n_inner = raw.get("n_inner")
    if n_inner is not None and n_inner != 4 * raw.get("n_embd", 768):
        raise CheckpointError(f"n_inner={n_inner} is not 4 * n_embd; only the standard 4x MLP is supported")
    for flag, wanted in (
        ("scale_attn_weights", True),
        ("tie_word_embeddings", True),
        ("scale_attn_by_inverse_layer_idx", False),
        ("reorder_and_upcast_attn", False),
    ):
        if raw.get(flag, wanted) != wanted:
            raise CheckpointError(f"{source} sets {flag}={raw[flag]!r}; only {wanted} is supported")
    values = {f.name: raw[f.name] for f in fields(GPTConfig) if f.name in raw}
    if "n_positions" not in values and "n_ctx" in raw:
        values["n_positions"] = raw["n_ctx"]
    try:
        config = GPTConfig(**values)  # types, positivity, divisibility, finite floats
    except (TypeError, ValueError) as error:
        raise CheckpointError(f"{source}: {error}") from None
    for name, limit in LIMITS.items():
        if getattr(config, name) > limit:
            raise CheckpointError(f"{source}: {name}={getattr(config, name)} is over the limit of {limit}")
    return config


def parameter_count(config: GPTConfig) -> int:
    """Weights of GPT-2 with this config (tied head): embeddings + 12 C^2 + 13 C per block + final LayerNorm."""
    C = config.n_embd
    return (config.vocab_size + config.n_positions) * C + config.n_layer * (12 * C * C + 13 * C) + 2 * C


def save_pretrained(model: GPT, path: str | os.PathLike) -> Path:
    """Write `config.json` and `model.safetensors` (float32) as transformers does."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    (path / "config.json").write_text(json.dumps(config_to_hf(model.config), indent=2) + "\n")
    tensors = {name: to_numpy(p.data).astype(np.float32, copy=False) for name, p in model.params.items()}
    write_safetensors(path / "model.safetensors", tensors, metadata={"format": "pt"})
    return path


def from_pretrained(path: str | os.PathLike, dtype=np.float32) -> GPT:
    """Load a Hugging Face GPT-2 folder (`config.json` + `model.safetensors`), checking it first."""
    path = Path(path)
    config_file, weights_file = path / "config.json", path / "model.safetensors"
    if not path.is_dir():
        raise CheckpointError(f"{path} is not a folder (expected config.json + model.safetensors in it)")
    for needed in (config_file, weights_file):
        if not needed.is_file():
            raise CheckpointError(f"{needed} is missing (a GPT-2 folder holds config.json + model.safetensors)")
    try:
        raw = load_json(config_file, MAX_CONFIG_BYTES)
    except FileError as error:
        raise CheckpointError(str(error)) from None
    config = config_from_hf(raw, str(config_file))
    n_params, held = parameter_count(config), weights_file.stat().st_size
    try:
        with open(weights_file, "rb") as handle:
            _parse_header(weights_file, held, handle)  # a malformed file says so first
    except SafetensorsError as error:
        raise CheckpointError(f"{weights_file}: {error}") from None
    if 2 * n_params > held:
        raise CheckpointError(
            f"{config_file} describes {n_params:,} parameters (at least {2 * n_params:,} bytes), but "
            f"{weights_file} holds only {held:,} bytes"
        )
    check_memory(2 * n_params * np.dtype(dtype).itemsize, f"the model of {config_file} ({n_params:,} parameters)")
    model = GPT(config, seed=0, dtype=dtype, init=False)
    expected = {name: p.data.shape for name, p in model.params.items()}
    try:
        tensors = read_safetensors(weights_file, expected_shapes=_shape_lookup(expected))
    except SafetensorsError as error:
        raise CheckpointError(f"{weights_file}: {error}") from None
    loaded = {}
    for key, array in tensors.items():
        name = key if key.startswith(("transformer.", "lm_head.")) else "transformer." + key
        if name.endswith((".attn.bias", ".attn.masked_bias")):
            continue  # GPT-2's causal-mask buffers, not parameters
        if name == "lm_head.weight":
            continue  # tied to wte; _shape_lookup already checked its shape
        if name not in expected:
            raise CheckpointError(f"{weights_file}: unexpected tensor {key!r} for this config")
        loaded[name] = array
    missing = sorted(set(expected) - set(loaded))
    if missing:
        raise CheckpointError(f"{weights_file}: missing tensors {missing[:5]}{' ...' if len(missing) > 5 else ''}")
    for name, array in loaded.items():
        if not np.isfinite(array).all():
            raise CheckpointError(f"{weights_file}: tensor {name!r} holds NaN or infinity")
        model.params[name].data = np.ascontiguousarray(array, dtype=model.dtype)
    return model


def _shape_lookup(expected: dict[str, tuple]):
    """Expected shape for a stored key (with or without `transformer.`), or None to skip the check."""

    def lookup(key: str):
        name = key if key.startswith(("transformer.", "lm_head.")) else "transformer." + key
        if name == "lm_head.weight":
            return expected["transformer.wte.weight"]
        return expected.get(name)

    return lookup
