"""Checkpoints: a round trip, and clear errors for corrupt, mismatched, crafted or oversized files."""

import json
import zipfile

import numpy as np
import pytest
from conftest import npy_header
from lecun1989.checkpoint import FORMAT, MAX_BYTES, CheckpointError, load_checkpoint, save_checkpoint
from lecun1989.model import Config, Net

from shared import checkpoint

MODERN = Config(activation="relu", output="linear", dropout=0.25, output_bias=0.0)


@pytest.fixture
def saved(tmp_path):
    return save_checkpoint(tmp_path / "model.npz", Net(Config(), np.random.default_rng(0)))


def rewrite(path, change_arrays=None, change_meta=None):
    arrays, meta = checkpoint.load(path)
    if change_arrays:
        change_arrays(arrays)
    if change_meta:
        change_meta(meta)
    checkpoint.save(path, arrays, meta)


def test_checkpoint_round_trip(tmp_path):
    net = Net(MODERN, np.random.default_rng(5))
    path = save_checkpoint(tmp_path / "model.npz", net, {"note": "hello"})
    loaded, meta = load_checkpoint(path)
    assert loaded.config == MODERN and meta == {"note": "hello"}
    np.testing.assert_array_equal(loaded.params, net.params)
    images = np.random.default_rng(0).uniform(-1, 1, (3, 16, 16))
    np.testing.assert_array_equal(loaded.forward(images), net.forward(images))


def test_truncated_checkpoint_is_a_clear_error(saved):
    raw = saved.read_bytes()
    saved.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(CheckpointError, match=r"not a readable \.npz"):
        load_checkpoint(saved)


def test_missing_checkpoint_is_a_clear_error(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "nothing.npz")


@pytest.mark.parametrize(
    "change_arrays, change_meta, message",
    [
        (lambda a: a.update({"H3.weight": np.zeros((100, 30), np.float32)}), None, "H3.weight has shape"),
        (lambda a: a.pop("out.bias"), None, "missing the parameters"),
        (lambda a: a.update(extra=np.zeros(3, np.float32)), None, "not parameters"),
        (lambda a: a.update({"H1.bias": np.full((12, 8, 8), np.nan, np.float32)}), None, "finite"),
        (lambda a: a.update({"H1.bias": np.zeros((12, 8, 8), np.int64)}), None, "finite floats"),
        (None, lambda m: m.update(format="other"), "format"),
        (None, lambda m: m.update(config=[1, 2]), "JSON objects"),
        (None, lambda m: m.update(config={"activation": "swish"}), "activation"),
        (None, lambda m: m.update(config={"dropout": "half"}), "bad config"),
        (None, lambda m: m.update(config={"layers": 100000}), "bad config"),
    ],
)
def test_mismatched_checkpoint_is_a_clear_error(saved, change_arrays, change_meta, message):
    rewrite(saved, change_arrays, change_meta)
    with pytest.raises(CheckpointError, match=message):
        load_checkpoint(saved)


def write_members(path, members: dict) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def meta_member(text: str) -> bytes:
    import io

    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, np.array(text))
    return buffer.getvalue()


def test_a_header_claiming_a_huge_array_is_refused_before_allocating(tmp_path):
    path = tmp_path / "crafted.npz"
    meta = json.dumps({"format": FORMAT, "config": {}, "meta": {}})
    write_members(path, {"H3.weight.npy": npy_header((10**6, 10**6)), "meta.npy": meta_member(meta)})
    with pytest.raises(CheckpointError, match="holds only"):
        load_checkpoint(path)


def test_a_checkpoint_larger_than_the_limit_is_refused(tmp_path):
    path = tmp_path / "big.npz"
    meta = json.dumps({"format": FORMAT, "config": {}, "meta": {}})
    big = npy_header((MAX_BYTES // 4 + 1,)) + bytes(MAX_BYTES + 4)
    write_members(path, {"H3.weight.npy": big, "meta.npy": meta_member(meta)})
    with pytest.raises(CheckpointError, match="over the limit"):
        load_checkpoint(path)


def test_a_nan_in_the_stored_config_is_refused(tmp_path):
    path = tmp_path / "nan.npz"
    meta = json.dumps({"format": FORMAT, "config": {"output_bias": float("nan")}, "meta": {}})  # writes NaN
    write_members(path, {"meta.npy": meta_member(meta)})
    with pytest.raises(CheckpointError, match="holds NaN, which is not a number a config may hold"):
        load_checkpoint(path)


def test_a_pickled_array_is_refused(tmp_path):
    path = tmp_path / "pickle.npz"
    np.savez(path, **{"H1.weight": np.array([object()], dtype=object)}, meta=np.array("{}"))
    with pytest.raises(CheckpointError, match="pickle"):
        load_checkpoint(path)
