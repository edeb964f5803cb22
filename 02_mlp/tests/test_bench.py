from mlp.bench import epoch_flops
from mlp.layers import make_mlp


def test_epoch_flops_counts_forward_and_backward_matmuls():
    model = make_mlp(784, [256, 256], 10)  # the first layer skips dL/dx
    first, second, third = 784 * 256, 256 * 256, 256 * 10
    per_example = 2 * (2 * first) + 2 * (3 * second) + 2 * (3 * third)
    assert epoch_flops(model, 60000) == per_example * 60000
