"""shared.checkpoint: atomic save, and a reader that refuses hostile files before allocating."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest

from shared.checkpoint import CheckpointError, load, load_json, save


def test_save_then_load_round_trips_arrays_and_meta(tmp_path):
    arrays = {"w": np.arange(6, dtype=np.float32).reshape(2, 3), "step": np.array(7)}
    path = save(tmp_path / "c.npz", arrays, {"config": {"n": 3}})
    loaded, meta = load(path)
    assert meta == {"config": {"n": 3}}
    np.testing.assert_array_equal(loaded["w"], arrays["w"])
    assert loaded["w"].dtype == np.float32 and int(loaded["step"]) == 7
    assert [p.name for p in tmp_path.iterdir()] == ["c.npz"]  # no temporary file left behind


def test_save_refuses_nan_in_meta_and_object_arrays(tmp_path):
    with pytest.raises(ValueError):
        save(tmp_path / "c.npz", {}, {"lr": float("nan")})
    with pytest.raises(ValueError, match="object"):
        save(tmp_path / "c.npz", {"x": np.array([{}], dtype=object)}, {})
    assert not (tmp_path / "c.npz").exists()


def npy_bytes(header_shape, payload: bytes, dtype="<f4") -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": dtype, "fortran_order": False, "shape": header_shape})
    return buffer.getvalue() + payload


def write_zip(path, members: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def meta_npy(text="{}") -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, np.array(text))
    return buffer.getvalue()


def test_a_header_claiming_a_huge_shape_is_refused_before_allocating(tmp_path):
    path = tmp_path / "huge.npz"
    write_zip(path, {"w.npy": npy_bytes((10**6, 10**6), b"\0" * 16), "meta.npy": meta_npy()})
    with pytest.raises(CheckpointError, match="claims shape"):
        load(path)


def test_a_small_file_that_inflates_past_the_limit_is_refused(tmp_path):
    path = tmp_path / "bomb.npz"
    write_zip(path, {"w.npy": npy_bytes((2**22,), b"\0" * 2**24), "meta.npy": meta_npy()})  # 16 MB of zeros
    assert path.stat().st_size < 1_000_000
    with pytest.raises(CheckpointError, match="over the limit"):
        load(path, max_bytes=2**20)


def test_pickled_objects_are_refused(tmp_path):
    path = tmp_path / "pickle.npz"
    write_zip(path, {"w.npy": npy_bytes((1,), b"\x80\x04N.", dtype="|O"), "meta.npy": meta_npy()})
    with pytest.raises(CheckpointError, match="pickle"):
        load(path)


@pytest.mark.parametrize(
    "content, message",
    [(b"not a zip", "not a readable"), (None, "does not exist")],
)
def test_missing_and_corrupt_files_are_clear_errors(tmp_path, content, message):
    path = tmp_path / "c.npz"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(CheckpointError, match=message):
        load(path)


def test_a_truncated_checkpoint_is_a_clear_error(tmp_path):
    path = save(tmp_path / "c.npz", {"w": np.ones(10000, dtype=np.float32)}, {})
    path.write_bytes(path.read_bytes()[:5000])
    with pytest.raises(CheckpointError):
        load(path)


def test_meta_must_be_a_json_object_and_not_nested_deeply(tmp_path):
    path = tmp_path / "c.npz"
    write_zip(path, {"meta.npy": meta_npy("[1, 2]")})
    with pytest.raises(CheckpointError, match="JSON object"):
        load(path)
    write_zip(path, {"meta.npy": meta_npy("[" * 200_000 + "]" * 200_000)})
    with pytest.raises(CheckpointError, match="nested"):
        load(path)
    write_zip(path, {"w.npy": npy_bytes((1,), b"\0" * 4)})
    with pytest.raises(CheckpointError, match="no 'meta'"):
        load(path)


def test_load_json_limits_size_nesting_and_type(tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"n_layer": 2}))
    assert load_json(path) == {"n_layer": 2}
    path.write_text("[]")
    with pytest.raises(CheckpointError, match="JSON object"):
        load_json(path)
    path.write_text("[" * 100 + "]" * 100)
    with pytest.raises(CheckpointError, match="nested"):
        load_json(path, want_object=False)
    path.write_bytes(b"\xff\xfe{}")
    with pytest.raises(CheckpointError, match="UTF-8"):
        load_json(path)
    with pytest.raises(CheckpointError, match="over the limit"):
        load_json(path, max_bytes=2)


def test_saved_checkpoints_get_the_usual_file_mode(tmp_path):
    import os

    umask = os.umask(0o022)
    try:
        path = save(tmp_path / "c.npz", {"w": np.zeros(2)}, {})
    finally:
        os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o644


def test_nan_and_infinity_in_json_are_refused(tmp_path):
    path = tmp_path / "config.json"
    for text in ('{"eps": NaN}', '{"eps": Infinity}', '{"eps": -Infinity}'):
        path.write_text(text)
        with pytest.raises(CheckpointError, match="not a number"):
            load_json(path)
