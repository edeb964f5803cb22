"""A scalar autograd engine: `Value`, one number that remembers how it was made.

Every arithmetic operation on `Value`s returns a new `Value` that keeps its inputs
(`_children`) and the *local derivatives* d(out)/d(child) of the operation, evaluated at
the inputs. `backward()` then walks the graph from the output back to the leaves in
reverse topological order and applies the chain rule at every node:

    child.grad += d(out)/d(child) * out.grad

`+=` rather than `=` because a value used several times (`b = a + a`) receives one
contribution per use: the multivariable chain rule sums over every path from `a` to
the output.

Storing the local derivatives (a tuple of floats) instead of a backward closure per node
is this engine's one departure from Karpathy's micrograd: for scalars the Jacobian of an
operation is just those few numbers, so backward becomes a single generic loop and the
forward pass creates no function objects. PyTorch does the same job with one backward
function per operation and tensors saved for it (`ctx.save_for_backward`).

The contract of this folder (engine.py and nn.py), after micrograd: a `Value` records its
children and local derivatives in the forward pass; `backward()` accumulates (`+=`) into the
leaves' `.grad`; a `Module` lists its `parameters()` and clears their gradients with
`zero_grad()`; the SGD update is written out in the training loop. The functions here are the
readable ones a learner finds by name. The fast versions training uses (an unrolled backward loop,
the cycle collector paused) sit beside them in `fast.py`, tied to them by equality tests.

What it does not do: tensors, higher-order derivatives (the graph of the backward pass
is not recorded), or in-place operations (`a += b` rebinds `a` to a new `Value`).
"""

from __future__ import annotations

import math
from numbers import Real

__all__ = ["Value"]


def _as_float(x) -> float:
    """A real number (int, float, NumPy scalar, ...) as a float; anything else is a TypeError."""
    if isinstance(x, Real):
        return float(x)
    if isinstance(x, Value):
        raise TypeError("Value(...) needs a number, got a Value; use it directly")
    raise TypeError(f"Value needs a real number, got {type(x).__name__}: {x!r}")


def _operand(x, op: str) -> float:
    """The number on the other side of a binary operation with a Value, as a float."""
    if type(x) is float:  # the common case, without the slower abstract-class check below
        return x
    if isinstance(x, Real):
        return float(x)
    raise TypeError(f"unsupported operand for Value {op}: {type(x).__name__} ({x!r}); use a Value or a real number")


