"""Access to the registered data files, found locally or downloaded and verified.

Every data set the projects use is registered here by name (`mnist/train-images`,
`names.txt`, `gpt2/vocab.bpe`, ...) with its canonical URL and the SHA-256 of its
uncompressed content. `fetch(name)` returns a local path, looking in this order:

1. `$DNN_DATA_DIR` (CI and offline machines point it at a folder of the real files),
2. the user cache, `$XDG_CACHE_HOME/deepneuralnetwork` or `~/.cache/deepneuralnetwork`,
3. system folders where a distribution installs the data (Debian's
   `dataset-fashion-mnist` puts Fashion-MNIST in `/usr/share/datasets/fashion-mnist`),
4. a download into the cache: a progress line, a temporary file, a checksum, then an
   atomic rename. A download that does not match the checksum is deleted.

A file may be stored gzip-compressed (`foo.gz`) or plain (`foo`); the checksum is always
over the uncompressed bytes, so both forms verify against the same entry.

This module also has the readers several projects share: IDX (MNIST's format) to NumPy
uint8 arrays, and plain UTF-8 text. It does not do any preprocessing (scaling,
splitting, tokenizing): that belongs to the project that needs it.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = [
    "REGISTRY",
    "ChecksumError",
    "DataEntry",
    "DataError",
    "DataNotFoundError",
    "cache_dir",
    "fetch",
    "load_mnist",
    "read_bytes",
    "read_idx",
    "read_text",
    "register",
    "search_dirs",
]


class DataError(RuntimeError):
    """Base class of the data layer's errors."""


class DataNotFoundError(DataError):
    """The file is neither on disk nor downloadable (offline, or the URL is gone)."""


class ChecksumError(DataError):
    """A file's content does not match the registered SHA-256."""


@dataclass(frozen=True)
class DataEntry:
    """One registered file: where it lives locally and where it comes from."""

    name: str  # registry key, also the path relative to a data folder (without .gz)
    url: str  # canonical download address
    sha256: str  # of the uncompressed content
    system_dirs: tuple[str, ...] = ()  # extra folders where an OS package installs it

    @property
    def compressed_download(self) -> bool:
        return self.url.endswith(".gz")


_FASHION_DEBIAN = ("/usr/share/datasets/fashion-mnist",)
_MNIST_URL = "https://ossci-datasets.s3.amazonaws.com/mnist/"
_FASHION_URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
_MULTI30K_URL = "https://raw.githubusercontent.com/multi30k/dataset/master/data/task1/raw/"

REGISTRY: dict[str, DataEntry] = {}


def register(name: str, url: str, sha256: str, system_dirs: tuple[str, ...] = ()) -> DataEntry:
    """Add (or replace) a registry entry; returns it. Tests use this for fake entries."""
    entry = DataEntry(name, url, sha256.lower(), tuple(system_dirs))
    REGISTRY[name] = entry
    return entry


for _stem, _sha in {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}.items():
    register(f"mnist/{_stem}", f"{_MNIST_URL}{_stem}.gz", _sha)

for _stem, _sha in {
    "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
}.items():
    register(f"fashion-mnist/{_stem}", f"{_FASHION_URL}{_stem}.gz", _sha, _FASHION_DEBIAN)

register(
    "names.txt",
    "https://raw.githubusercontent.com/karpathy/makemore/master/names.txt",
    "0a30b5557f192f32ab962680889aac5f6fda0f4cecf40a6d0b5694f58ea8cc4d",
)
register(
    "tinyshakespeare.txt",
    "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt",
    "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed",
)
register(
    "taylorswift.txt",
    "https://raw.githubusercontent.com/karpathy/minbpe/master/tests/taylorswift.txt",
    "c2e39cb822d4ae0caac22152cefc306d466e31217a9c5524e493ad2b76792f57",
)
register(
    "gpt2/vocab.bpe",
    "https://openaipublic.blob.core.windows.net/gpt-2/encodings/main/vocab.bpe",
    "1ce1664773c50f3e0cc8842619a93edc4624525b728b188a9e0be33b7726adc5",
)
register(
    "gpt2/encoder.json",
    "https://openaipublic.blob.core.windows.net/gpt-2/encodings/main/encoder.json",
    "196139668be63f3b5d6574427317ae82f612a97c5d1cdaf36ed2256dbf636783",
)
register(
    "gpt4/cl100k_base.tiktoken",
    "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
    "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
)
for _stem, _sha in {
    "train.en": "460a15fbd157e34a7a9957ee388c1ca247fe47af3ef25fb50442af6c274e0fc6",
    "train.de": "2c2b73fd2b548fbcde3a875e0a78d6ee94d498bfdee6bd3eae3945779e9ddf72",
    "val.en": "1f2a23d992769b5b3d209b0a10dd0b77c08cceb1f20dfb97ed0aafa49d107227",
    "val.de": "660e09eb7e1da2f856ea13ee5ad3cf6d36b3d5b0b733c857e94c5747a3dfc660",
    "test_2016_flickr.en": "399a4382932c1aadd3ceb9bef1008d388a64c76d4ae4e9d4728c6f4301cac182",
    "test_2016_flickr.de": "4be6b5b3236b79c25475c6bb829800a7ce559e9ba7a1f6c2394fe4d40be46d16",
}.items():
    register(f"multi30k/{_stem}", f"{_MULTI30K_URL}{_stem}.gz", _sha)


