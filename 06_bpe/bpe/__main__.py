"""python -m bpe <command> [options]: byte-pair encoding, from Sennrich et al. (2015) to GPT-2/GPT-4.

commands:
  demo      the paper's toy example, then a small byte-level training (the default command)
  toy       the paper's Algorithm 1 on its toy vocabulary
  learn     Sennrich BPE merges, like subword-nmt's learn-bpe:   learn -s 10000 < corpus > codes
  apply     segment text with them, like subword-nmt's apply-bpe: apply -c codes < in > out
  train     train minbpe-style tokenizers, print every merge, save .model/.vocab files
  encode    text -> token ids with GPT-2, GPT-4 (cl100k_base) or a trained .model
  decode    token ids -> text
  repro     rerun the README results table, write results.json (--only NAME, repeatable)
  bench     our speed next to the slow trainer, subword-nmt and tiktoken
  figures   draw the README's figures (compression vs vocabulary size, token lengths)

learn, apply, encode and decode are filters: they read stdin (or -i FILE) and write stdout (or
-o FILE, which must not be one of the inputs and is not replaced without --force). The other
commands write to --out (default runs/06_bpe/<command>).
"""

from __future__ import annotations

import argparse
import os
import stat
import sys
import time
from pathlib import Path

from shared.cli import App, CLIError, bounded_int, header, positive_int, prepare_out, wrote

from . import sennrich
from .basic import BasicTokenizer
from .corpus import DATA_NAMES, decode_utf8, get_encoding, read_file_text, read_input_text
from .regex_tokenizer import PATTERNS, RegexTokenizer

MAX_VOCAB = 1_000_000  # tiktoken's largest vocabulary (o200k) has 200k tokens
MAX_SYMBOLS = 1_000_000

app = App("bpe", "06_bpe", __doc__, default="demo")


# --------------------------------------------------------------------------- filters: stdin/-i in, stdout/-o out


def _no_out_folder(args) -> None:
    if args.out is not None:
        raise CLIError(f"{args.command} writes to stdout or to -o FILE; --out names a folder, which it does not use")


def _output_path(args, *inputs: str | None) -> Path | None:
    """The -o file, checked before any work: not an input, not a folder, not replaced without --force."""
    if args.output in (None, "-"):
        return None
    path = Path(args.output)
    if path.is_dir():
        raise CLIError(f"-o {path} is a folder; give a file name")
    if path.exists():
        for given in inputs:
            if given in (None, "-"):
                same = _stdin_stat() is not None and os.path.samestat(_stdin_stat(), path.stat())
            else:
                same = Path(given).exists() and os.path.samefile(given, path)
            if same:
                raise CLIError(f"-o {path} is also an input; writing it would destroy the input. Choose another file")
        if not args.force:
            raise CLIError(f"{path} already exists; pass --force to replace it, or choose another -o")
    return path


def _stdin_stat():
    """stdin's file status when it is a regular file (`< file`), else None (a pipe, a terminal)."""
    try:
        status = os.fstat(sys.stdin.fileno())
    except (OSError, ValueError, AttributeError):
        return None
    return status if stat.S_ISREG(status.st_mode) else None


def _read(path: str | None) -> str:
    """The text of -i FILE, or of stdin for None or '-': UTF-8, line endings untouched (\\r\\n changes ids)."""
    if path not in (None, "-"):
        return read_file_text(path)
    stream = getattr(sys.stdin, "buffer", None)
    if stream is None:  # a test's replacement stdin that holds text
        return sys.stdin.read()
    return decode_utf8(stream.read(), "stdin")


def _write(path: Path | None, text: str) -> None:
    """`text` to the -o file or to stdout, as UTF-8 with newlines untouched."""
    if path is not None:
        path.write_bytes(text.encode("utf-8"))
        return
    sys.stdout.flush()
    stream = getattr(sys.stdout, "buffer", None)
    if stream is None:
        sys.stdout.write(text)
    else:
        stream.write(text.encode("utf-8"))
        stream.flush()


def cmd_learn(args) -> None:
    _no_out_folder(args)
    output = _output_path(args, args.input)
    lines = _read(args.input).splitlines(keepends=True)  # like subword-nmt's codecs readers: str.splitlines
    merges = sennrich.learn_bpe(lines, args.symbols, args.min_frequency, verbose=args.verbose)
    text = sennrich.CODES_HEADER + "\n" + "".join(f"{left} {right}\n" for left, right in merges)
    _write(output, text)
    if output is not None:
        wrote(output)


