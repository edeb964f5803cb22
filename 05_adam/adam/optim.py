"""First-order optimizers: SGD (+momentum/Nesterov), AdaGrad, RMSProp, AdaDelta, Adam, AdamW, AdaMax.

The contract (the optimizers' half of the layer contract in nn.py, which is 02_mlp's):

- a parameter is any object with `.data` and `.grad`, NumPy float arrays of one shape (`nn.Parameter`);
  the layers' `backward` ADDS into `.grad`, so call `zero_grad()` before each backward pass;
- `opt = Adam(params, lr=1e-3)`; `opt.step()` reads every `.grad` and updates `.data` in place;
  `opt.zero_grad()` zeroes every `.grad` in place; `state_dict()` / `load_state_dict()` save and restore;
- every algorithm is written twice. `<name>_update(...)` (e.g. `adam_update`) is the paper's algorithm line
  for line, on new arrays, to be read next to the paper; the class's `_update` does the same arithmetic in
  place through scratch buffers, for speed, and is what training uses. tests/test_optim.py ties each pair
  (`test_*_class_equals_*`): same numbers, to float64 rounding, over many steps.

    opt = Adam(params, lr=1e-3)
    loss.backward(); opt.step(); opt.zero_grad()

Class names, argument names, defaults and update formulas follow `torch.optim` (checked to 1e-10 over
200 steps in float64 by tests/test_parity_optim.py), so a learner can read this file next to PyTorch's.
Two additions exist for the Adam paper's experiments: `Adam(bias_correction=False)` (Section 6.4) and
`Adam(efficient=True)`, the reordering at the end of Section 2 that folds both bias corrections into the
step size and adds epsilon-hat to sqrt(v).

Why two versions: the in-place step allocates its state once, on the first step, and each step works
through a few scratch buffers that the optimizer keeps (one set per dtype, sized for the largest parameter
and shared by all parameters), so a step builds no full-size temporaries. That is why `_update` reads as a
chain of `np.multiply(a, b, out=s)` calls instead of one formula per line, and why the formula version
sits beside it.

What it does not do: parameter groups (one set of hyperparameters for all parameters), sparse or complex
gradients, `maximize`, closures. Parameters whose `.grad` is None are skipped, as in PyTorch. The readable
`*_update` functions cover each paper's plain algorithm, without weight decay or PyTorch's extra options.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import numpy as np

__all__ = [
    "OPTIMIZERS",
    "SGD",
    "Adadelta",
    "Adagrad",
    "Adam",
    "AdamW",
    "Adamax",
    "Optimizer",
    "RMSprop",
    "adadelta_update",
    "adagrad_update",
    "adam_update",
    "adamax_update",
    "rmsprop_update",
    "sgd_momentum_update",
]


def _nonnegative(owner: str, name: str, value) -> float:
    value = _number(owner, name, value)
    if not value >= 0.0:  # also catches NaN
        raise ValueError(f"{owner}: {name} must be >= 0, got {value}")
    return value


def _number(owner: str, name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{owner}: {name} must be a number, got {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"{owner}: {name} must be a finite number, got {value}")
    return float(value)


def _beta(owner: str, name: str, value, closed: bool = False) -> float:
    value = _number(owner, name, value)
    if not (0.0 <= value <= 1.0 if closed else 0.0 <= value < 1.0):
        raise ValueError(f"{owner}: {name} must be in [0, 1{']' if closed else ')'}, got {value}")
    return value


def _validate_betas_eps_decay(optimizer) -> None:
    """The checks Adam, AdamW and Adamax share: betas a pair in [0, 1), eps >= 0, weight_decay >= 0."""
    name = type(optimizer).__name__
    betas = optimizer.betas
    if not isinstance(betas, (tuple, list, np.ndarray)) or len(betas) != 2:
        raise ValueError(f"{name}: betas must be a pair (beta1, beta2), got {betas!r}")
    optimizer.betas = (_beta(name, "betas[0]", betas[0]), _beta(name, "betas[1]", betas[1]))
    optimizer.eps = _nonnegative(name, "eps", optimizer.eps)
    optimizer.weight_decay = _nonnegative(name, "weight_decay", optimizer.weight_decay)


class Optimizer:
    """Base class: parameter bookkeeping, scratch buffers, zero_grad and the state dict.

    Subclasses list their hyperparameters in `hyperparameters`, check them in `_validate`, name the
    per-parameter state arrays in `_init_state` and write one parameter's update in `_update`.
    """

    hyperparameters: tuple[str, ...] = ("lr",)
    scratch_buffers = 1  # how many parameter-sized scratch arrays one `_update` uses

    def __init__(self, params: Iterable, **hyper):
        self.params = self._check_params(params)
        for name, value in hyper.items():
            setattr(self, name, value)
        self._validate()
        self.state: list[dict] = [{} for _ in self.params]  # per parameter: "step" and moment arrays
        self._scratch: dict[np.dtype, list[np.ndarray]] = {}

    # ----------------------------------------------------------------- set up
    def _check_params(self, params) -> list:
        name = type(self).__name__
        if isinstance(params, np.ndarray):
            raise ValueError(f"{name}: params must be an iterable of parameters with .data and .grad, not an array")
        params = list(params)
        if not params:
            raise ValueError(f"{name}: got an empty parameter list")
        for index, param in enumerate(params):
            data = getattr(param, "data", None)
            if not isinstance(data, np.ndarray) or not hasattr(param, "grad"):
                raise ValueError(f"{name}: params[{index}] needs a NumPy array .data and a .grad attribute")
            if not np.issubdtype(data.dtype, np.floating):
                raise ValueError(f"{name}: params[{index}].data must be floating point, got {data.dtype}")
        if len({id(param) for param in params}) != len(params):
            raise ValueError(f"{name}: the same parameter appears more than once in params")
        return params

    def _validate(self) -> None:
        self.lr = _nonnegative(type(self).__name__, "lr", self.lr)

    def _init_state(self, data: np.ndarray) -> dict:
        return {}

    def _buffers(self, data: np.ndarray) -> list[np.ndarray]:
        """`scratch_buffers` scratch arrays shaped like `data`: views into buffers shared by all parameters."""
        pool = self._scratch.get(data.dtype)
        if pool is None or pool[0].size < data.size:
            size = max(param.data.size for param in self.params if param.data.dtype == data.dtype)
            pool = [np.empty(size, dtype=data.dtype) for _ in range(self.scratch_buffers)]
            self._scratch[data.dtype] = pool
        return [buffer[: data.size].reshape(data.shape) for buffer in pool]

    # ----------------------------------------------------------------- the loop
    def step(self) -> None:
        """Update every parameter that has a gradient, in place."""
        for index, param in enumerate(self.params):
            grad = param.grad
            if grad is None:
                continue
            if not isinstance(grad, np.ndarray) or grad.shape != param.data.shape:
                shape = getattr(grad, "shape", type(grad).__name__)
                raise ValueError(
                    f"{type(self).__name__}: params[{index}].grad has shape {shape}, data has {param.data.shape}"
                )
            state = self.state[index]
            if not state:
                state.update(step=0, **self._init_state(param.data))
            state["step"] += 1
            self._update(param.data, grad, state, *self._buffers(param.data))

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict, *scratch: np.ndarray) -> None:
        raise NotImplementedError

    def zero_grad(self) -> None:
        """Set every gradient to zero, in place (the arrays are kept)."""
        for param in self.params:
            if param.grad is not None:
                param.grad[...] = 0

    def _decayed(self, p: np.ndarray, g: np.ndarray, out: np.ndarray) -> np.ndarray:
        """g + weight_decay * p (L2 regularisation folded into the gradient), in `out`; g itself if no decay."""
        if self.weight_decay == 0:
            return g
        np.multiply(p, self.weight_decay, out=out)
        out += g
        return out

    # ----------------------------------------------------------------- state dict
    def state_dict(self) -> dict:
        """Plain numbers and arrays under flat string keys, so `np.savez(path, **opt.state_dict())` works."""
        out: dict = {"optimizer": type(self).__name__}
        for name in self.hyperparameters:
            value = getattr(self, name)
            out[f"hyper.{name}"] = np.asarray(value) if isinstance(value, tuple) else value
        for index, state in enumerate(self.state):
            for key, value in state.items():
                out[f"state.{index}.{key}"] = value.copy() if isinstance(value, np.ndarray) else value
        return out

    def load_state_dict(self, state_dict: Mapping) -> None:
        """Restore hyperparameters and per-parameter state (a dict from `state_dict` or a loaded `.npz`)."""
        name = type(self).__name__
        keys = set(state_dict.keys())
        saved = str(np.asarray(state_dict["optimizer"])) if "optimizer" in keys else None
        if saved != name:
            raise ValueError(f"{name}.load_state_dict: the state dict is for optimizer {saved!r}")
        missing = [f"hyper.{h}" for h in self.hyperparameters if f"hyper.{h}" not in keys]
        if missing:
            raise ValueError(f"{name}.load_state_dict: missing keys {missing}")
        new_state: list[dict] = [{} for _ in self.params]
        for key in keys - {"optimizer"} - {f"hyper.{h}" for h in self.hyperparameters}:
            parts = key.split(".")
            if len(parts) != 3 or parts[0] != "state" or not parts[1].isdigit():
                raise ValueError(f"{name}.load_state_dict: unexpected key {key!r}")
            index, field = int(parts[1]), parts[2]
            if index >= len(self.params):
                raise ValueError(f"{name}.load_state_dict: state for params[{index}], but only {len(self.params)}")
            value = np.asarray(state_dict[key])
            if field == "step":
                new_state[index][field] = int(value)
                continue
            data = self.params[index].data
            if value.shape != data.shape:
                raise ValueError(
                    f"{name}.load_state_dict: {key} has shape {value.shape}, params[{index}] has {data.shape}"
                )
            new_state[index][field] = value.astype(data.dtype, copy=True)
        saved_hyper = {hyper: getattr(self, hyper) for hyper in self.hyperparameters}
        try:
            for hyper in self.hyperparameters:
                value = np.asarray(state_dict[f"hyper.{hyper}"])
                setattr(self, hyper, tuple(float(v) for v in value) if value.ndim == 1 else value.item())
            self._validate()
            for index, state in enumerate(new_state):
                expected = set(self._init_state(np.empty(0))) | {"step"} if state else set()
                if set(state) != expected:
                    raise ValueError(
                        f"{name}.load_state_dict: params[{index}] state has {sorted(state)}, "
                        f"expected {sorted(expected)}"
                    )
        except Exception:
            for hyper, value in saved_hyper.items():  # leave the optimizer as it was
                setattr(self, hyper, value)
            raise
        self.state = new_state

    def __repr__(self) -> str:
        hyper = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.hyperparameters)
        return f"{type(self).__name__}({len(self.params)} params, {hyper})"


def sgd_momentum_update(theta, g, b, lr, momentum=0.9, nesterov=False):
    """One step of SGD with momentum, as torch.optim.SGD writes it (Sutskever et al., 2013, for Nesterov).

    theta: parameters, g: gradient, b: momentum buffer (zeros before the first step). Returns (theta, b).
    """
    # exercise: sgd_momentum: velocity b, then the step (Nesterov looks ahead); README "Relation to the others"
    b = momentum * b + g  # the velocity: a running sum of gradients, decayed by momentum
    step = g + momentum * b if nesterov else b  # Nesterov: the gradient plus where the velocity goes next
    theta = theta - lr * step
    # end exercise
    return theta, b


class SGD(Optimizer):
    """Stochastic gradient descent with optional (Nesterov) momentum, as in torch.optim.SGD.

        g <- g + weight_decay * p
        b <- g                                (first step)
        b <- momentum * b + (1 - dampening) * g
        g <- g + momentum * b   (Nesterov)   or   g <- b
        p <- p - lr * g

    This is Sutskever et al. (2013)'s formulation of Nesterov momentum, the one the Adam paper compares with.
    `sgd_momentum_update` is the same step written as the formula; `_update` is the in-place one training uses.
    """

    hyperparameters = ("lr", "momentum", "dampening", "nesterov", "weight_decay")
    scratch_buffers = 2

    def __init__(self, params, lr: float = 1e-3, momentum: float = 0.0, dampening: float = 0.0,
                 nesterov: bool = False, weight_decay: float = 0.0):  # fmt: skip
        super().__init__(params, lr=lr, momentum=momentum, dampening=dampening, nesterov=nesterov,
                         weight_decay=weight_decay)  # fmt: skip

    def _validate(self) -> None:
        super()._validate()
        self.momentum = _nonnegative("SGD", "momentum", self.momentum)
        self.dampening = _number("SGD", "dampening", self.dampening)
        self.weight_decay = _nonnegative("SGD", "weight_decay", self.weight_decay)
        self.nesterov = bool(self.nesterov)
        if self.nesterov and (self.momentum <= 0 or self.dampening != 0):
            raise ValueError("SGD: nesterov=True requires momentum > 0 and dampening = 0")

    def _init_state(self, data):
        return {"momentum_buffer": np.zeros_like(data)} if self.momentum != 0 else {}

    def _update(self, p, g, state, s0, s1):
        g = self._decayed(p, g, s0)
        if self.momentum != 0:
            buf = state["momentum_buffer"]
            if state["step"] == 1:
                buf[...] = g  # PyTorch starts the buffer at the first gradient, undamped
            else:
                buf *= self.momentum
                if self.dampening == 0:
                    buf += g
                else:
                    np.multiply(g, 1 - self.dampening, out=s1)
                    buf += s1
            if self.nesterov:
                np.multiply(buf, self.momentum, out=s1)  # look ahead along the velocity
                s1 += g
                g = s1
            else:
                g = buf
        np.multiply(g, self.lr, out=s1)
        p -= s1


def adagrad_update(theta, g, G, lr, eps=1e-10):
    """One step of AdaGrad (Duchi et al., 2011): each coordinate's step shrinks with its summed squared gradients.

    G: the sum of all past squared gradients (zeros before the first step). Returns (theta, G).
    """
    # exercise: adagrad: sum g^2, divide each coordinate's step by its root; README "Relation to the others"
    G = G + g**2
    theta = theta - lr * g / (np.sqrt(G) + eps)
    # end exercise
    return theta, G


class Adagrad(Optimizer):
    """AdaGrad (Duchi et al., 2011): per-coordinate step lr / sqrt(sum of all squared gradients).

    clr <- lr / (1 + (t - 1) * lr_decay)
    G   <- G + g^2                       (G starts at initial_accumulator_value)
    p   <- p - clr * g / (sqrt(G) + eps)

    `adagrad_update` is the same step written as the formula; `_update` is the in-place one training uses.
    """

    hyperparameters = ("lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps")
    scratch_buffers = 2

    def __init__(self, params, lr: float = 1e-2, lr_decay: float = 0.0, weight_decay: float = 0.0,
                 initial_accumulator_value: float = 0.0, eps: float = 1e-10):  # fmt: skip
        super().__init__(params, lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                         initial_accumulator_value=initial_accumulator_value, eps=eps)  # fmt: skip

    def _validate(self) -> None:
        super()._validate()
        for name in ("lr_decay", "weight_decay", "initial_accumulator_value", "eps"):
            setattr(self, name, _nonnegative("Adagrad", name, getattr(self, name)))

    def _init_state(self, data):
        return {"sum": np.full_like(data, self.initial_accumulator_value)}

    def _update(self, p, g, state, s0, s1):
        g = self._decayed(p, g, s0)
        clr = self.lr / (1 + (state["step"] - 1) * self.lr_decay)
        total = state["sum"]
        np.multiply(g, g, out=s1)  # G += g^2
        total += s1
        np.sqrt(total, out=s1)  # s1 = sqrt(G) + eps
        s1 += self.eps
        np.divide(g, s1, out=s1)
        s1 *= clr
        p -= s1


def rmsprop_update(theta, g, v, lr, alpha=0.99, eps=1e-8):
    """One step of RMSProp (Tieleman & Hinton, 2012): AdaGrad with a decaying average instead of a sum.

    v: the running average of squared gradients (zeros before the first step). Returns (theta, v).
    """
    # exercise: rmsprop: a decaying average of g^2 divides the step; README "Relation to the others"
    v = alpha * v + (1 - alpha) * g**2
    theta = theta - lr * g / (np.sqrt(v) + eps)
    # end exercise
    return theta, v


class RMSprop(Optimizer):
    """RMSProp (Tieleman & Hinton, 2012), with PyTorch's centered and momentum variants.

    v <- alpha * v + (1 - alpha) * g^2
    centered:  m <- alpha * m + (1 - alpha) * g;   d = sqrt(v - m^2) + eps   else d = sqrt(v) + eps
    momentum:  b <- momentum * b + g / d;   p <- p - lr * b          else p <- p - lr * g / d

    `rmsprop_update` is the plain step written as the formula; `_update` is the in-place one training uses.
    """

    hyperparameters = ("lr", "alpha", "eps", "weight_decay", "momentum", "centered")
    scratch_buffers = 2

    def __init__(self, params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8, weight_decay: float = 0.0,
                 momentum: float = 0.0, centered: bool = False):  # fmt: skip
        super().__init__(params, lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                         centered=centered)  # fmt: skip

    def _validate(self) -> None:
        super()._validate()
        self.alpha = _beta("RMSprop", "alpha", self.alpha, closed=True)
        for name in ("eps", "weight_decay", "momentum"):
            setattr(self, name, _nonnegative("RMSprop", name, getattr(self, name)))
        self.centered = bool(self.centered)

    def _init_state(self, data):
        state = {"square_avg": np.zeros_like(data)}
        if self.momentum > 0:
            state["momentum_buffer"] = np.zeros_like(data)
        if self.centered:
            state["grad_avg"] = np.zeros_like(data)
        return state

    def _update(self, p, g, state, s0, s1):
        g = self._decayed(p, g, s0)
        a = self.alpha
        v = state["square_avg"]
        v *= a  # v <- a v + (1 - a) g^2
        np.multiply(g, g, out=s1)
        s1 *= 1 - a
        v += s1
        if self.centered:
            m = state["grad_avg"]
            np.subtract(g, m, out=s1)  # m <- m + (1 - a)(g - m), the running mean of g
            s1 *= 1 - a
            m += s1
            np.multiply(m, m, out=s1)  # d <- sqrt(v - m^2): an estimate of the gradient's std
            np.subtract(v, s1, out=s1)
            np.sqrt(s1, out=s1)
        else:
            np.sqrt(v, out=s1)
        s1 += self.eps
        np.divide(g, s1, out=s1)
        if self.momentum > 0:
            buf = state["momentum_buffer"]
            buf *= self.momentum
            buf += s1
            np.multiply(buf, self.lr, out=s1)
        else:
            s1 *= self.lr
        p -= s1


def adadelta_update(theta, g, v, u, lr=1.0, rho=0.9, eps=1e-6):
    """One step of AdaDelta (Zeiler, 2012, Algorithm 1), with PyTorch's extra step size lr (1 in the paper).

    v: running average of g^2, u: running average of squared updates (both zeros at first). Returns (theta, v, u).
    """
    v = rho * v + (1 - rho) * g**2  # accumulate gradient
    dx = np.sqrt(u + eps) / np.sqrt(v + eps) * g  # compute update: RMS of past updates / RMS of gradients
    u = rho * u + (1 - rho) * dx**2  # accumulate updates
    theta = theta - lr * dx
    return theta, v, u


class Adadelta(Optimizer):
    """AdaDelta (Zeiler, 2012): the step is rescaled by a running RMS of past updates.

    v  <- rho * v + (1 - rho) * g^2
    dx <- sqrt(u + eps) / sqrt(v + eps) * g
    u  <- rho * u + (1 - rho) * dx^2
    p  <- p - lr * dx

    `adadelta_update` is the same step written as the formula; `_update` is the in-place one training uses.
    """

    hyperparameters = ("lr", "rho", "eps", "weight_decay")
    scratch_buffers = 3

    def __init__(self, params, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6, weight_decay: float = 0.0):
        super().__init__(params, lr=lr, rho=rho, eps=eps, weight_decay=weight_decay)

    def _validate(self) -> None:
        super()._validate()
        self.rho = _beta("Adadelta", "rho", self.rho, closed=True)
        self.eps = _nonnegative("Adadelta", "eps", self.eps)
        self.weight_decay = _nonnegative("Adadelta", "weight_decay", self.weight_decay)

    def _init_state(self, data):
        return {"square_avg": np.zeros_like(data), "acc_delta": np.zeros_like(data)}

    def _update(self, p, g, state, s0, s1, s2):
        g = self._decayed(p, g, s0)
        rho = self.rho
        v, u = state["square_avg"], state["acc_delta"]
        v *= rho
        np.multiply(g, g, out=s1)
        s1 *= 1 - rho
        v += s1
        np.add(v, self.eps, out=s1)  # s1 = sqrt(v + eps): RMS of gradients
        np.sqrt(s1, out=s1)
        np.add(u, self.eps, out=s2)  # s2 = sqrt(u + eps): RMS of past updates
        np.sqrt(s2, out=s2)
        s2 /= s1
        s2 *= g  # s2 = dx
        u *= rho
        np.multiply(s2, s2, out=s1)
        s1 *= 1 - rho
        u += s1
        s2 *= self.lr
        p -= s2


def adam_update(theta, g, m, v, t, alpha=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    """One step of Adam, Kingma & Ba (2014), Algorithm 1, line for line.

    theta: parameters, g: the gradient g_t, m and v: the moment estimates m_{t-1} and v_{t-1} (zeros before
    the first step), t: the step number, counted from 1. Returns (theta_t, m_t, v_t) as new arrays.
    """
    # exercise: adam_moments: the biased first and second raw moment estimates; README "The idea"
    m = beta1 * m + (1 - beta1) * g  # update biased first moment estimate
    v = beta2 * v + (1 - beta2) * g**2  # update biased second raw moment estimate
    # end exercise
    # exercise: adam_bias_correction: undo the zero start of m and v, then step; README "Why bias correction"
    m_hat = m / (1 - beta1**t)  # compute bias-corrected first moment estimate
    v_hat = v / (1 - beta2**t)  # compute bias-corrected second raw moment estimate
    theta = theta - alpha * m_hat / (np.sqrt(v_hat) + eps)  # update parameters
    # end exercise
    return theta, m, v


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2014, Algorithm 1), with AMSGrad (Reddi et al., 2018) as an option.

        m  <- beta1 * m + (1 - beta1) * g          biased first moment estimate
        v  <- beta2 * v + (1 - beta2) * g^2        biased second raw moment estimate
        m^ =  m / (1 - beta1^t)                    bias-corrected (Section 3)
        v^ =  v / (1 - beta2^t)
        p  <- p - lr * m^ / (sqrt(v^) + eps)

    amsgrad=True divides by the running maximum of v instead of v. efficient=True is the reordering at the
    end of Section 2: lr_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t) and p <- p - lr_t * m / (sqrt(v) + eps),
    where eps is then the paper's epsilon-hat (it sits outside the bias correction, so it is effectively
    eps / sqrt(1 - beta2^t) in the form above). bias_correction=False drops both corrections (Section 6.4).

    `adam_update` is Algorithm 1 line for line, on new arrays; `_update` below is the same arithmetic in place
    through two scratch buffers (what training uses), reordered to save passes over memory, so it no longer
    reads as the algorithm. tests/test_optim.py::test_adam_class_equals_algorithm_1 ties the two.
    """

    hyperparameters = ("lr", "betas", "eps", "weight_decay", "amsgrad", "efficient", "bias_correction")
    scratch_buffers = 2
    decoupled_weight_decay = False

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, amsgrad: bool = False, efficient: bool = False,
                 bias_correction: bool = True):  # fmt: skip
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                         efficient=efficient, bias_correction=bias_correction)  # fmt: skip

    def _validate(self) -> None:
        super()._validate()
        _validate_betas_eps_decay(self)
        self.amsgrad, self.efficient, self.bias_correction = (
            bool(self.amsgrad), bool(self.efficient), bool(self.bias_correction))  # fmt: skip

    def _init_state(self, data):
        state = {"exp_avg": np.zeros_like(data), "exp_avg_sq": np.zeros_like(data)}
        if self.amsgrad:
            state["max_exp_avg_sq"] = np.zeros_like(data)
        return state

    def _update(self, p, g, state, s0, s1):
        beta1, beta2 = self.betas
        t = state["step"]
        if self.decoupled_weight_decay:
            if self.weight_decay != 0:
                p *= 1 - self.lr * self.weight_decay  # AdamW: decay the weights, not the gradient
        else:
            g = self._decayed(p, g, s0)
        m, v = state["exp_avg"], state["exp_avg_sq"]
        np.subtract(g, m, out=s1)  # m <- m + (1 - beta1)(g - m)  ==  beta1 m + (1 - beta1) g
        s1 *= 1 - beta1
        m += s1
        v *= beta2  # v <- beta2 v + (1 - beta2) g^2
        np.multiply(g, g, out=s1)
        s1 *= 1 - beta2
        v += s1
        if self.amsgrad:
            np.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
            v = state["max_exp_avg_sq"]
        correction1 = 1 - beta1**t if self.bias_correction else 1.0
        correction2 = 1 - beta2**t if self.bias_correction else 1.0
        if self.lr == 0:
            return
        # p <- p - step * m / denom, written as p <- p - m / (denom / step) to save one pass over the array
        if self.efficient:
            step = self.lr * math.sqrt(correction2) / correction1  # alpha_t, Section 2
            np.sqrt(v, out=s1)  # denom = sqrt(v) + eps_hat
            s1 += self.eps
            s1 *= 1 / step
        else:
            step = self.lr / correction1
            np.sqrt(v, out=s1)  # denom = sqrt(v / correction2) + eps
            s1 *= 1 / (math.sqrt(correction2) * step)
            s1 += self.eps / step
        np.divide(m, s1, out=s1)
        p -= s1


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter, 2019): p <- p * (1 - lr * wd) before the Adam step."""

    decoupled_weight_decay = True

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, efficient: bool = False,
                 bias_correction: bool = True):  # fmt: skip
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                         efficient=efficient, bias_correction=bias_correction)  # fmt: skip


def adamax_update(theta, g, m, u, t, alpha=2e-3, beta1=0.9, beta2=0.999, eps=0.0):
    """One step of AdaMax, Kingma & Ba (2014), Section 7.1, Algorithm 2 (eps = 0 is the paper's form).

    u: the exponentially weighted infinity norm (zeros before the first step). Returns (theta, m, u).
    PyTorch's Adamax, and ours, add eps inside the max: u = max(beta2 * u, |g| + eps).
    """
    # exercise: adamax: the infinity-norm u needs no bias correction, m still does; README "AdaMax (Section 7.1)"
    m = beta1 * m + (1 - beta1) * g  # update biased first moment estimate
    u = np.maximum(beta2 * u, np.abs(g) + eps)  # update the exponentially weighted infinity norm
    theta = theta - (alpha / (1 - beta1**t)) * m / u  # update parameters
    # end exercise
    return theta, m, u


class Adamax(Optimizer):
    """AdaMax (Kingma & Ba, 2014, Section 7.1, Algorithm 2): Adam with the infinity norm.

        m <- beta1 * m + (1 - beta1) * g
        u <- max(beta2 * u, |g| + eps)             (eps = 0 is the paper's u <- max(beta2 u, |g|))
        p <- p - lr / (1 - beta1^t) * m / u

    u needs no bias correction: it is a max, not an average started at zero (Section 7.1).
    `adamax_update` is Algorithm 2 written as the paper writes it; `_update` is the in-place one training uses.
    """

    hyperparameters = ("lr", "betas", "eps", "weight_decay")
    scratch_buffers = 2

    def __init__(self, params, lr: float = 2e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0):  # fmt: skip
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)

    def _validate(self) -> None:
        super()._validate()
        _validate_betas_eps_decay(self)

    def _init_state(self, data):
        return {"exp_avg": np.zeros_like(data), "exp_inf": np.zeros_like(data)}

    def _update(self, p, g, state, s0, s1):
        beta1, beta2 = self.betas
        g = self._decayed(p, g, s0)
        m, u = state["exp_avg"], state["exp_inf"]
        np.subtract(g, m, out=s1)
        s1 *= 1 - beta1
        m += s1
        u *= beta2
        np.abs(g, out=s1)
        s1 += self.eps
        np.maximum(u, s1, out=u)
        clr = self.lr / (1 - beta1 ** state["step"])
        np.divide(m, u, out=s1)
        s1 *= clr
        p -= s1


OPTIMIZERS = {cls.__name__: cls for cls in (SGD, Adagrad, RMSprop, Adadelta, Adam, AdamW, Adamax)}