# --------------------------------------------------------------------------- locations


def cache_dir() -> Path:
    """The user cache: `$XDG_CACHE_HOME/deepneuralnetwork` or `~/.cache/deepneuralnetwork`."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "deepneuralnetwork"


def search_dirs(entry: DataEntry) -> list[Path]:
    """The folders `fetch` looks in for `entry`, in order (the cache is also the download target)."""
    dirs = []
    if os.environ.get("DNN_DATA_DIR"):
        dirs.append(Path(os.environ["DNN_DATA_DIR"]).expanduser())
    dirs.append(cache_dir())
    dirs.extend(Path(d) for d in entry.system_dirs)
    return dirs


def _candidates(entry: DataEntry, folder: Path) -> list[Path]:
    relative = Path(entry.name)
    if folder in (Path(d) for d in entry.system_dirs):
        relative = Path(relative.name)  # system folders hold the files flat
    plain = folder / relative
    return [plain, plain.with_name(plain.name + ".gz")]


# --------------------------------------------------------------------------- reading and hashing


def _is_gzip(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(2) == b"\x1f\x8b"


def read_bytes(path: str | os.PathLike) -> bytes:
    """A file's content, gunzipped if it is gzip-compressed (detected by its magic bytes)."""
    path = Path(path)
    if _is_gzip(path):
        with gzip.open(path, "rb") as f:
            try:
                return f.read()
            except (OSError, EOFError) as error:
                raise DataError(f"{path} is not a valid gzip file ({error})") from None
    return path.read_bytes()


def _sha256_of(path: Path) -> str:
    return hashlib.sha256(read_bytes(path)).hexdigest()


_verified: dict[tuple[str, float, int], str] = {}  # (path, mtime, size) -> sha256, per process


def _verify(entry: DataEntry, path: Path) -> None:
    stat = path.stat()
    key = (str(path), stat.st_mtime, stat.st_size)
    if key not in _verified:
        try:
            _verified[key] = _sha256_of(path)
        except DataError as error:
            raise ChecksumError(f"{entry.name}: {error}") from None
    actual = _verified[key]
    if actual != entry.sha256:
        raise ChecksumError(
            f"{entry.name}: {path} has SHA-256 {actual} but {entry.sha256} was expected "
            f"(the file is corrupt or a different version). Delete it and fetch it again "
            f"from {entry.url}."
        )


# --------------------------------------------------------------------------- download


def _download(entry: DataEntry, target_dir: Path) -> Path:
    target_dir.mkdir(parents=True, exist_ok=True)
    suffix = ".gz" if entry.compressed_download else ""
    final = target_dir / Path(entry.name).name
    final = final.with_name(final.name + suffix)
    fd, tmp_name = tempfile.mkstemp(prefix=final.name + ".", suffix=".part", dir=target_dir)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            request = urllib.request.Request(entry.url, headers={"User-Agent": "deepneuralnetwork"})
            with urllib.request.urlopen(request, timeout=60) as response:
                total = int(response.headers.get("Content-Length") or 0)
                _copy_with_progress(response, out, total, entry.name)
        actual = _sha256_of(tmp)
        if actual != entry.sha256:
            raise ChecksumError(
                f"{entry.name}: the download from {entry.url} has SHA-256 {actual} but "
                f"{entry.sha256} was expected; nothing was saved."
            )
        os.replace(tmp, final)  # atomic: the final name only ever holds a verified file
        return final
    except (urllib.error.URLError, OSError, ValueError) as error:
        raise DataNotFoundError(_not_found_message(entry, error)) from None
    finally:
        if tmp.exists():
            tmp.unlink()


def _copy_with_progress(source, out, total: int, label: str) -> None:
    done, started, last = 0, time.monotonic(), 0.0
    while chunk := source.read(1 << 20):
        out.write(chunk)
        done += len(chunk)
        now = time.monotonic()
        if now - last > 0.5:
            last = now
            rate = done / max(now - started, 1e-9) / 1e6
            of_total = f" / {total / 1e6:.1f}" if total else ""
            print(
                f"\rdownloading {label}: {done / 1e6:.1f}{of_total} MB ({rate:.1f} MB/s)",
                end="",
                file=sys.stderr,
                flush=True,
            )
    print(f"\rdownloaded {label}: {done / 1e6:.1f} MB" + " " * 20, file=sys.stderr)


