"""Command line: python -m bpe [demo|toy|learn|apply|train|encode|decode|repro] ...

python -m bpe                                   the demo: the paper's toy example, then a small training
python -m bpe learn -s 10000 < corpus > codes   Sennrich BPE merges (subword-nmt's learn-bpe)
python -m bpe apply -c codes < in > out         segment text with them (subword-nmt's apply-bpe)
python -m bpe train --vocab-size 512 --input taylorswift.txt
                                                train minbpe-style tokenizers, print every merge, save models
python -m bpe encode --encoding gpt2 < text     token ids of GPT-2 (or cl100k_base = GPT-4)
python -m bpe decode --encoding gpt2 < ids      text of token ids
python -m bpe repro                             the README results table -> runs/repro/results.json
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from pathlib import Path

from . import sennrich
from .basic import BasicTokenizer
from .corpus import read_input_text
from .regex_tokenizer import PATTERNS, RegexTokenizer


@contextlib.contextmanager
def _input(path: str | None):
    """A text file, or stdin for None or '-', as UTF-8 with newlines kept as they are (\r\n changes token ids)."""
    newline = ""
    if path is None or path == "-":
        if hasattr(sys.stdin, "reconfigure"):
            sys.stdin.reconfigure(encoding="utf-8", newline=newline)
        yield sys.stdin
        return
    if not Path(path).is_file():
        raise SystemExit(f"error: {path}: no such file")
    with open(path, encoding="utf-8", newline=newline) as f:
        yield f


def _lines(source) -> list[str]:
    """Lines as subword-nmt's command line reads them (codecs readers: str.splitlines, so \r, \x0c,
    \x1c-\x1e, \x85, U+2028 and U+2029 also end a line), each with its line ending."""
    return source.read().splitlines(keepends=True)


@contextlib.contextmanager
def _output(path: str | None):
    """A text file, or stdout (as UTF-8, newlines untouched) for None or '-'."""
    if path is None or path == "-":
        if hasattr(sys.stdout, "reconfigure"):
            sys.stdout.reconfigure(encoding="utf-8", newline="")
        yield sys.stdout
        sys.stdout.flush()
        return
    with open(path, "w", encoding="utf-8", newline="") as f:
        yield f


# --------------------------------------------------------------------------- demo


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


def run_demo(args: argparse.Namespace) -> None:
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


# --------------------------------------------------------------------------- subcommands


def cmd_learn(args: argparse.Namespace) -> None:
    with _input(args.input) as source:
        lines = _lines(source)
    try:
        merges = sennrich.learn_bpe(lines, args.symbols, args.min_frequency, verbose=args.verbose)
    except ValueError as error:
        raise SystemExit(f"error: {error}") from None
    with _output(args.output) as out:
        sennrich.write_codes(merges, out)


def cmd_apply(args: argparse.Namespace) -> None:
    if not Path(args.codes).is_file():
        raise SystemExit(f"error: {args.codes}: no such codes file")
    try:
        bpe = sennrich.BPE(Path(args.codes), merges=args.merges, separator=args.separator)
    except ValueError as error:
        raise SystemExit(f"error: {error}") from None
    with _input(args.input) as source:
        lines = _lines(source)
    with _output(args.output) as out:
        for line in lines:
            out.write(bpe.process_line(line))


def _get_encoding(name: str):
    from shared.data import DataError

    from .pretrained import get_encoding

    try:
        return get_encoding(name)
    except DataError as error:
        raise SystemExit(f"error: {error}") from None


def cmd_encode(args: argparse.Namespace) -> None:
    encoding = _get_encoding(args.encoding)
    with _input(args.input) as source:
        text = source.read()
    allowed = "all" if args.allow_special else set()
    try:
        ids = encoding.encode(text, allowed_special=allowed)
    except ValueError as error:
        raise SystemExit(f"error: {error}") from None
    print(" ".join(map(str, ids)))


def cmd_decode(args: argparse.Namespace) -> None:
    encoding = _get_encoding(args.encoding)
    with _input(args.input) as source:
        fields = source.read().split()
    try:
        ids = [int(field) for field in fields]
        text = encoding.decode(ids)
    except ValueError as error:
        raise SystemExit(f"error: {error}") from None
    with _output(None) as out:
        out.write(text)


def cmd_train(args: argparse.Namespace) -> None:
    """Like minbpe's train.py: train, print every merge, save `.model` and `.vocab` files."""
    from shared.results import output_dir

    text = read_input_text(args.input)
    out = output_dir(args.out, "train")
    kinds = ["basic", "regex"] if args.tokenizer == "both" else [args.tokenizer]
    for kind in kinds:
        tokenizer = BasicTokenizer() if kind == "basic" else RegexTokenizer(PATTERNS[args.pattern])
        started = time.perf_counter()
        try:
            tokenizer.train(text, args.vocab_size, verbose=not args.quiet)
        except ValueError as error:
            raise SystemExit(f"error: {error}") from None
        seconds = time.perf_counter() - started
        model, vocab = tokenizer.save(out / kind)
        ids = tokenizer.encode_ordinary(text)
        print(
            f"{kind}: trained to vocab {tokenizer.vocab_size} in {seconds:.2f}s; "
            f"{len(text.encode())} bytes -> {len(ids)} tokens; saved {model} and {vocab}"
        )