def cmd_apply(args) -> None:
    _no_out_folder(args)
    output = _output_path(args, args.input, args.codes)
    if not Path(args.codes).is_file():
        raise CLIError(f"{args.codes}: no such codes file")
    bpe = sennrich.BPE(Path(args.codes), merges=args.merges, separator=args.separator)
    lines = _read(args.input).splitlines(keepends=True)
    _write(output, "".join(bpe.process_line(line) for line in lines))
    if output is not None:
        wrote(output)


def _tokenizer(args):
    """The tokenizer named by --model FILE.model (trained here) or --encoding (OpenAI's)."""
    if args.model is None:
        return get_encoding(args.encoding or "gpt2")
    if args.encoding is not None:
        raise CLIError("give --encoding or --model, not both")
    path = Path(args.model)
    if not path.is_file():
        raise CLIError(f"--model {path}: no such file (`python -m bpe train` writes .model files)")
    with open(path, "rb") as f:
        f.readline(1024)
        pattern = f.readline(1 << 20).rstrip(b"\r\n")
    kind = RegexTokenizer if pattern else BasicTokenizer  # the second line is the split pattern, empty for basic
    return kind().load(path, allow_pattern=args.allow_pattern)


def cmd_encode(args) -> None:
    _no_out_folder(args)
    output = _output_path(args, args.input, args.model)
    tokenizer = _tokenizer(args)
    text = _read(args.input)
    if isinstance(tokenizer, (RegexTokenizer, BasicTokenizer)):
        ids = tokenizer.encode(text, allowed_special="all" if args.allow_special else "none_raise")
    else:
        ids = tokenizer.encode(text, allowed_special="all" if args.allow_special else set())
    _write(output, " ".join(map(str, ids)) + "\n")
    if output is not None:
        wrote(output)


def cmd_decode(args) -> None:
    _no_out_folder(args)
    output = _output_path(args, args.input, args.model)
    tokenizer = _tokenizer(args)
    ids = []
    for position, field in enumerate(_read(args.input).split()):
        if not (field.isascii() and field.isdigit()):
            raise ValueError(f"token id {field[:20]!r} at position {position} is not a non-negative integer")
        ids.append(int(field))
    _write(output, tokenizer.decode(ids))
    if output is not None:
        wrote(output)


# --------------------------------------------------------------------------- demo, toy, train


def run_toy() -> None:
    """The paper's Algorithm 1 on its toy vocabulary, then the same words through subword-nmt's rules."""
    vocab = {"l o w </w>": 5, "l o w e r </w>": 2, "n e w e s t </w>": 6, "w i d e s t </w>": 3}
    print("Sennrich et al. (2015), Algorithm 1, on the toy vocabulary", vocab)
    for i, (left, right) in enumerate(sennrich.paper_algorithm_1(vocab, 10)):
        print(f"  merge {i + 1:2d}: {left} {right} -> {left}{right}")
    lines = ["low " * 5, "lower " * 2, "newest " * 6, "widest " * 3]
    merges = sennrich.learn_bpe(lines, 10)
    print("The same words with subword-nmt's rules (</w> glued to the last character, ties -> largest pair):")
    for i, (left, right) in enumerate(merges):
        print(f"  merge {i + 1:2d}: {left} {right} -> {left}{right}")
    bpe = sennrich.BPE(merges)
    for line in ("lower newest", "lowest widest", "slower"):
        print(f"  {line!r:18} -> {bpe.process_line(line)!r}")


def cmd_toy(args) -> None:
    header(args)
    run_toy()


def cmd_demo(args) -> None:
    header(args)
    run_toy()
    text = read_input_text("taylorswift.txt")
    tokenizer = RegexTokenizer()
    started = time.perf_counter()
    tokenizer.train(text, 256 + 64)
    seconds = time.perf_counter() - started
    print(f"\nRegexTokenizer (GPT-4 split pattern) trained to vocab 320 on taylorswift.txt in {seconds:.2f}s;")
    print("its last merges:")
    for (left, right), idx in list(tokenizer.merges.items())[-8:]:
        print(f"  {tokenizer.vocab[left]!r} + {tokenizer.vocab[right]!r} -> {tokenizer.vocab[idx]!r} ({idx})")
    ids = tokenizer.encode(text)
    print(
        f"taylorswift.txt: {len(text.encode())} bytes -> {len(ids)} tokens "
        f"({len(text.encode()) / len(ids):.2f} bytes/token); round trip exact: {tokenizer.decode(ids) == text}"
    )


