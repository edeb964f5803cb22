"""The safetensors reader/writer: round trips, and a clear rejection of every kind of malformed file."""

import json
import struct

import numpy as np
import pytest
from gpt2.model import GPT, CheckpointError, GPTConfig
from gpt2.safetensors_io import SafetensorsError, read_safetensors, write_safetensors

TINY = GPTConfig(vocab_size=13, n_positions=8, n_embd=8, n_layer=2, n_head=2)


def raw_file(path, header: dict, data: bytes = b"", header_size: int | None = None):
    blob = json.dumps(header).encode()
    size = len(blob) if header_size is None else header_size
    path.write_bytes(struct.pack("<Q", size) + blob + data)
    return path


def test_round_trip_preserves_names_shapes_and_values(tmp_path):
    rng = np.random.default_rng(0)
    tensors = {"w": rng.standard_normal((3, 5)).astype(np.float32), "b": np.zeros(0, np.float32), "s": np.ones(())}
    write_safetensors(tmp_path / "m.safetensors", tensors, metadata={"format": "pt"})
    loaded = read_safetensors(tmp_path / "m.safetensors")
    assert set(loaded) == set(tensors)
    for name, array in tensors.items():
        assert loaded[name].shape == array.shape and loaded[name].dtype == np.float32
        np.testing.assert_array_equal(loaded[name], array)


def test_header_is_8_byte_aligned_and_data_little_endian(tmp_path):
    write_safetensors(tmp_path / "m.safetensors", {"x": np.array([1.0, -2.0], np.float32)})
    data = (tmp_path / "m.safetensors").read_bytes()
    (size,) = struct.unpack("<Q", data[:8])
    assert size % 8 == 0
    assert data[8 + size :] == np.array([1.0, -2.0], "<f4").tobytes()


def test_f16_and_bf16_are_converted_to_float32(tmp_path):
    values = np.array([1.5, -0.25, 3.0], np.float32)
    f16 = values.astype("<f2").tobytes()
    bf16 = (values.view(np.uint32) >> 16).astype("<u2").tobytes()  # exact for these values
    header = {"h": {"dtype": "F16", "shape": [3], "data_offsets": [0, 6]},
              "b": {"dtype": "BF16", "shape": [3], "data_offsets": [6, 12]}}  # fmt: skip
    loaded = read_safetensors(raw_file(tmp_path / "f.safetensors", header, f16 + bf16))
    np.testing.assert_array_equal(loaded["h"], values)
    np.testing.assert_array_equal(loaded["b"], values)


