import zipfile

import numpy as np
import pytest
from lecun1989 import data
from lecun1989.data import DataFormatError, bilinear_matrix, load_prepro, resize_bilinear, save_npz

from shared.testing import data_or_skip


def fake_mnist(dataset, split):
    n = 600 if split == "train" else 200
    rng = np.random.default_rng(0 if split == "train" else 1)
    return rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), rng.integers(0, 10, n).astype(np.uint8)


@pytest.fixture
def fake_load(monkeypatch):
    monkeypatch.setattr(data, "load_mnist", fake_mnist)


def test_bilinear_rows_are_convex_combinations_of_at_most_two_neighbours():
    R = bilinear_matrix(28, 16)
    assert R.shape == (16, 28)
    np.testing.assert_allclose(R.sum(1), 1.0)
    assert np.all(R >= 0) and np.all((R > 0).sum(1) <= 2)


def test_bilinear_resize_to_the_same_size_is_the_identity():
    np.testing.assert_allclose(bilinear_matrix(7, 7), np.eye(7))


def test_bilinear_downscale_samples_at_half_pixel_centres():
    # 4 -> 2: output pixel 0 samples input position 0.5 (midway between pixels 0 and 1)
    np.testing.assert_allclose(bilinear_matrix(4, 2), [[0.5, 0.5, 0, 0], [0, 0, 0.5, 0.5]])


def test_resize_keeps_constant_images_constant():
    images = np.full((2, 28, 28), 200, np.uint8)
    np.testing.assert_allclose(resize_bilinear(images), 200.0)


def test_resize_rejects_non_square_images():
    with pytest.raises(ValueError, match="square"):
        resize_bilinear(np.zeros((1, 28, 20)))


def test_prepro_shapes_range_and_targets(fake_load):
    arrays = data.prepro(seed=3, n_train=50, n_test=20)
    x, y, label = arrays["x_train"], arrays["y_train"], arrays["label_train"]
    assert x.shape == (50, 16, 16) and x.dtype == np.float32
    assert x.min() >= -1.0 and x.max() <= 1.0
    assert y.shape == (50, 10) and set(np.unique(y)) == {-1.0, 1.0}
    assert np.all((y == 1).sum(1) == 1) and np.array_equal(y.argmax(1), label)
    assert arrays["x_test"].shape == (20, 16, 16)
    assert len(set(arrays["index_train"].tolist())) == 50  # sampled without replacement


def test_prepro_file_is_byte_identical_for_the_same_seed(fake_load, tmp_path):
    first = save_npz(tmp_path / "a.npz", data.prepro(seed=5, n_train=40, n_test=10))
    second = save_npz(tmp_path / "b.npz", data.prepro(seed=5, n_train=40, n_test=10))
    assert first.read_bytes() == second.read_bytes()
    other = save_npz(tmp_path / "c.npz", data.prepro(seed=6, n_train=40, n_test=10))
    assert other.read_bytes() != first.read_bytes()


def test_save_npz_uses_fixed_timestamps_and_loads_without_pickle(tmp_path):
    path = save_npz(tmp_path / "a.npz", {"b": np.arange(3), "a": np.ones((2, 2), np.float32)})
    with zipfile.ZipFile(path) as archive:
        assert [info.filename for info in archive.infolist()] == ["b.npy", "a.npy"]
        assert all(info.date_time == (1980, 1, 1, 0, 0, 0) for info in archive.infolist())
    with np.load(path, allow_pickle=False) as loaded:
        np.testing.assert_array_equal(loaded["b"], np.arange(3))


def fake_prepro(n: int = 30) -> dict[str, np.ndarray]:
    """Prepro-format arrays from the fake MNIST, without going through load_mnist."""
    rng = np.random.default_rng(0)
    arrays = {}
    for split in ("train", "test"):
        for key, value in data._sample(*fake_mnist("mnist", split), n, rng).items():
            arrays[f"{key}_{split}"] = value
    return arrays


def test_ensure_prepro_builds_once_then_loads(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(data, "prepro", lambda seed: (calls.append(seed), fake_prepro())[1])
    path = tmp_path / "p.npz"
    first = data.ensure_prepro(1, path, log=lambda msg: None)
    second = data.ensure_prepro(1, path, log=lambda msg: None)
    assert calls == [1]
    np.testing.assert_array_equal(first["x_train"], second["x_train"])


def test_missing_prepro_file_is_a_clear_error(tmp_path):
    with pytest.raises(DataFormatError, match="does not exist"):
        load_prepro(tmp_path / "nothing.npz")


def test_a_folder_given_as_the_prepro_file_is_named_a_folder(tmp_path):
    with pytest.raises(DataFormatError, match="is a folder, not a file"):
        load_prepro(tmp_path)


def test_corrupt_prepro_file_is_a_clear_error(tmp_path):
    path = tmp_path / "bad.npz"
    path.write_bytes(b"this is not a zip file")
    with pytest.raises(DataFormatError, match=r"not a readable \.npz"):
        load_prepro(path)


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda a: a.pop("y_test"), "no 'y_test'"),
        (lambda a: a.update(x_train=a["x_train"][:, :8]), "shapes"),
        (lambda a: a.update(x_train=a["x_train"] * 3), r"\[-1, 1\]"),
        (lambda a: a.update(y_train=-a["y_train"]), "one-hot"),
        (lambda a: a.update(x_test=a["x_test"].astype(np.float64)), "float32"),
    ],
)
def test_malformed_prepro_arrays_are_rejected(tmp_path, change, message):
    arrays = fake_prepro()
    change(arrays)
    path = save_npz(tmp_path / "p.npz", arrays)
    with pytest.raises(DataFormatError, match=message):
        load_prepro(path)


def test_real_mnist_prepro_smoke():
    for stem in ("train-images", "train-labels", "t10k-images", "t10k-labels"):
        data_or_skip(f"mnist/{stem}-idx{3 if 'images' in stem else 1}-ubyte")
    arrays = data.prepro(seed=0, n_train=20, n_test=10)
    assert arrays["x_train"].shape == (20, 16, 16)
    assert -1.0 <= arrays["x_train"].min() and arrays["x_train"].max() <= 1.0
    assert arrays["x_train"].min() == -1.0  # MNIST's background is 0, which maps to -1
