import json

import numpy as np
import pytest
from hostile import huge_header, meta_member, stored, write_zip, zip_bomb
from mlp.checkpoint import FORMAT, CheckpointError, load_checkpoint, load_parameters, save_checkpoint
from mlp.layers import make_mlp
from mlp.train import TrainConfig, build_model

from shared.checkpoint import load


def meta(**config) -> dict:
    return {"format": FORMAT, "config": TrainConfig(**config).to_dict(), "pixel_stats": [0.1307, 0.3081]}


def test_round_trip_rebuilds_the_model_with_every_parameter(tmp_path):
    config = TrainConfig(hidden=(5,), seed=1)
    model = build_model(config)
    path = save_checkpoint(tmp_path / "model.npz", model, config)
    assert path == tmp_path / "model.npz"
    loaded, loaded_config = load_checkpoint(path)
    assert loaded_config == config
    for (name, a), (_, b) in zip(model.named_parameters(), loaded.named_parameters()):
        np.testing.assert_array_equal(a.data, b.data, err_msg=name)
    x = np.ones((2, 784), np.float32)
    np.testing.assert_array_equal(model.forward(x), loaded.forward(x))


def test_checkpoints_need_no_pickle_and_hold_the_config(tmp_path):
    config = TrainConfig(hidden=(2,))
    path = save_checkpoint(tmp_path / "m.npz", build_model(config), config)
    with np.load(path, allow_pickle=False) as archive:
        assert set(archive.files) == {"0.W", "0.b", "2.W", "2.b", "meta"}
        assert json.loads(str(archive["meta"]))["config"]["hidden"] == [2]


def test_shape_mismatch_is_a_clear_error_and_leaves_the_model_intact(tmp_path):
    config = TrainConfig(hidden=(5,))
    path = save_checkpoint(tmp_path / "m.npz", make_mlp(784, [5], 10), config)
    model = make_mlp(784, [7], 10, rng=4)
    before = [p.data.copy() for p in model.parameters()]
    with pytest.raises(CheckpointError, match=r"parameter 0.W has shape \(784, 5\) in the checkpoint but \(784, 7\)"):
        load_parameters(model, load(path)[0])
    for a, p in zip(before, model.parameters()):
        np.testing.assert_array_equal(a, p.data)


def test_missing_and_unexpected_parameters():
    arrays = {name: p.data for name, p in make_mlp(6, [5], 3).named_parameters()}
    with pytest.raises(CheckpointError, match=r"missing parameters \['4.W', '4.b'\]"):
        load_parameters(make_mlp(6, [5, 4], 3), arrays)


def test_missing_corrupt_and_foreign_files(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "nope.npz")
    with pytest.raises(CheckpointError, match="not a file"):
        load_checkpoint(tmp_path)
    (tmp_path / "junk.npz").write_bytes(b"this is not a zip file")
    with pytest.raises(CheckpointError, match=r"not a readable \.npz"):
        load_checkpoint(tmp_path / "junk.npz")
    np.savez(tmp_path / "foreign.npz", W=np.zeros(3))
    with pytest.raises(CheckpointError, match="no 'meta' entry"):
        load_checkpoint(tmp_path / "foreign.npz")
    np.savez(tmp_path / "other.npz", meta=np.array('{"format": "something-else"}'))
    with pytest.raises(CheckpointError, match="expected a 'mlp-checkpoint-1' checkpoint"):
        load_checkpoint(tmp_path / "other.npz")
    (tmp_path / "half.npz").write_bytes((tmp_path / "other.npz").read_bytes()[:100])  # truncated
    with pytest.raises(CheckpointError):
        load_checkpoint(tmp_path / "half.npz")


def test_a_4_mb_file_that_inflates_to_4_gb_is_refused_before_reading_it(tmp_path):
    path = zip_bomb(tmp_path / "bomb.npz", meta(hidden=()))
    assert path.stat().st_size < 5_000_000
    with pytest.raises(CheckpointError, match=r"entry '0.W' would need 4,000,000,000 bytes.*over the limit"):
        load_checkpoint(path)


def test_a_header_claiming_a_huge_shape_is_refused(tmp_path):
    path = huge_header(tmp_path / "huge.npz", meta(hidden=()))
    with pytest.raises(CheckpointError, match=r"claims shape \(1000000, 1000000\).*holds only"):
        load_checkpoint(path)


def test_object_arrays_are_refused_without_unpickling(tmp_path):
    path = write_zip(tmp_path / "pickle.npz", [meta_member(meta(hidden=())), stored("0.W", np.array([None]))])
    with pytest.raises(CheckpointError, match="pickle"):
        load_checkpoint(path)


def small_arrays(hidden=(3,)) -> dict:
    return {name: p.data for name, p in make_mlp(784, list(hidden), 10).named_parameters()}


def write_with_config(path, config: dict, arrays: dict | None = None):
    members = [meta_member({"format": FORMAT, "config": config})]
    members += [stored(name, array) for name, array in (arrays or small_arrays()).items()]
    return write_zip(path, members)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"hidden": [100000, 100000]},
            r"784-100000-100000-10 MLP with 10,079,600,010 parameters, but the file holds 2,395",
        ),
        ({"hidden": [10**12]}, r"hidden\[0\] .* must be an integer from 1 to 1048576"),
        ({"hidden": [1e300]}, r"hidden\[0\] .* must be an integer"),
        ({"hidden": [True]}, r"hidden\[0\] .* must be an integer"),
        ({"hidden": [1] * 1000}, "at most 100 sizes"),
        ({"hidden": "3"}, "must be a list"),
        ({"lr": float("nan")}, "holds NaN, which is not a number a config may hold"),  # shared.checkpoint's reader
        ({"weight_decay": float("inf")}, "holds Infinity, which is not a number a config may hold"),
        ({"dropout": 2.0}, "dropout must be in"),
        ({"batch_size": 0}, "batch_size .* must be an integer >= 1"),
        ({"dataset": "imagenet"}, "dataset must be one of"),
        ({"activation": 3}, "activation .* must be a string"),
        ({"evil": 1}, r"unknown fields \['evil'\]"),
    ],
)
def test_absurd_or_wrong_configs_are_refused_before_building_a_model(tmp_path, change, message):
    config = {**TrainConfig(hidden=(3,)).to_dict(), **change}
    with pytest.raises(CheckpointError, match=message):
        load_checkpoint(write_with_config(tmp_path / "bad.npz", config))


def test_a_config_that_is_not_an_object_or_nested_too_deep_is_refused(tmp_path):
    with pytest.raises(CheckpointError, match="must be a JSON object"):
        load_checkpoint(write_with_config(tmp_path / "list.npz", [1, 2]))
    deep = f'{{"format": "{FORMAT}", "config": {"[" * 200000 + "]" * 200000}}}'
    path = write_zip(tmp_path / "deep.npz", [stored("meta", np.array(deep))])
    with pytest.raises(CheckpointError, match="nested"):
        load_checkpoint(path)


@pytest.mark.parametrize("value", [np.nan, np.inf, 1e300])
def test_non_finite_weights_are_refused(tmp_path, value):
    arrays = small_arrays()
    arrays["0.W"] = arrays["0.W"].astype(np.float64)
    arrays["0.W"][1, 2] = value
    path = write_with_config(tmp_path / "nan.npz", TrainConfig(hidden=(3,)).to_dict(), arrays)
    with pytest.raises(CheckpointError, match=r"parameter 0\.W holds NaN or infinite values"):
        load_checkpoint(path)