def _not_found_message(entry: DataEntry, error: object) -> str:
    relative = Path(entry.name)
    return (
        f"data file '{entry.name}' was not found and could not be downloaded ({error}).\n"
        f"  Download it from {entry.url}\n"
        f"  and put it (as {relative.name} or {relative.name}.gz) in {cache_dir() / relative.parent}\n"
        f"  or point DNN_DATA_DIR at a folder holding {relative} (or {relative}.gz).\n"
        f"  Looked in: {', '.join(str(d) for d in search_dirs(entry))}"
    )


# --------------------------------------------------------------------------- public API


def fetch(name: str, download: bool = True) -> Path:
    """Return a verified local path for the registered file `name` (maybe a `.gz`).

    Raises `KeyError` for an unknown name, `ChecksumError` for a file whose content is
    wrong, and `DataNotFoundError` (naming the URL and the folder to put the file in)
    when it is missing and cannot be downloaded.
    """
    if name not in REGISTRY:
        raise KeyError(f"unknown data file '{name}'; registered: {', '.join(sorted(REGISTRY))}")
    entry = REGISTRY[name]
    for folder in search_dirs(entry):
        for candidate in _candidates(entry, folder):
            if candidate.is_file():
                _verify(entry, candidate)
                return candidate
    if not download:
        raise DataNotFoundError(_not_found_message(entry, "downloads disabled"))
    target = cache_dir() / Path(entry.name).parent
    return _download(entry, target)


def read_text(name: str) -> str:
    """A registered text file's content, decoded as UTF-8."""
    return read_bytes(fetch(name)).decode("utf-8")


_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (plain or gzipped) into a NumPy array of its shape and type.

    IDX is MNIST's format: two zero bytes, a type code (0x08 = uint8), the number of
    dimensions, each dimension as a big-endian uint32, then the data in row-major order.
    """
    path = Path(path)
    data = read_bytes(path)
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _IDX_DTYPES:
        raise DataError(f"{path} is not an IDX file (bad magic number {data[:4].hex()})")
    ndim = data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataError(f"{path}: IDX header is truncated")
    shape = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    dtype = np.dtype(_IDX_DTYPES[data[2]])
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(data) - header != expected:
        raise DataError(
            f"{path}: IDX header says shape {shape} ({expected} bytes of data) but the file holds {len(data) - header}"
        )
    array = np.frombuffer(data, dtype=dtype, offset=header).reshape(shape)
    return array.astype(dtype.newbyteorder("="), copy=True)


def load_mnist(dataset: str = "mnist", split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """MNIST or Fashion-MNIST as uint8 arrays: images (N, 28, 28) and labels (N,).

    `dataset` is 'mnist' or 'fashion-mnist' (also 'fashion'); `split` is 'train' or 'test'.
    """
    dataset = {"fashion": "fashion-mnist"}.get(dataset, dataset)
    if dataset not in ("mnist", "fashion-mnist"):
        raise ValueError(f"dataset must be 'mnist' or 'fashion-mnist', got {dataset!r}")
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    prefix = "train" if split == "train" else "t10k"
    images = read_idx(fetch(f"{dataset}/{prefix}-images-idx3-ubyte"))
    labels = read_idx(fetch(f"{dataset}/{prefix}-labels-idx1-ubyte"))
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise DataError(f"{dataset} {split}: images {images.shape} and labels {labels.shape} disagree")
    return images, labels


# --------------------------------------------------------------------------- the data report

# Which project folders read each data set (by registry prefix); their data tests skip without it.
USED_BY = {
    "mnist/": ("02_mlp", "03_lecun1989", "05_adam"),
    "fashion-mnist/": ("02_mlp",),
    "names.txt": ("04_makemore",),
    "tinyshakespeare.txt": ("06_bpe", "08_gpt2"),
    "taylorswift.txt": ("06_bpe",),
    "gpt2/": ("06_bpe", "08_gpt2"),
    "gpt4/": ("06_bpe",),
    "multi30k/": ("07_transformer",),
}


def used_by(name: str) -> tuple[str, ...]:
    """The project folders that read the registered file `name`."""
    return next((folders for prefix, folders in USED_BY.items() if name.startswith(prefix)), ())


def report(download: bool = True, out=sys.stdout) -> int:
    """Print, for every registered file, where it was found (or download it); return how many are missing."""
    missing = 0
    for name in sorted(REGISTRY):
        try:
            where = str(fetch(name, download=download))
        except DataError as error:
            missing += 1
            reason = str(error).splitlines()[0]
            where = f"MISSING ({reason[:120]}); tests that skip: {', '.join(used_by(name)) or '-'}"
        print(f"{name:38s} {where}", file=out)
    print(
        f"{len(REGISTRY) - missing} of {len(REGISTRY)} data files found"
        + ("" if not missing else "; set DNN_DATA_DIR to a folder holding the missing ones (see the top README)"),
        file=out,
    )
    return missing


def main(argv: list[str] | None = None) -> int:
    """`python -m shared.data [--no-download]`: the data report (`nox -s data`)."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m shared.data", description=report.__doc__)
    parser.add_argument("--no-download", action="store_true", help="only look on disk")
    args = parser.parse_args(argv)
    report(download=not args.no_download)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
