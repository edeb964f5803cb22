"""makemore in NumPy: character-level language models on names, every backward pass by hand.

Modules, in the order of the lectures (Karpathy, "Neural Networks: Zero to Hero" 2-5):

    data      vocabulary, loading and validating names, the 80/10/10 split, context windows
    bigram    the counting bigram model and the same model as a one-layer net
    layers    Embedding, Linear, BatchNorm1d, Tanh, FlattenConsecutive, Sequential, RNN/GRU cells,
              cross-entropy: each with an explicit forward and backward ("backprop ninja" style)
    models    the MLP (Bengio et al. 2003), MLP + BatchNorm, the WaveNet-style hierarchy, RNN/GRU
    optim     SGD with a step schedule and AdamW, updating parameters in place
    train     the training loop, evaluation, sampling, checkpoints
    plots     count matrix, learning-rate finder, embeddings, activation/gradient statistics
"""

import os as _os

# The models are tiny: one BLAS thread is fastest, and BLAS threads competing for shared cores
# make small matmuls 10-100x slower. Only takes effect if NumPy is not imported yet; an explicit
# setting in the environment wins.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    _os.environ.setdefault(_var, "1")

__version__ = "0.1.0"
