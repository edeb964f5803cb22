"""The encoder-decoder Transformer of "Attention Is All You Need" (Vaswani et al. 2017), in NumPy.

Importing the package does not import NumPy yet (the names below load lazily), so that
`python -m transformer --threads N` can set the BLAS thread count before NumPy starts.
"""

__all__ = ["CONFIGS", "Transformer", "TransformerConfig"]


def __getattr__(name):
    if name in __all__:
        from . import model

        return getattr(model, name)
    raise AttributeError(f"module 'transformer' has no attribute {name!r}")