class Value:
    """A scalar in a computation graph, with the gradient of the final output w.r.t. it.

    >>> a = Value(2.0); b = Value(-3.0)
    >>> c = a * b + 1
    >>> c.backward()
    >>> c.data, a.grad, b.grad
    (-5.0, -3.0, 2.0)
    """

    __slots__ = ("_children", "_local", "_op", "data", "grad", "label")
    __array_ufunc__ = None  # `numpy_scalar * value` defers to Value instead of building object arrays

    def __init__(self, data, _children: tuple = (), _op: str = "", _local: tuple = (), label: str = ""):
        self.data = data if type(data) is float else _as_float(data)
        self.grad = 0.0
        self._children = _children  # the Values this one was computed from
        self._local = _local  # d(self)/d(child) for each child, evaluated in the forward pass
        self._op = _op  # the operation that made it, for repr and graph drawings
        self.label = label  # an optional name, for graph drawings

    def __repr__(self) -> str:
        extra = f", op={self._op!r}" if self._op else ""
        extra += f", label={self.label!r}" if self.label else ""
        return f"Value(data={self.data:.6g}, grad={self.grad:.6g}{extra})"

    # --- binary operations: out = self (op) other --------------------------------------------------
    # A plain number on either side becomes a constant: it gets no node and no gradient.

    def __add__(self, other) -> Value:
        if isinstance(other, Value):
            return Value(self.data + other.data, (self, other), "+", (1.0, 1.0))
        return Value(self.data + _operand(other, "+"), (self,), "+", (1.0,))

    __radd__ = __add__  # 2 + v == v + 2

    def __sub__(self, other) -> Value:
        if isinstance(other, Value):
            return Value(self.data - other.data, (self, other), "-", (1.0, -1.0))
        return Value(self.data - _operand(other, "-"), (self,), "-", (1.0,))

    def __rsub__(self, other) -> Value:  # other - self
        return Value(_operand(other, "-") - self.data, (self,), "-", (-1.0,))

    def __mul__(self, other) -> Value:
        # exercise: mul_local: out = a * b with its local derivatives d(out)/da, d(out)/db (README, idea 2)
        if isinstance(other, Value):
            return Value(self.data * other.data, (self, other), "*", (other.data, self.data))
        other = _operand(other, "*")
        return Value(self.data * other, (self,), "*", (other,))
        # end exercise

    __rmul__ = __mul__  # 2 * v == v * 2

    def __truediv__(self, other) -> Value:
        # d(a/b)/da = 1/b, d(a/b)/db = -a/b^2
        if isinstance(other, Value):
            b = other.data
            if b == 0.0:
                raise ZeroDivisionError(f"division by zero: {self!r} / {other!r}")
            return Value(self.data / b, (self, other), "/", (1.0 / b, -self.data / (b * b)))
        b = _operand(other, "/")
        if b == 0.0:
            raise ZeroDivisionError(f"division by zero: {self!r} / {other!r}")
        return Value(self.data / b, (self,), "/", (1.0 / b,))

    def __rtruediv__(self, other) -> Value:  # other / self: d(c/x)/dx = -c/x^2
        c, x = _operand(other, "/"), self.data
        if x == 0.0:
            raise ZeroDivisionError(f"division by zero: {other!r} / {self!r}")
        return Value(c / x, (self,), "/", (-c / (x * x),))

    def __pow__(self, other) -> Value:
        if isinstance(other, Value):
            return self._pow_value(other)
        n = _operand(other, "**")
        x = self.data
        if x == 0.0 and n < 0:
            raise ZeroDivisionError(f"{self!r} ** {n:g}: zero to a negative power")
        out = x**n
        if isinstance(out, complex):
            raise ValueError(f"{self!r} ** {n:g} is not a real number (negative base, fractional exponent)")
        # d(x^n)/dx = n x^(n-1); unbounded at x = 0 when 0 < n < 1 (as sqrt), like PyTorch's inf
        # exercise: pow_local: local = d(x^n)/dx for a constant n, also at n = 0 and x = 0 (README, idea 2)
        if n == 0.0:
            local = 0.0
        elif x == 0.0 and n < 1.0:
            local = math.inf
        else:
            local = n * x ** (n - 1.0)
        # end exercise
        return Value(out, (self,), f"**{n:g}", (local,))

    def _pow_value(self, exponent: Value) -> Value:
        """a ** b with both Values: d/da = b a^(b-1), d/db = a^b ln a, which needs a > 0."""
        a, b = self.data, exponent.data
        if a <= 0.0:
            raise ValueError(
                f"Value ** Value needs a positive base (its exponent derivative is a^b ln a), got base {a:g}; "
                "for a constant exponent use a plain number: v ** 2"
            )
        out = a**b
        return Value(out, (self, exponent), "**", (b * a ** (b - 1.0), out * math.log(a)))

    def __rpow__(self, other) -> Value:  # c ** self, with c a positive constant
        c = _operand(other, "**")
        if c <= 0.0:
            raise ValueError(f"{c:g} ** Value needs a positive base (d(c^x)/dx = c^x ln c)")
        out = c**self.data
        return Value(out, (self,), "**", (out * math.log(c),))

    # --- unary operations --------------------------------------------------------------------------

    def __neg__(self) -> Value:
        return Value(-self.data, (self,), "neg", (-1.0,))

    def exp(self) -> Value:
        try:
            out = math.exp(self.data)
        except OverflowError:
            raise OverflowError(f"exp({self.data:g}) overflows a float (largest is about exp(709))") from None
        return Value(out, (self,), "exp", (out,))  # d(e^x)/dx = e^x

    def log(self) -> Value:
        x = self.data
        if not x > 0.0:
            raise ValueError(f"log needs a positive value, got {x:g}")
        return Value(math.log(x), (self,), "log", (1.0 / x,))  # d(ln x)/dx = 1/x

    def tanh(self) -> Value:
        # exercise: tanh_local: tanh(x) as a Value whose local derivative is written with tanh(x) (README, idea 2)
        t = math.tanh(self.data)
        return Value(t, (self,), "tanh", (1.0 - t * t,))  # d(tanh x)/dx = 1 - tanh^2 x
        # end exercise

    def relu(self) -> Value:
        x = self.data
        if x > 0.0:
            return Value(x, (self,), "ReLU", (1.0,))
        return Value(0.0, (self,), "ReLU", (0.0,))  # slope 0 at x = 0, as in micrograd and PyTorch

    def sigmoid(self) -> Value:
        x = self.data
        # sigma(x) = 1 / (1 + e^-x); written with e = exp(-|x|) <= 1 so that exp never overflows and
        # 1 - sigma keeps full precision in the tail, where it is tiny (not 1 minus a number close to 1)
        e = math.exp(-abs(x))
        if x >= 0.0:
            s, one_minus_s = 1.0 / (1.0 + e), e / (1.0 + e)
        else:
            s, one_minus_s = e / (1.0 + e), 1.0 / (1.0 + e)
        return Value(s, (self,), "sigmoid", (s * one_minus_s,))  # d(sigma)/dx = sigma (1 - sigma)

    # --- backpropagation ---------------------------------------------------------------------------

    def topological_order(self) -> list[Value]:
        """Every Value this one depends on (itself last), each after all of its children.

        micrograd's `build_topo`, a depth-first search, written with an explicit stack instead of
        recursion so that a graph 100,000 operations deep does not hit Python's recursion limit.
        A node is visited twice: first to push its children, then (`children_done`), once they
        are all in `order`, to append the node itself.
        """
        # exercise: topological_order: every node after its children, without recursion (README, idea 4)
        order: list[Value] = []
        visited: set[Value] = set()
        stack: list[tuple[Value, bool]] = [(self, False)]
        while stack:
            node, children_done = stack.pop()
            if children_done:
                order.append(node)
            elif node not in visited:
                visited.add(node)
                stack.append((node, True))  # come back to it after its children
                for child in node._children:
                    stack.append((child, False))
        return order
        # end exercise

    def backward(self) -> None:
        """Fill `.grad` of every Value this one depends on with d(self)/d(that Value).

        Leaves (Values not computed from others, such as parameters) accumulate: a second
        `backward()` adds to their `.grad`, as in PyTorch, so call `zero_grad()` between steps.
        Intermediate nodes are reset first, so they hold this pass's gradient only.
        (`micrograd.fast.backward_fast` computes the same numbers, faster; training uses it.)
        """
        # exercise: backward: reset interior grads, seed 1, then the chain rule in reverse order (README, ideas 4-5)
        order = self.topological_order()
        for node in order:
            if node._children:
                node.grad = 0.0
        self.grad = 1.0  # d(self)/d(self)
        for node in reversed(order):  # outputs before inputs: a node's grad is final when we reach it
            for child, local in zip(node._children, node._local):
                child.grad += local * node.grad  # the chain rule; += sums over every path (module docstring)
        # end exercise
