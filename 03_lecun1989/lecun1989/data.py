"""The 1989 data set, approximated from MNIST: 7291 training and 2007 test digits, 16x16, in [-1, 1].

LeCun et al. (1989) trained on 7291 zip code digits and tested on 2007, each
normalised to a 16x16 grey-level image scaled to [-1, 1]. That data set is not public, so,
as in karpathy/lecun1989-repro, we draw a random sample of the same sizes from MNIST:

    prepro(seed) -> {x_train (7291, 16, 16), y_train (7291, 10), label_train (7291,), index_train (7291,), ...}

- which digits: the first 7291 of a seeded permutation of the 60k training split, and
  the first 2007 of the 10k test split (one `numpy.random.Generator`, train drawn first);
- resizing 28x28 -> 16x16: bilinear interpolation written as two small matrices,
  `R @ image @ R.T`, matching `torch.nn.functional.interpolate(mode="bilinear",
  align_corners=False, antialias=False)` (the repro's choice; a parity test checks it);
- pixels: 0..255 -> [-1, 1] by `p / 127.5 - 1` (white background 0 becomes -1);
- targets: +1 for the true class, -1 for the nine others (the paper's output units are
  scaled tanh units, trained towards targets inside their range).

The `.npz` is written with fixed zip timestamps and a fixed array order, so the same seed
gives the same bytes on every run (the reference iterates over a Python `set` of split
names, so its sample depends on the interpreter's set order).

This module does not load MNIST itself (that is `shared.data.load_mnist`) and does no
augmentation (see `train.py`).
"""

from __future__ import annotations

import io
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from shared.checkpoint import CheckpointError
from shared.checkpoint import load as load_arrays
from shared.data import cache_dir, load_mnist
from shared.seeding import make_rng

__all__ = [
    "N_TEST",
    "N_TRAIN",
    "SIZE",
    "DataFormatError",
    "bilinear_matrix",
    "default_path",
    "ensure_prepro",
    "load_prepro",
    "prepro",
    "resize_bilinear",
    "save_npz",
]

N_TRAIN, N_TEST = 7291, 2007  # the paper's training and test set sizes
SIZE = 16  # the paper's images are 16x16
N_CLASSES = 10
SPLITS = ("train", "test")
MAX_PREPRO_BYTES = 256 * 2**20  # the real file is 12 MB; a header claiming more is refused before any array is read


class DataFormatError(ValueError):
    """A prepro or checkpoint file is missing, unreadable, or holds the wrong arrays."""


# --------------------------------------------------------------------------- resizing


def bilinear_matrix(n_in: int, n_out: int) -> np.ndarray:
    """(n_out, n_in) matrix R with R @ v = v resized by bilinear interpolation, half-pixel centres.

    Output pixel i samples the input at s = (i + 0.5) * n_in / n_out - 0.5, clamped at 0
    (align_corners=False), and mixes its two neighbours floor(s) and floor(s) + 1 (clamped
    to the last pixel) with weights 1 - frac(s) and frac(s). No antialiasing: when shrinking,
    pixels between the samples are simply skipped, as in PyTorch with antialias=False.
    """
    if n_in < 1 or n_out < 1:
        raise ValueError(f"sizes must be positive, got n_in={n_in}, n_out={n_out}")
    source = (np.arange(n_out) + 0.5) * (n_in / n_out) - 0.5  # (n_out,)
    source = np.maximum(source, 0.0)
    left = np.floor(source).astype(np.int64)
    right = np.minimum(left + 1, n_in - 1)
    weight_right = source - left
    R = np.zeros((n_out, n_in))
    rows = np.arange(n_out)
    np.add.at(R, (rows, left), 1.0 - weight_right)
    np.add.at(R, (rows, right), weight_right)  # left == right at the last pixel: weights still sum to 1
    return R


def resize_bilinear(images: np.ndarray, size: int = SIZE) -> np.ndarray:
    """Resize square images (N, H, H) to (N, size, size), float64, separably: R @ image @ R.T."""
    images = np.asarray(images)
    if images.ndim != 3 or images.shape[1] != images.shape[2]:
        raise ValueError(f"expected square images of shape (N, H, H), got {images.shape}")
    R = bilinear_matrix(images.shape[1], size)  # (size, H)
    return R @ images.astype(np.float64) @ R.T  # (N, size, size)


# --------------------------------------------------------------------------- deterministic .npz