def cmd_repro(args: argparse.Namespace) -> None:
    from .repro import run_repro

    run_repro(args.out, args.only)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bpe", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command")

    sub.add_parser("demo", help="the toy example and a small training (the default)")
    sub.add_parser("toy", help="the paper's Algorithm 1 on its toy vocabulary")

    learn = sub.add_parser("learn", help="learn Sennrich BPE merges (subword-nmt's learn-bpe)")
    learn.add_argument("-i", "--input", help="text file (default: stdin)")
    learn.add_argument("-o", "--output", help="codes file (default: stdout)")
    learn.add_argument("-s", "--symbols", type=int, default=10000, help="number of merges (default: %(default)s)")
    learn.add_argument("--min-frequency", type=int, default=2, help="stop when the best pair is rarer (default: 2)")
    learn.add_argument("-v", "--verbose", action="store_true", help="print each merge to stderr")

    apply = sub.add_parser("apply", help="segment text with learned merges (subword-nmt's apply-bpe)")
    apply.add_argument("-c", "--codes", required=True, help="codes file from `learn`")
    apply.add_argument("-i", "--input", help="text file (default: stdin)")
    apply.add_argument("-o", "--output", help="output file (default: stdout)")
    apply.add_argument("-m", "--merges", type=int, default=-1, help="use only the first N merges (default: all)")
    apply.add_argument("-s", "--separator", default="@@", help="suffix of non-final subwords (default: @@)")

    for name, text in (("encode", "text -> token ids"), ("decode", "token ids -> text")):
        cmd = sub.add_parser(name, help=f"{text} with OpenAI's GPT-2 or GPT-4 tokenizer")
        cmd.add_argument("--encoding", choices=["gpt2", "cl100k_base"], default="gpt2")
        cmd.add_argument("-i", "--input", help="input file (default: stdin)")
        if name == "encode":
            cmd.add_argument("--allow-special", action="store_true", help="encode <|endoftext|> etc. as special ids")

    train = sub.add_parser("train", help="train minbpe-style tokenizers and show their merges")
    train.add_argument("--input", default="taylorswift.txt", help="file or data name (default: %(default)s)")
    train.add_argument("--vocab-size", type=int, default=512, help="256 bytes + merges (default: %(default)s)")
    train.add_argument("--tokenizer", choices=["basic", "regex", "both"], default="both")
    train.add_argument("--pattern", choices=sorted(PATTERNS), default="gpt4", help="split pattern of `regex`")
    train.add_argument("--out", help="folder for the .model/.vocab files (default: runs/train)")
    train.add_argument("-q", "--quiet", action="store_true", help="do not print every merge")

    repro = sub.add_parser("repro", help="rerun the README results table, write results.json")
    repro.add_argument("--out", help="output folder (default: runs/repro)")
    repro.add_argument(
        "--only",
        choices=["taylorswift_512", "shakespeare_10000", "sennrich", "gpt2", "cl100k_base"],
        help="run one configuration",
    )
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    commands = {
        None: run_demo,
        "demo": run_demo,
        "toy": lambda a: run_toy(),
        "learn": cmd_learn,
        "apply": cmd_apply,
        "encode": cmd_encode,
        "decode": cmd_decode,
        "train": cmd_train,
        "repro": cmd_repro,
    }
    commands[args.command](args)


if __name__ == "__main__":
    main()