def cmd_train(args) -> None:
    """Like minbpe's train.py: train, print every merge, save `.model` and `.vocab` files."""
    text = read_input_text(args.input)
    out = prepare_out(args)
    header(args, out=out, vocab_size=args.vocab_size)
    kinds = ["basic", "regex"] if args.tokenizer == "both" else [args.tokenizer]
    paths = []
    for kind in kinds:
        tokenizer = BasicTokenizer() if kind == "basic" else RegexTokenizer(PATTERNS[args.pattern])
        started = time.perf_counter()
        tokenizer.train(text, args.vocab_size, verbose=not args.quiet)
        seconds = time.perf_counter() - started
        paths += tokenizer.save(out / kind)
        ids = tokenizer.encode_ordinary(text)
        print(
            f"{kind}: trained to vocab {tokenizer.vocab_size} in {seconds:.2f}s; "
            f"{len(text.encode())} bytes -> {len(ids)} tokens"
        )
    wrote(*paths)


# --------------------------------------------------------------------------- repro, bench, figures


def cmd_repro(args) -> None:
    from .repro import run_repro

    out = prepare_out(args)
    header(args, out=out)
    run_repro(out, args.only)


def cmd_bench(args) -> None:
    from .bench import run_bench

    out = prepare_out(args)
    header(args, out=out)
    run_bench(args, out)


def cmd_figures(args) -> None:
    from .figures import draw_figures

    out = prepare_out(args)
    header(args, out=out)
    wrote(*draw_figures(out, args.vocab_size))


# --------------------------------------------------------------------------- the parser


def _filter_io(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("-i", "--input", help="input file (default: stdin)")
    parser.add_argument("-o", "--output", help=f"{what} file (default: stdout); not replaced without --force")


app.command("demo", cmd_demo, help="the toy example and a small training (the default command)")
app.command("toy", cmd_toy, help="the paper's Algorithm 1 on its toy vocabulary")

learn = app.command("learn", cmd_learn, help="learn Sennrich BPE merges (subword-nmt's learn-bpe)")
_filter_io(learn, "codes")
learn.add_argument("-s", "--symbols", type=bounded_int(0, MAX_SYMBOLS), default=10000, help="merges (default: 10000)")
learn.add_argument("--min-frequency", type=positive_int, default=2, help="stop when the best pair is rarer (2)")
learn.add_argument("-v", "--verbose", action="store_true", help="print each merge to stderr")

apply = app.command("apply", cmd_apply, help="segment text with learned merges (subword-nmt's apply-bpe)")
apply.add_argument("-c", "--codes", required=True, help="codes file from `learn`")
_filter_io(apply, "output")
apply.add_argument("-m", "--merges", type=bounded_int(-1, MAX_SYMBOLS), default=-1, help="use the first N (all)")
apply.add_argument("-s", "--separator", default="@@", help="suffix of non-final subwords (default: @@)")

for name, text in (("encode", "text -> token ids"), ("decode", "token ids -> text")):
    command = app.command(name, cmd_encode if name == "encode" else cmd_decode, help=text)
    command.add_argument("--encoding", choices=["gpt2", "cl100k_base"], default=None, help="OpenAI's (default: gpt2)")
    command.add_argument("--model", default=None, help="a .model file written by `train` (instead of --encoding)")
    command.add_argument(
        "--allow-pattern", action="store_true", help="accept a .model whose split pattern is not GPT-2's or GPT-4's"
    )
    _filter_io(command, "output")
    if name == "encode":
        command.add_argument("--allow-special", action="store_true", help="encode <|endoftext|> etc. as special ids")

train = app.command("train", cmd_train, help="train minbpe-style tokenizers, print their merges, save them")
train.add_argument(
    "--input",
    default="taylorswift.txt",
    help=f"a text file or a data name ({', '.join(DATA_NAMES)}; default %(default)s)",
)
train.add_argument("--vocab-size", type=bounded_int(256, MAX_VOCAB), default=512, help="256 bytes + merges (512)")
train.add_argument("--tokenizer", choices=["basic", "regex", "both"], default="both")
train.add_argument("--pattern", choices=sorted(PATTERNS), default="gpt4", help="split pattern of `regex` (gpt4)")
train.add_argument("-q", "--quiet", action="store_true", help="do not print every merge")

app.command(
    "repro",
    cmd_repro,
    help="rerun the README results table, write results.json",
    only=["taylorswift_512", "shakespeare_10000", "sennrich", "gpt2", "cl100k_base"],
)


def _bench_parser():
    from .bench import PARTS, add_arguments

    parser = app.command("bench", cmd_bench, help="speed: trainers, subword-nmt, tiktoken", only=PARTS)
    add_arguments(parser)


_bench_parser()

figures = app.command("figures", cmd_figures, help="draw the README figures (06_bpe/assets: --out 06_bpe/assets)")
figures.add_argument("--vocab-size", type=bounded_int(257, 100_000), default=10000, help="trained vocabulary (10000)")


def main(argv: list[str] | None = None) -> int:
    return app.main(argv)


if __name__ == "__main__":
    sys.exit(main())
