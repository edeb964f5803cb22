import numpy as np
import pytest
from makemore.bigram import BigramNet, bigram_counts, bigram_nll, bigram_probabilities, sample_bigram
from makemore.data import build_dataset


def test_counting_model_rows_sum_to_one(toy_names):
    X, Y = build_dataset(toy_names, 1)
    counts = bigram_counts(X[:, 0], Y)
    assert counts.sum() == len(Y)
    P = bigram_probabilities(counts, smoothing=1.0)
    np.testing.assert_allclose(P.sum(axis=1), 1.0)
    assert (P > 0).all()


def test_counts_match_a_python_loop():
    X, Y = build_dataset(["emma", "ava"], 1)
    counts = bigram_counts(X[:, 0], Y)
    assert counts[0, 5] == 1 and counts[13, 13] == 1 and counts[1, 0] == 2 and counts[1, 22] == 1
    assert counts.sum() == 5 + 4


def test_without_smoothing_an_unseen_bigram_has_infinite_loss():
    counts = np.ones((27, 27), np.int64)
    counts[1, 1] = 0
    P = bigram_probabilities(counts, smoothing=0.0)
    assert bigram_nll(P, np.array([1]), np.array([1])) == np.inf
    assert np.isfinite(bigram_nll(bigram_probabilities(counts, smoothing=1.0), np.array([1]), np.array([1])))
    X, Y = build_dataset(["ab"], 1)
    with pytest.raises(ValueError, match="all zero"):
        bigram_probabilities(bigram_counts(X[:, 0], Y), smoothing=0.0)
    with pytest.raises(ValueError, match="smoothing"):
        bigram_probabilities(counts, smoothing=-1)


def test_neural_bigram_gradient_matches_finite_differences(toy_names):
    from shared.gradcheck import gradcheck

    X, Y = build_dataset(toy_names[:20], 1)
    net = BigramNet(rng=0)
    net.loss(X[:, 0], Y, reg=0.01)
    gradcheck(lambda: net.loss(X[:, 0], Y, reg=0.01), {"W": net.W}, {"W": net.dW.copy()}).assert_ok()


def test_neural_bigram_converges_to_the_counting_solution(toy_names):
    X, Y = build_dataset(toy_names, 1)
    P = bigram_probabilities(bigram_counts(X[:, 0], Y), smoothing=0.01)
    net = BigramNet(rng=0)
    losses = net.fit(X[:, 0], Y, steps=300, lr=50.0, reg=0.0)
    assert losses[-1] < losses[0]
    assert abs(net.nll(X[:, 0], Y) - bigram_nll(P, X[:, 0], Y)) < 0.02


def test_bigram_sampling_is_reproducible(toy_names):
    X, Y = build_dataset(toy_names, 1)
    P = bigram_probabilities(bigram_counts(X[:, 0], Y))
    assert sample_bigram(P, 10, rng=3) == sample_bigram(P, 10, rng=3)


def test_segmented_gradient_sum_matches_the_one_hot_product():
    from makemore.bigram import _sum_rows_by_index

    rng = np.random.default_rng(0)
    for x in (np.array([3, 3]), np.array([0, 26, 26]), np.sort(rng.integers(0, 20, 50)), rng.integers(0, 27, 40)):
        values = rng.standard_normal((len(x), 27))
        np.testing.assert_allclose(_sum_rows_by_index(values, x), np.eye(27)[x].T @ values, atol=1e-12)


@pytest.mark.parametrize("module", ["bigram", "layers", "models", "optim"])
def test_model_code_imports_only_numpy_the_standard_library_and_its_own_folder(module):
    # A learner copies these files: they must not lean on the project's shared/ plumbing or on torch.
    import ast
    from pathlib import Path

    import makemore

    tree = ast.parse((Path(makemore.__file__).parent / f"{module}.py").read_text(encoding="utf-8"))
    roots = {
        alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names
    }
    roots |= {
        node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.level == 0
    }
    assert roots <= {"__future__", "numpy", "json", "dataclasses", "typing", "math"}, roots
