"""GPT-2 in NumPy: the model with a hand-written backward, a KV cache, safetensors I/O, BPE, training.

Imports are lazy (`gpt2.GPT` loads `gpt2.model` on first use) so that `python -m gpt2 --threads N`
can set the BLAS thread count before NumPy is first imported.
"""

__all__ = ["GPT", "GPTConfig", "KVCache", "Parameter"]


def __getattr__(name: str):
    if name in __all__:
        from . import model

        return getattr(model, name)
    raise AttributeError(f"module 'gpt2' has no attribute {name!r}")
