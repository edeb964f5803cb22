import gzip
import hashlib
import os
from pathlib import Path

import numpy as np
import pytest

from shared import data


def write_idx(path: Path, array: np.ndarray, compress: bool = False) -> Path:
    """An IDX file of uint8 `array`, as MNIST's files are laid out."""
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    payload = header + array.astype(np.uint8).tobytes()
    if compress:
        path.write_bytes(gzip.compress(payload))
    else:
        path.write_bytes(payload)
    return path


@pytest.fixture
def fake_entry():
    """Register a fake entry served from a local file:// URL; removed afterwards."""
    added = []

    def make(name: str, content: bytes, served: bytes | None, tmp_path: Path) -> data.DataEntry:
        source = tmp_path / "server" / Path(name).name
        source.parent.mkdir(exist_ok=True)
        if served is not None:
            source.write_bytes(served)
        entry = data.register(name, source.as_uri(), hashlib.sha256(content).hexdigest())
        added.append(name)
        return entry

    yield make
    for name in added:
        data.REGISTRY.pop(name, None)


def test_read_idx_round_trips_a_generated_file(tmp_path):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    for compress in (False, True):
        path = write_idx(tmp_path / f"images-{compress}.idx", images, compress)
        loaded = data.read_idx(path)
        assert loaded.dtype == np.uint8
        assert loaded.shape == (2, 3, 4)
        np.testing.assert_array_equal(loaded, images)


def test_read_idx_rejects_bad_magic_and_truncated_data(tmp_path):
    (tmp_path / "text.idx").write_bytes(b"hello world")
    with pytest.raises(data.DataError, match="not an IDX file"):
        data.read_idx(tmp_path / "text.idx")
    path = write_idx(tmp_path / "short.idx", np.zeros((2, 5), np.uint8))
    path.write_bytes(path.read_bytes()[:-3])
    with pytest.raises(data.DataError, match="holds 7"):
        data.read_idx(path)


def test_fetch_finds_plain_or_gzipped_file_in_data_dir(isolated_data, fake_entry, tmp_path):
    content = b"emma\nolivia\n"
    fake_entry("test/names-plain.txt", content, None, tmp_path)
    fake_entry("test/names-gz.txt", content, None, tmp_path)
    (isolated_data / "test").mkdir()
    (isolated_data / "test" / "names-plain.txt").write_bytes(content)
    (isolated_data / "test" / "names-gz.txt.gz").write_bytes(gzip.compress(content))
    assert data.fetch("test/names-plain.txt").name == "names-plain.txt"
    assert data.fetch("test/names-gz.txt").name == "names-gz.txt.gz"
    assert data.read_text("test/names-gz.txt") == "emma\nolivia\n"


def test_fetch_downloads_into_cache_and_verifies(isolated_data, fake_entry, tmp_path):
    content = b"to be or not to be\n"
    fake_entry("test/download.txt", content, content, tmp_path)
    path = data.fetch("test/download.txt")
    assert path == tmp_path / "cache" / "deepneuralnetwork" / "test" / "download.txt"
    assert path.read_bytes() == content
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".part")]


def test_checksum_mismatch_on_download_raises_and_leaves_no_file(isolated_data, fake_entry, tmp_path):
    fake_entry("test/corrupt.txt", b"the right content", b"the wrong content", tmp_path)
    with pytest.raises(data.ChecksumError, match="SHA-256"):
        data.fetch("test/corrupt.txt")
    folder = tmp_path / "cache" / "deepneuralnetwork" / "test"
    assert not folder.exists() or list(folder.iterdir()) == []


def test_checksum_mismatch_of_local_file_names_the_file(isolated_data, fake_entry, tmp_path):
    fake_entry("test/local.txt", b"the right content", None, tmp_path)
    (isolated_data / "test").mkdir()
    (isolated_data / "test" / "local.txt").write_bytes(b"tampered")
    with pytest.raises(data.ChecksumError, match=r"local\.txt has SHA-256"):
        data.fetch("test/local.txt")


def test_offline_miss_names_the_url_and_the_folder(isolated_data, tmp_path):
    data.register("test/offline.txt", "http://127.0.0.1:9/offline.txt", "0" * 64)
    try:
        with pytest.raises(data.DataNotFoundError) as error:
            data.fetch("test/offline.txt")
    finally:
        data.REGISTRY.pop("test/offline.txt")
    message = str(error.value)
    assert "http://127.0.0.1:9/offline.txt" in message
    assert str(tmp_path / "cache" / "deepneuralnetwork" / "test") in message
    assert "DNN_DATA_DIR" in message


def test_unknown_name_lists_the_registry():
    with pytest.raises(KeyError, match=r"names\.txt"):
        data.fetch("no/such/file")


def test_load_mnist_rejects_unknown_dataset_and_split():
    with pytest.raises(ValueError, match="dataset"):
        data.load_mnist("cifar10")
    with pytest.raises(ValueError, match="split"):
        data.load_mnist("mnist", "valid")


@pytest.mark.skipif(not os.environ.get("DNN_DATA_DIR"), reason="real data needs DNN_DATA_DIR")
def test_real_mnist_has_the_canonical_shapes_and_label_counts():
    try:
        images, labels = data.load_mnist("mnist", "test")
    except data.DataNotFoundError:
        pytest.skip("MNIST not available offline")
    assert images.shape == (10000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (10000,) and labels.dtype == np.uint8
    assert np.bincount(labels).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert labels[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]


def test_report_names_each_file_and_counts_the_missing(monkeypatch, tmp_path):
    import io

    from shared import data

    monkeypatch.setenv("DNN_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(data, "REGISTRY", {})
    (tmp_path / "here.txt").write_text("hi")
    import hashlib

    data.register("here.txt", "https://example.invalid/here.txt", hashlib.sha256(b"hi").hexdigest())
    data.register("names.txt", "https://example.invalid/names.txt", "0" * 64)
    out = io.StringIO()
    assert data.report(download=False, out=out) == 1
    text = out.getvalue()
    assert "here.txt" in text and "MISSING" in text and "04_makemore" in text and "1 of 2 data files found" in text
