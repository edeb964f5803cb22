"""LeCun et al. 1989, "Backpropagation Applied to Handwritten Zip Code Recognition", in NumPy.

Modules, in reading order:

    data.py        the 7291/2007 16x16 digit set, sampled from MNIST (prepro)
    layers.py      convolution, activations, linear layer, losses: forward and backward
    model.py       the network (Net): its size counts, batched forward and backward, the Hessian's diagonal
    fast.py        the same forward and backward fused for one example: what training runs
    optim.py       SGD, the paper's diagonal Levenberg-Marquardt, AdamW on a flat parameter vector
    checkpoint.py  saving and loading the network (through shared.checkpoint)
    train.py       the training loop, evaluation in the repro's format, outputs
    sweep.py       choosing the learning rate on held-out training digits
    bench.py       our training loop next to the same loop in PyTorch

layers.py, model.py, fast.py and optim.py import only NumPy and the standard library (and
each other), so they can be copied out on their own.
"""

__version__ = "0.1.0"
