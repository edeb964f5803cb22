"""micrograd: a scalar autograd engine (`Value`) and a tiny neural-net library on top of it.

    from micrograd import Value, MLP
    a, b = Value(2.0), Value(-3.0)
    c = (a * b + 1).tanh()
    c.backward()                    # a.grad, b.grad now hold dc/da, dc/db

After Andrej Karpathy's micrograd and the first Zero to Hero lecture; see README.md.
"""

from .engine import Value
from .nn import MLP, Layer, Module, Neuron

__all__ = ["MLP", "Layer", "Module", "Neuron", "Value"]
