"""LeCun et al. 1989, "Backpropagation Applied to Handwritten Zip Code Recognition", in NumPy.

Modules, in reading order:

    data.py    the 7291/2007 16x16 digit set, sampled from MNIST (prepro)
    layers.py  convolution, activations, linear layer, losses: forward and backward
    model.py   the network (Net), its size counts, the fused batch-size-1 step, checkpoints
    optim.py   SGD and AdamW on a flat parameter vector
    train.py   the training loop, evaluation in the repro's format, outputs
    bench.py   our training loop next to the same loop in PyTorch

This file imports nothing, so that `python -m lecun1989` can set BLAS threads first.
"""

__version__ = "0.1.0"