def save_npz(path: str | os.PathLike, arrays: dict[str, np.ndarray]) -> Path:
    """Like np.savez, but byte-identical for identical arrays: fixed member order and timestamps.

    np.savez stamps each zip member with the current time; here every member gets
    1980-01-01 (the zip epoch). Written to a temporary file and renamed, so a crash
    never leaves a half-written file under the final name.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, array in arrays.items():
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            member = io.BytesIO()
            array = np.asarray(array)  # (np.ascontiguousarray would turn 0-d arrays into 1-d ones)
            np.lib.format.write_array(member, array if array.flags.c_contiguous else array.copy(), allow_pickle=False)
            archive.writestr(info, member.getvalue())
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(buffer.getvalue())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


# --------------------------------------------------------------------------- the prepro


def _sample(images: np.ndarray, labels: np.ndarray, n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    if n > len(images):
        raise ValueError(f"cannot draw {n} digits from a split of {len(images)}")
    index = rng.permutation(len(images))[:n]  # (n,) which MNIST digits
    x = resize_bilinear(images[index]) / 127.5 - 1.0  # (n, 16, 16) in [-1, 1]
    label = labels[index].astype(np.uint8)  # (n,)
    y = np.full((n, N_CLASSES), -1.0, dtype=np.float32)  # (n, 10)
    y[np.arange(n), label] = 1.0
    return {"x": x.astype(np.float32), "y": y, "label": label, "index": index.astype(np.int64)}


def prepro(
    seed: int = 1337,
    n_train: int = N_TRAIN,
    n_test: int = N_TEST,
    dataset: str = "mnist",
) -> dict[str, np.ndarray]:
    """The 1989-sized data set as a dict of arrays: x_*, y_*, label_*, index_* for train and test."""
    rng = make_rng(seed)
    arrays = {}
    for split, n in (("train", n_train), ("test", n_test)):  # a fixed order: train draws first
        images, labels = load_mnist(dataset, split)
        for key, value in _sample(images, labels, n, rng).items():
            arrays[f"{key}_{split}"] = value
    arrays["seed"] = np.array(seed, dtype=np.int64)
    return arrays


def default_path(seed: int = 1337) -> Path:
    """Where `prepro` output lives: the user data cache, one file per seed."""
    return cache_dir() / "lecun1989" / f"digits1989_seed{seed}.npz"


def load_prepro(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Load and validate a prepro file: shapes, dtypes, value ranges, one-hot +-1 targets.

    The file is read by `shared.checkpoint.load`, which checks every array's header against
    the bytes the file holds and against MAX_PREPRO_BYTES before allocating, and refuses pickle.
    """
    path = Path(path)
    if not path.is_file():
        what = "is a folder, not a file" if path.is_dir() else "does not exist"
        raise DataFormatError(f"prepro file {path} {what}; build it: python -m lecun1989 prepro")
    try:
        arrays, _ = load_arrays(path, MAX_PREPRO_BYTES, require_meta=False)
    except CheckpointError as error:
        raise DataFormatError(f"prepro file: {error}") from None
    for split in SPLITS:
        for key in ("x", "y", "label"):
            if f"{key}_{split}" not in arrays:
                raise DataFormatError(
                    f"prepro file {path} has no '{key}_{split}' array; rebuild it: python -m lecun1989 prepro --force"
                )
        x, y, label = arrays[f"x_{split}"], arrays[f"y_{split}"], arrays[f"label_{split}"]
        n = len(x)
        if x.shape != (n, SIZE, SIZE) or y.shape != (n, N_CLASSES) or label.shape != (n,) or n == 0:
            raise DataFormatError(
                f"prepro file {path}: {split} arrays have shapes x {x.shape}, y {y.shape}, label {label.shape}; "
                f"expected (N, {SIZE}, {SIZE}), (N, {N_CLASSES}), (N,)"
            )
        if x.dtype != np.float32 or y.dtype != np.float32:
            raise DataFormatError(f"prepro file {path}: {split} arrays must be float32, got {x.dtype}, {y.dtype}")
        if not np.all(np.isfinite(x)) or x.min() < -1.0 or x.max() > 1.0:
            raise DataFormatError(f"prepro file {path}: {split} pixels must be finite and in [-1, 1]")
        if not np.issubdtype(label.dtype, np.integer):
            raise DataFormatError(f"prepro file {path}: {split} labels must be integers, got {label.dtype}")
        if label.max() >= N_CLASSES or not np.array_equal(y.argmax(1), label) or not np.all(np.abs(y) == 1.0):
            raise DataFormatError(f"prepro file {path}: {split} targets are not +-1 one-hot codes of the labels")
    return arrays


def ensure_prepro(seed: int = 1337, path: str | os.PathLike | None = None, log=print) -> dict[str, np.ndarray]:
    """Load the prepro file for `seed`, building it first if it does not exist yet."""
    path = Path(path) if path else default_path(seed)
    if not path.is_file():
        log(f"prepro: building the 1989-sized data set (seed {seed}) at {path}")
        save_npz(path, prepro(seed))
    return load_prepro(path)
