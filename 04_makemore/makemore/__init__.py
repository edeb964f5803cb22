"""makemore in NumPy: character-level language models on names, every backward pass by hand.

Modules, in the order of the lectures (Karpathy, "Neural Networks: Zero to Hero" 2-5):

    data      vocabulary, loading and validating names, the 80/10/10 split, context windows
    bigram    the counting bigram model and the same model as a one-layer net
    layers    Embedding, Linear, BatchNorm1d, Tanh, FlattenConsecutive, Sequential, RNN/GRU cells,
              cross-entropy: each with an explicit forward and backward ("backprop ninja" style)
    models    the MLP (Bengio et al. 2003), MLP + BatchNorm, the WaveNet-style hierarchy, RNN/GRU
    optim     SGD with a step schedule and AdamW, updating parameters in place
    train     the training loop, evaluation, sampling
    checkpoint  what a checkpoint holds; its config checked before a model is built from it
    plots     count matrix, learning-rate finder, embeddings, activation/gradient statistics

BLAS threads are set by the command line (`--threads`, default 1, through `shared.threads`),
not as a side effect of importing this package.
"""

__version__ = "0.1.0"
