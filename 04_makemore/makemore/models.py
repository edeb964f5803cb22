"""The neural language models of lectures 2-5 and makemore.py, built from `layers`.

    mlp        Bengio et al. 2003 as in lecture 2: C (27, 10), context 3, 200 tanh units, N(0, 1) init
    mlp-bn     lecture 3: the same net with Kaiming-style init, a small output layer, BatchNorm1d
    mlp-deep   lecture 3's 5-hidden-layer net (100 units, BatchNorm), used for the diagnostics plots
    wavenet    lecture 5: context 8 fused two at a time (van den Oord et al. 2016, fig. 3), 76,579 params
    rnn, gru   makemore.py's recurrent nets over whole names, backpropagation through time by hand

A `ContextLM` predicts the next character from the previous `block_size` ones: input (B, block)
ints, logits (B, 27). A `RecurrentLM` reads whole padded names: input (B, T), logits (B, T, 27).
Both follow the layers' contract (see layers.py): `model(X)` is `forward`, `backward`
accumulates into `gradients()` (call `zero_grad()` first), parameters/gradients/buffers by
name, and train/eval. This file imports only NumPy and its own folder.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

import numpy as np

from .data import VOCAB_SIZE
from .layers import (
    BatchNorm1d,
    Embedding,
    FlattenConsecutive,
    GRUCell,
    Linear,
    RNNCell,
    Sequential,
    Tanh,
    cross_entropy,
    make_rng,
)

__all__ = ["DEFAULTS", "MODELS", "ContextLM", "ModelConfig", "RecurrentLM", "build_model", "count_parameters"]


@dataclass(frozen=True)
class ModelConfig:
    """What a model is: its kind and sizes. Saved in every checkpoint."""

    model: str
    block_size: int  # context length (window models) or sequence length (recurrent models)
    n_embd: int  # embedding dimension
    n_hidden: int  # hidden units per layer (hidden state size for rnn/gru)
    vocab_size: int = VOCAB_SIZE

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> ModelConfig:
        return cls(**json.loads(text))


MODELS = ("mlp", "mlp-bn", "mlp-deep", "wavenet", "rnn", "gru")
DEFAULTS = {
    "mlp": ModelConfig("mlp", block_size=3, n_embd=10, n_hidden=200),
    "mlp-bn": ModelConfig("mlp-bn", block_size=3, n_embd=10, n_hidden=200),
    "mlp-deep": ModelConfig("mlp-deep", block_size=3, n_embd=10, n_hidden=100),
    "wavenet": ModelConfig("wavenet", block_size=8, n_embd=24, n_hidden=128),
    "rnn": ModelConfig("rnn", block_size=16, n_embd=64, n_hidden=64),
    "gru": ModelConfig("gru", block_size=16, n_embd=64, n_hidden=64),
}


def count_parameters(model) -> int:
    return sum(p.size for p in model.parameters().values())


class _Model:
    """Name-based access to parameters, gradients and buffers, plus train/eval."""

    recurrent = False

    def __init__(self, config: ModelConfig):
        self.config = config

    def _parts(self) -> dict:
        raise NotImplementedError

    def _collect(self, what):
        out = {}
        for prefix, part in self._parts().items():
            if isinstance(part, np.ndarray):
                if what == "parameters":
                    out[prefix] = part
                elif what == "gradients":
                    out[prefix] = getattr(self, "d" + prefix)
                continue
            for key, value in getattr(part, what)().items():
                out[f"{prefix}.{key}"] = value
        return out

    def parameters(self) -> dict[str, np.ndarray]:
        return self._collect("parameters")

    def gradients(self) -> dict[str, np.ndarray]:
        return self._collect("gradients")

    def buffers(self) -> dict[str, np.ndarray]:
        return self._collect("buffers")

    def zero_grad(self) -> None:
        for grad in self.gradients().values():
            grad.fill(0.0)

    def __call__(self, X: np.ndarray) -> np.ndarray:
        return self.forward(X)

    def train(self, mode: bool = True):
        self.training = mode
        for part in self._parts().values():
            if not isinstance(part, np.ndarray):
                part.train(mode)
        return self

    def eval(self):
        return self.train(False)

    def loss(self, X: np.ndarray, Y: np.ndarray) -> tuple[float, np.ndarray]:
        """Forward and the mean cross-entropy; returns (loss, dlogits) for `backward`."""
        logits = self.forward(X)
        V = logits.shape[-1]
        return cross_entropy(logits.reshape(-1, V), Y.reshape(-1), ignore_index=-1 if self.recurrent else None)

    def check_input(self, X: np.ndarray) -> None:
        if X.ndim != 2 or not np.issubdtype(X.dtype, np.integer):
            raise ValueError(f"{self.config.model} expects an integer array (B, T), got {X.dtype} {X.shape}")


class ContextLM(_Model):
    """Next character from a fixed window of the previous `block_size` characters."""

    def __init__(self, config: ModelConfig, net: Sequential):
        super().__init__(config)
        self.net = net

    def _parts(self):
        return {"net": self.net}

    def forward(self, X: np.ndarray) -> np.ndarray:
        if X.ndim != 2 or X.shape[1] != self.config.block_size:
            raise ValueError(f"{self.config.model} expects contexts (B, {self.config.block_size}), got shape {X.shape}")
        return self.net(X)  # (B, V)

    def backward(self, dlogits: np.ndarray) -> None:
        self.net.backward(dlogits.reshape(-1, self.config.vocab_size))


class RecurrentLM(_Model):
    """makemore.py's RNN: a learned start state, a cell applied left to right, a linear head per step."""

    recurrent = True

    def __init__(self, config: ModelConfig, rng=None, dtype=np.float32):
        super().__init__(config)
        rng = make_rng(rng)
        cell_type = {"rnn": RNNCell, "gru": GRUCell}[config.model]
        self.start = np.zeros((1, config.n_hidden), dtype)  # h_0, a parameter
        self.dstart = np.zeros_like(self.start)
        self.wte = Embedding(config.vocab_size, config.n_embd, rng=rng, dtype=dtype)
        self.cell = cell_type(config.n_embd, config.n_hidden, rng=rng, dtype=dtype)
        self.lm_head = Linear(config.n_hidden, config.vocab_size, rng=rng, dtype=dtype)

    def _parts(self):
        return {"start": self.start, "wte": self.wte, "cell": self.cell, "lm_head": self.lm_head}

    def forward(self, X: np.ndarray) -> np.ndarray:
        self.check_input(X)
        B, T = self.cell_input_shape = X.shape
        emb = self.wte(X)  # (B, T, E)
        h = np.broadcast_to(self.start, (B, self.config.n_hidden))  # (B, H)
        self.cell.reset()
        hiddens = np.empty((B, T, self.config.n_hidden), self.start.dtype)  # (B, T, H)
        for t in range(T):  # a loop over time steps, never over the batch
            h = self.cell(emb[:, t], h)
            hiddens[:, t] = h
        return self.lm_head(hiddens)  # (B, T, V)

    def backward(self, dlogits: np.ndarray) -> None:
        B, T = self.cell_input_shape
        dhiddens = self.lm_head.backward(dlogits.reshape(B, T, -1))  # (B, T, H)
        demb = np.empty((B, T, self.config.n_embd), self.start.dtype)  # (B, T, E)
        # exercise: backprop_through_time: run the cell backward from T-1 to 0, then dstart (README 7.)
        dh = np.zeros((B, self.config.n_hidden), self.start.dtype)  # gradient arriving from step t+1
        for t in reversed(range(T)):  # backpropagation through time
            dx, dh = self.cell.backward(dhiddens[:, t] + dh)
            demb[:, t] = dx
        self.dstart += dh.sum(axis=0, keepdims=True)  # h_0 was broadcast over the batch
        # end exercise
        self.wte.backward(demb)

    def step(self, x_t: np.ndarray, h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One step of generation: (logits (B, V), new hidden state (B, H)); keeps no caches."""
        emb = self.wte.weight[x_t]
        h = self.cell(emb, h)
        self.cell.cache.clear()
        return h @ self.lm_head.weight + self.lm_head.bias, h


def _mlp_lecture2(c: ModelConfig, rng, dtype) -> Sequential:
    # Lecture 2 initializes everything from N(0, 1): large logits at first (initial loss ~ 20+).
    return Sequential(
        [
            Embedding(c.vocab_size, c.n_embd, rng=rng, dtype=dtype),
            FlattenConsecutive(c.block_size),  # (B, block, E) -> (B, block*E), the concatenation in Bengio's eq. 1
            Linear(c.block_size * c.n_embd, c.n_hidden, rng=rng, dtype=dtype, weight_scale=1.0, bias_scale=1.0),
            Tanh(),
            Linear(c.n_hidden, c.vocab_size, rng=rng, dtype=dtype, weight_scale=1.0, bias_scale=1.0),
        ]
    )


def _mlp_batchnorm(c: ModelConfig, rng, dtype) -> Sequential:
    # Lecture 3: Kaiming init with tanh's gain 5/3 (He et al. 2015) keeps tanh out of saturation;
    # a 0.01-scaled output layer makes the initial loss ~ -log(1/27) = 3.30; BatchNorm makes the
    # hidden bias redundant. The lecture's running statistics use momentum 0.001.
    fan_in = c.block_size * c.n_embd
    return Sequential(
        [
            Embedding(c.vocab_size, c.n_embd, rng=rng, dtype=dtype),
            FlattenConsecutive(c.block_size),
            Linear(fan_in, c.n_hidden, bias=False, rng=rng, dtype=dtype, weight_scale=(5 / 3) / fan_in**0.5),
            BatchNorm1d(c.n_hidden, momentum=0.001, dtype=dtype, unbiased=True),
            Tanh(),
            Linear(c.n_hidden, c.vocab_size, rng=rng, dtype=dtype, weight_scale=0.01),
        ]
    )


def _mlp_deep(c: ModelConfig, rng, dtype, n_layers: int = 5) -> Sequential:
    # Lecture 3's last section: 5 x (Linear, BatchNorm, Tanh), then Linear + BatchNorm with gamma 0.1.
    layers = [Embedding(c.vocab_size, c.n_embd, rng=rng, dtype=dtype), FlattenConsecutive(c.block_size)]
    width = c.block_size * c.n_embd
    for _ in range(n_layers):
        layers += [
            Linear(width, c.n_hidden, bias=False, rng=rng, dtype=dtype, weight_scale=(5 / 3) / width**0.5),
            BatchNorm1d(c.n_hidden, dtype=dtype, unbiased=True),
            Tanh(),
        ]
        width = c.n_hidden
    head = Linear(width, c.vocab_size, bias=False, rng=rng, dtype=dtype)
    layers += [head, BatchNorm1d(c.vocab_size, dtype=dtype, unbiased=True)]
    layers[-1].gamma *= 0.1  # less confident at init
    return Sequential(layers)


def _wavenet(c: ModelConfig, rng, dtype) -> Sequential:
    # Lecture 5: fuse 2 characters, then 2 bigrams, then 2 four-grams (a dilated causal tree).
    levels = int(np.log2(c.block_size))
    if 2**levels != c.block_size:
        raise ValueError(f"wavenet needs a power-of-two block size, got {c.block_size}")
    layers = [Embedding(c.vocab_size, c.n_embd, rng=rng, dtype=dtype)]
    width = c.n_embd
    for _ in range(levels):
        layers += [
            FlattenConsecutive(2),  # (B, T, C) -> (B, T/2, 2C)
            Linear(2 * width, c.n_hidden, bias=False, rng=rng, dtype=dtype),
            BatchNorm1d(c.n_hidden, dtype=dtype, unbiased=True),  # lecture 5's BatchNorm1d: torch's x.var
            Tanh(),
        ]
        width = c.n_hidden
    head = Linear(width, c.vocab_size, rng=rng, dtype=dtype)
    head.weight *= 0.1  # last layer less confident at init
    return Sequential([*layers, head])


_BUILDERS = {"mlp": _mlp_lecture2, "mlp-bn": _mlp_batchnorm, "mlp-deep": _mlp_deep, "wavenet": _wavenet}


def build_model(config: ModelConfig | str, rng=None, dtype=np.float32):
    """A freshly initialized model for `config` (or the default config of a model name)."""
    if isinstance(config, str):
        if config not in DEFAULTS:
            raise ValueError(f"unknown model {config!r}; choose one of {', '.join(MODELS)}")
        config = DEFAULTS[config]
    if config.model not in MODELS:
        raise ValueError(f"unknown model {config.model!r}; choose one of {', '.join(MODELS)}")
    for field in ("block_size", "n_embd", "n_hidden", "vocab_size"):
        if getattr(config, field) < 1:
            raise ValueError(f"{field} must be >= 1, got {getattr(config, field)}")
    rng = make_rng(rng)
    if config.model in ("rnn", "gru"):
        return RecurrentLM(config, rng=rng, dtype=dtype)
    return ContextLM(config, _BUILDERS[config.model](config, rng, dtype))
