import numpy as np
import pytest
from mlp.losses import CrossEntropyLoss, log_softmax, softmax

from shared.gradcheck import gradcheck


def naive_cross_entropy(logits, targets):
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return -np.mean(np.log(p[np.arange(len(targets)), targets]))


def test_forward_matches_the_definition(rng):
    logits = rng.standard_normal((7, 5))
    targets = rng.integers(0, 5, 7)
    assert CrossEntropyLoss().forward(logits, targets) == pytest.approx(naive_cross_entropy(logits, targets))


@pytest.mark.parametrize("shape", [(1, 2), (6, 10), (13, 3)])
def test_gradcheck(shape, rng):
    loss = CrossEntropyLoss()
    logits = rng.standard_normal(shape) * 3
    targets = rng.integers(0, shape[1], shape[0])
    loss.forward(logits, targets)
    dlogits = loss.backward()
    gradcheck(lambda: loss.forward(logits, targets), {"logits": logits}, {"logits": dlogits}).assert_ok()


def test_backward_is_softmax_minus_onehot_over_n(rng):
    logits = rng.standard_normal((4, 3))
    targets = np.array([0, 2, 1, 2])
    loss = CrossEntropyLoss()
    loss.forward(logits, targets)
    expected = (softmax(logits) - np.eye(3)[targets]) / 4
    np.testing.assert_allclose(loss.backward(), expected)


def test_huge_logits_stay_finite_and_exact():
    logits = np.array([[1e4, 0.0, -1e4], [0.0, 1e4, 1e4 - 2.0]], np.float32)
    targets = np.array([0, 2])
    loss = CrossEntropyLoss()
    with np.errstate(over="raise", invalid="raise"):
        value = loss.forward(logits, targets)
        dlogits = loss.backward()
    # row 0 is certain and right (loss 0); row 1 puts 2 units less on the target: log(1 + e^2) - 0
    assert value == pytest.approx(np.log1p(np.exp(2.0)) / 2, rel=1e-5)
    assert np.all(np.isfinite(dlogits))


def test_float32_in_float32_out(rng):
    loss = CrossEntropyLoss()
    loss.forward(rng.standard_normal((3, 4), dtype=np.float32), np.array([0, 1, 2]))
    assert loss.backward().dtype == np.float32


def test_log_softmax_and_softmax_agree(rng):
    z = rng.standard_normal((3, 6)) * 50
    np.testing.assert_allclose(np.exp(log_softmax(z)), softmax(z), atol=1e-12)
    np.testing.assert_allclose(softmax(z).sum(axis=1), 1.0)


def test_labels_out_of_range_name_the_expected_range():
    with pytest.raises(ValueError, match=r"class indices in \[0, 9\] for 10 logits per row, got values in \[0, 10\]"):
        CrossEntropyLoss().forward(np.zeros((2, 10)), np.array([0, 10]))
    with pytest.raises(ValueError, match=r"got values in \[-1, 3\]"):
        CrossEntropyLoss().forward(np.zeros((2, 10)), np.array([-1, 3]))


@pytest.mark.parametrize(
    ("logits", "targets", "message"),
    [
        (np.zeros(10), np.array([1]), "2-D float array"),
        (np.zeros((2, 3), np.int64), np.array([1, 2]), "2-D float array"),
        (np.zeros((2, 3)), np.array([1, 2, 0]), r"shape \(2,\)"),
        (np.zeros((2, 3)), np.array([1.0, 2.0]), "integer class indices"),
        (np.zeros((0, 3)), np.zeros(0, np.int64), "empty batch"),
    ],
)
def test_bad_inputs_are_clear_errors(logits, targets, message):
    with pytest.raises(ValueError, match=message):
        CrossEntropyLoss().forward(logits, targets)


def test_backward_before_forward():
    with pytest.raises(RuntimeError, match="before forward"):
        CrossEntropyLoss().backward()
