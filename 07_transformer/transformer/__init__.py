"""The encoder-decoder Transformer of "Attention Is All You Need" (Vaswani et al. 2017), in NumPy."""

from .model import CONFIGS, Transformer, TransformerConfig

__all__ = ["CONFIGS", "Transformer", "TransformerConfig"]
