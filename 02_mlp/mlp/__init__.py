"""mlp: a multilayer perceptron on MNIST and Fashion-MNIST, backprop derived by hand, in NumPy.

    from mlp.layers import Linear, ReLU, Sequential, make_mlp
    from mlp.losses import CrossEntropyLoss
    from mlp.optim import SGD
    from mlp.train import TrainConfig, build_model, fit

Modules: layers (Parameter, Linear, activations, Dropout, Sequential), losses (softmax
cross-entropy), optim (SGD with momentum), data (loading, minibatches, accuracy),
train (the loop), checkpoint (what a checkpoint holds, checked loading), plots, bench
(timing against PyTorch); `python -m mlp` is the command line (train, eval, repro, bench).
"""

__version__ = "0.1.0"
