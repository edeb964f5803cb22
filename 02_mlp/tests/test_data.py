import numpy as np
import pytest
from mlp.data import PIXEL_STATS, accuracy, check_dataset, load, minibatches, standardize

from shared.data import DataError


def test_minibatches_cover_every_example_once_and_keep_the_last_partial_batch():
    X = np.arange(10, dtype=np.float32)[:, None]
    y = np.arange(10)
    batches = list(minibatches(X, y, 4, rng=0))
    assert [len(yb) for _, yb in batches] == [4, 4, 2]
    seen = np.concatenate([yb for _, yb in batches])
    assert sorted(seen) == list(range(10))
    for xb, yb in batches:  # rows stay paired with their labels
        np.testing.assert_array_equal(xb[:, 0], yb)


def test_shuffling_is_seeded_and_differs_between_epochs():
    X, y = np.zeros((50, 1), np.float32), np.arange(50)

    def order(rng):
        return np.concatenate([yb for _, yb in minibatches(X, y, 8, rng)])

    rng_a, rng_b = np.random.default_rng(3), np.random.default_rng(3)
    first_a, first_b = order(rng_a), order(rng_b)
    np.testing.assert_array_equal(first_a, first_b)  # same seed, same order
    assert not np.array_equal(first_a, order(rng_a))  # the next epoch is a new permutation
    np.testing.assert_array_equal(np.concatenate([yb for _, yb in minibatches(X, y, 8, shuffle=False)]), y)


def test_minibatch_errors():
    with pytest.raises(ValueError, match="batch_size"):
        list(minibatches(np.zeros((3, 1)), np.zeros(3), 0))
    with pytest.raises(ValueError, match="3 examples but y has 2"):
        list(minibatches(np.zeros((3, 1)), np.zeros(2), 2))


def test_accuracy():
    logits = np.array([[2.0, 1.0], [0.0, 3.0], [5.0, 0.0], [0.0, 1.0]])
    assert accuracy(logits, np.array([0, 1, 1, 1])) == 0.75


def test_standardize_makes_float32_rows():
    images = np.full((2, 28, 28), 255, np.uint8)
    X = standardize(images, "mnist")
    mean, std = PIXEL_STATS["mnist"]
    assert X.shape == (2, 784) and X.dtype == np.float32
    np.testing.assert_allclose(X, (1.0 - mean) / std, rtol=1e-6)


@pytest.mark.parametrize("dataset", ["mnist", "fashion"])
def test_standardize_in_place_equals_the_formula(dataset):
    images = np.random.default_rng(0).integers(0, 256, (50, 28, 28), dtype=np.uint8)
    mean, std = PIXEL_STATS[dataset]
    formula = (images.reshape(50, 784) / 255.0 - mean) / std  # float64
    np.testing.assert_allclose(standardize(images, dataset), formula, rtol=1e-6, atol=1e-6)


def test_check_dataset_names_what_was_expected():
    X, y = np.zeros((4, 784), np.float32), np.array([0, 1, 2, 3])
    check_dataset(X, y, 784, 10)
    with pytest.raises(ValueError, match=r"inputs of shape \(N, 784\), got \(4, 100\)"):
        check_dataset(np.zeros((4, 100), np.float32), y, 784, 10)
    with pytest.raises(ValueError, match=r"labels must be in \[0, 9\] for a 10-class model, got values in \[0, 12\]"):
        check_dataset(X, np.array([0, 1, 2, 12]), 784, 10)
    with pytest.raises(ValueError, match=r"labels must have shape \(4,\)"):
        check_dataset(X, np.array([0, 1]), 784, 10)
    with pytest.raises(ValueError, match="floating point"):
        check_dataset(X.astype(np.uint8), y, 784, 10)
    with pytest.raises(ValueError, match="finite"):
        check_dataset(np.full((4, 784), np.nan, np.float32), y, 784, 10)
    with pytest.raises(ValueError, match="integers"):
        check_dataset(X, y.astype(np.float32), 784, 10)


def test_load_rejects_unknown_datasets():
    with pytest.raises(ValueError, match="dataset must be one of"):
        load("cifar10", "train")


def load_or_skip(dataset, split):
    try:
        return load(dataset, split)
    except DataError as error:
        pytest.skip(f"{dataset} is not available here: {str(error).splitlines()[0]}")


@pytest.mark.parametrize("dataset", ["mnist", "fashion"])
def test_real_data_shapes_dtypes_and_label_counts(dataset):
    X, y = load_or_skip(dataset, "test")
    assert X.shape == (10000, 784) and X.dtype == np.float32
    assert y.shape == (10000,) and y.dtype == np.int64
    counts = np.bincount(y, minlength=10)
    assert len(counts) == 10 and counts.sum() == 10000
    if dataset == "fashion":
        assert np.all(counts == 1000)  # Fashion-MNIST is exactly balanced
    else:
        assert counts.min() > 850 and counts.max() < 1200  # MNIST: 892 fives ... 1135 ones


@pytest.mark.parametrize("dataset", ["mnist", "fashion"])
def test_pixel_stats_are_the_training_sets(dataset):
    X, _ = load_or_skip(dataset, "train")
    assert abs(float(X.mean())) < 1e-3 and float(X.std()) == pytest.approx(1.0, abs=1e-3)
