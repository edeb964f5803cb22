import numpy as np
import pytest
from mlp.checkpoint import CheckpointError, load_parameters, read_checkpoint, save_checkpoint
from mlp.layers import make_mlp


def test_round_trip_restores_every_parameter_and_the_meta(tmp_path):
    model = make_mlp(6, [5], 3, rng=1)
    path = save_checkpoint(tmp_path / "model.npz", model, {"config": {"hidden": [5]}})
    assert path == tmp_path / "model.npz"
    other = make_mlp(6, [5], 3, rng=2)
    arrays, meta = read_checkpoint(path)
    load_parameters(other, arrays)
    assert meta == {"config": {"hidden": [5]}}
    for (name, a), (_, b) in zip(model.named_parameters(), other.named_parameters()):
        np.testing.assert_array_equal(a.data, b.data, err_msg=name)
    x = np.ones((2, 6), np.float32)
    np.testing.assert_array_equal(model.forward(x), other.forward(x))


def test_checkpoints_need_no_pickle(tmp_path):
    path = save_checkpoint(tmp_path / "m.npz", make_mlp(3, [2], 2), {"a": 1})
    with np.load(path, allow_pickle=False) as archive:
        assert set(archive.files) == {"0.W", "0.b", "2.W", "2.b", "meta"}


def test_shape_mismatch_is_a_clear_error_and_leaves_the_model_intact(tmp_path):
    path = save_checkpoint(tmp_path / "m.npz", make_mlp(6, [5], 3), {})
    model = make_mlp(6, [7], 3, rng=4)
    before = [p.data.copy() for p in model.parameters()]
    with pytest.raises(CheckpointError, match=r"parameter 0.W has shape \(6, 5\) in the checkpoint but \(6, 7\)"):
        load_parameters(model, read_checkpoint(path)[0])
    for a, p in zip(before, model.parameters()):
        np.testing.assert_array_equal(a, p.data)


def test_missing_and_unexpected_parameters(tmp_path):
    path = save_checkpoint(tmp_path / "m.npz", make_mlp(6, [5], 3), {})
    with pytest.raises(CheckpointError, match=r"missing parameters \['4.W', '4.b'\]"):
        load_parameters(make_mlp(6, [5, 4], 3), read_checkpoint(path)[0])


def test_missing_corrupt_and_foreign_files(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        read_checkpoint(tmp_path / "nope.npz")
    (tmp_path / "junk.npz").write_bytes(b"this is not a zip file")
    with pytest.raises(CheckpointError, match=r"not a readable \.npz"):
        read_checkpoint(tmp_path / "junk.npz")
    np.savez(tmp_path / "foreign.npz", W=np.zeros(3))
    with pytest.raises(CheckpointError, match="no 'meta' entry"):
        read_checkpoint(tmp_path / "foreign.npz")
    np.savez(tmp_path / "badmeta.npz", meta=np.array("{not json"))
    with pytest.raises(CheckpointError, match="not valid JSON"):
        read_checkpoint(tmp_path / "badmeta.npz")
