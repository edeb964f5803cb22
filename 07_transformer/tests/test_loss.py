import numpy as np
import pytest
from transformer.loss import label_smoothed_cross_entropy

from shared.gradcheck import gradcheck


def test_label_smoothed_loss_gradient_matches_finite_differences(rng):
    logits = rng.standard_normal((2, 4, 7))
    targets = rng.integers(1, 7, (2, 4))
    targets[1, 2:] = 0  # padding

    _, dlogits, _ = label_smoothed_cross_entropy(logits, targets, 0.1)
    gradcheck(
        lambda: label_smoothed_cross_entropy(logits, targets, 0.1)[0], {"logits": logits}, {"logits": dlogits}
    ).assert_ok()


def test_padding_positions_get_no_loss_and_no_gradient(rng):
    logits = rng.standard_normal((1, 3, 5))
    loss_all, d, n = label_smoothed_cross_entropy(logits, np.array([[2, 3, 0]]), 0.1)
    loss_two, _, _ = label_smoothed_cross_entropy(logits[:, :2], np.array([[2, 3]]), 0.1)
    assert n == 2
    assert loss_all == pytest.approx(loss_two)
    assert np.all(d[0, 2] == 0)


def test_without_smoothing_it_is_plain_cross_entropy(rng):
    logits = rng.standard_normal((4, 6))
    y = np.array([1, 2, 3, 4])
    expected = -np.mean(np.log(np.exp(logits) / np.exp(logits).sum(-1, keepdims=True))[np.arange(4), y])
    assert label_smoothed_cross_entropy(logits, y, 0.0)[0] == pytest.approx(expected)


def test_sum_reduction_is_mean_times_token_count(rng):
    logits = rng.standard_normal((3, 5))
    y = np.array([1, 2, 0])
    mean, dmean, n = label_smoothed_cross_entropy(logits, y, 0.1, reduction="mean")
    total, dsum, _ = label_smoothed_cross_entropy(logits, y, 0.1, reduction="sum")
    assert total == pytest.approx(mean * n)
    np.testing.assert_allclose(dsum, dmean * n)


@pytest.mark.parametrize(
    "logits, targets, kwargs, message",
    [
        (np.zeros((2, 3, 5)), np.zeros((2, 4), dtype=int), {}, "disagree"),
        (np.zeros((2, 5)), np.array([1, 5]), {}, "targets must lie"),
        (np.zeros((2, 5)), np.array([1, 2]), {"smoothing": 1.0}, "smoothing"),
        (np.zeros((2, 5)), np.array([1, 2]), {"reduction": "max"}, "reduction"),
    ],
)
def test_bad_inputs_raise_clear_errors(logits, targets, kwargs, message):
    with pytest.raises(ValueError, match=message):
        label_smoothed_cross_entropy(logits, targets, **kwargs)