@pytest.mark.parametrize(
    "header, data, header_size, message",
    [
        ({}, b"", 10**15, "exceeds the file"),
        ({"x": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}, b"\0" * 4, None, "outside"),
        ({"x": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}, b"\0" * 8, None, "outside"),
        ({"x": {"dtype": "Q7", "shape": [2], "data_offsets": [0, 8]}}, b"\0" * 8, None, "unknown dtype"),
        ({"x": {"dtype": "F64", "shape": [1], "data_offsets": [0, 8]}}, b"\0" * 8, None, "unsupported dtype"),
        ({"x": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}, b"\0" * 8, None, "needs 12 bytes"),
        ({"x": {"dtype": "F32", "shape": [10**9, 10**9], "data_offsets": [0, 8]}}, b"\0" * 8, None, "needs"),
        ({"x": {"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]}}, b"\0" * 8, None, "non-negative"),
        ({"x": {"dtype": "F32", "shape": [2], "data_offsets": [8, 0]}}, b"\0" * 8, None, "outside"),
        ({"x": {"dtype": "F32", "shape": [2]}}, b"\0" * 8, None, "exactly dtype"),
        ({"x": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
          "y": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}, b"\0" * 12, None, "overlap"),
        ({"__metadata__": {"a": 1}}, b"", None, "__metadata__"),
    ],
)  # fmt: skip
def test_malformed_files_are_rejected_clearly(tmp_path, header, data, header_size, message):
    path = raw_file(tmp_path / "bad.safetensors", header, data, header_size)
    with pytest.raises(SafetensorsError, match=message):
        read_safetensors(path)


def test_truncated_and_non_json_files_are_rejected(tmp_path):
    (tmp_path / "short").write_bytes(b"\x01\x02")
    with pytest.raises(SafetensorsError, match="too short"):
        read_safetensors(tmp_path / "short")
    (tmp_path / "garbage").write_bytes(struct.pack("<Q", 4) + b"\xff\xfe{[")
    with pytest.raises(SafetensorsError, match="not valid UTF-8 JSON"):
        read_safetensors(tmp_path / "garbage")
    (tmp_path / "list").write_bytes(struct.pack("<Q", 2) + b"[]")
    with pytest.raises(SafetensorsError, match="JSON object"):
        read_safetensors(tmp_path / "list")
    with pytest.raises(SafetensorsError, match="does not exist"):
        read_safetensors(tmp_path / "missing")


def test_shapes_are_checked_against_expected_before_reading(tmp_path):
    write_safetensors(tmp_path / "m.safetensors", {"w": np.zeros((2, 3), np.float32)})
    with pytest.raises(SafetensorsError, match=r"shape \[2, 3\] but the config needs \[3, 2\]"):
        read_safetensors(tmp_path / "m.safetensors", expected_shapes={"w": (3, 2)})


def test_save_and_from_pretrained_round_trip(tmp_path):
    model = GPT(TINY, seed=4)
    model.save_pretrained(tmp_path)
    assert json.loads((tmp_path / "config.json").read_text())["n_embd"] == 8
    loaded = GPT.from_pretrained(tmp_path)
    assert loaded.config == TINY
    for name, p in model.named_parameters().items():
        np.testing.assert_array_equal(loaded.named_parameters()[name].data, p.data)


def test_from_pretrained_accepts_hub_style_keys_and_ignores_mask_buffers(tmp_path):
    """The hub's gpt2 files have no `transformer.` prefix and carry attn.bias / masked_bias buffers."""
    model = GPT(TINY, seed=4)
    tensors = {name.removeprefix("transformer."): p.data for name, p in model.named_parameters().items()}
    tensors["h.0.attn.bias"] = np.tril(np.ones((1, 1, 8, 8), np.float32))
    tensors["h.0.attn.masked_bias"] = np.array(-1e4, np.float32)
    tensors["lm_head.weight"] = model.params["transformer.wte.weight"].data
    write_safetensors(tmp_path / "model.safetensors", tensors)
    (tmp_path / "config.json").write_text(json.dumps(TINY.to_hf_dict()))
    loaded = GPT.from_pretrained(tmp_path)
    idx = np.arange(6).reshape(1, 6)
    np.testing.assert_array_equal(loaded(idx)[0], model(idx)[0])


def _folder_with(tmp_path, tensors, config=TINY):
    write_safetensors(tmp_path / "model.safetensors", tensors)
    (tmp_path / "config.json").write_text(json.dumps(config.to_hf_dict()))
    return tmp_path


def test_from_pretrained_rejects_shapes_that_disagree_with_the_config(tmp_path):
    GPT(TINY).save_pretrained(tmp_path)
    wider = GPTConfig(vocab_size=13, n_positions=8, n_embd=12, n_layer=2, n_head=2)
    (tmp_path / "config.json").write_text(json.dumps(wider.to_hf_dict()))
    with pytest.raises(CheckpointError, match="the config needs"):
        GPT.from_pretrained(tmp_path)


def test_from_pretrained_rejects_missing_and_unexpected_tensors(tmp_path):
    tensors = {n: p.data for n, p in GPT(TINY).named_parameters().items()}
    del tensors["transformer.h.1.ln_2.bias"]
    with pytest.raises(CheckpointError, match="missing tensors"):
        GPT.from_pretrained(_folder_with(tmp_path / "a", tensors))
    tensors["transformer.h.1.ln_2.bias"] = np.zeros(8, np.float32)
    tensors["transformer.h.7.ln_2.bias"] = np.zeros(8, np.float32)
    with pytest.raises(CheckpointError, match="unexpected tensor"):
        GPT.from_pretrained(_folder_with(tmp_path / "b", tensors))


def test_from_pretrained_rejects_bad_folders_and_configs(tmp_path):
    with pytest.raises(CheckpointError, match="not a folder"):
        GPT.from_pretrained(tmp_path / "nowhere")
    GPT(TINY).save_pretrained(tmp_path)
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(CheckpointError, match="not valid JSON"):
        GPT.from_pretrained(tmp_path)
    for bad, message in [({"model_type": "llama"}, "model_type"), ({"activation_function": "relu"}, "GELU"),
                         ({"n_head": 3}, "divisible"), ({"n_layer": -1}, "positive")]:  # fmt: skip
        (tmp_path / "config.json").write_text(json.dumps({**TINY.to_hf_dict(), **bad}))
        with pytest.raises(CheckpointError, match=message):
            GPT.from_pretrained(tmp_path)
    (tmp_path / "config.json").write_text(json.dumps(TINY.to_hf_dict()))
    (tmp_path / "model.safetensors").write_bytes(b"\xff" * 16)
    with pytest.raises(CheckpointError, match="exceeds the file"):
        GPT.from_pretrained(tmp_path)
