"""Command line: python -m lecun1989 {prepro,train,repro} ...

python -m lecun1989 prepro                 build the 7291/2007 16x16 data set (cached)
python -m lecun1989 [train]                the 1989 network, 23 passes of SGD (about 35 s)
python -m lecun1989 train --modern         karpathy's modern.py changes, 120 passes
python -m lecun1989 train --modern --no-shift --dropout 0   switch single changes off
python -m lecun1989 repro [--only NAME]    rerun the README results table, write results.json
                                           (NAME: faithful (default), plain_tanh, modern, all)
python -m lecun1989 sweep                  choose the 1989 learning rate on held-out training
                                           digits (never the test set); writes results.json
"""

from __future__ import annotations

import os

# Batch size 1 means tiny matrices, where BLAS threads cost more than they give: one thread,
# unless the caller says otherwise. Must happen before NumPy is imported.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import functools  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

from shared.data import DataError  # noqa: E402
from shared.results import output_dir, write_results  # noqa: E402

from .data import N_TEST, N_TRAIN, DataFormatError, default_path, ensure_prepro, prepro, save_npz  # noqa: E402
from .model import Config, Net  # noqa: E402
from .optim import OPTIMIZERS  # noqa: E402
from .train import FAITHFUL, MODERN, RunConfig, run_record, summary, train, with_overrides  # noqa: E402

# the README's rows: the paper's network, the same with the repro's plain tanh, the modern variant
CONFIGURATIONS = {
    "faithful": FAITHFUL,
    "plain_tanh": RunConfig(model=Config(tanh="plain")),  # the repro's run: plain tanh, constant lr 0.03
    "modern": MODERN,
}


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {value}")
    return value


def positive_float(text: str) -> float:
    value = float(text)
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def probability(text: str) -> float:
    value = float(text)
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(f"must be in [0, 1), got {text}")
    return value


def add_data_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-seed", type=int, default=1337, help="seed of the MNIST sample (default 1337)")
    parser.add_argument("--data", type=Path, default=None, help="prepro .npz to use (default: the cache)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m lecun1989", description="LeCun et al. 1989 zip code ConvNet, from scratch in NumPy."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    p = commands.add_parser("prepro", help=f"build the {N_TRAIN}/{N_TEST} 16x16 digit set from MNIST")
    add_data_args(p)
    p.add_argument("--force", action="store_true", help="rebuild even if the file exists")

    t = commands.add_parser("train", help="train the network, print the repro's eval lines each pass")
    add_data_args(t)
    t.add_argument("--modern", action="store_true", help="start from karpathy's modern.py settings")
    t.add_argument("--passes", type=positive_int, help="passes over the training set (23; modern 120)")
    t.add_argument("--lr", type=positive_float, help="first learning rate (SGD 0.05; modern AdamW 1e-3)")
    t.add_argument("--lr-final", type=positive_float,
                   help="decay linearly to this rate (SGD 0.0015; modern 1e-4); equal to --lr: constant")  # fmt: skip
    t.add_argument("--seed", type=int, default=1337, help="seed of initialisation, shifts and dropout")
    t.add_argument("--out", type=Path, help="output folder (default runs/faithful or runs/modern)")
    t.add_argument("--optimizer", choices=OPTIMIZERS,
                   help="sgd (default), sdlm (the paper's diagonal Levenberg-Marquardt) or adamw (modern)")  # fmt: skip
    t.add_argument("--activation", choices=("tanh", "relu"), help="hidden units: scaled tanh (1989) or relu")
    t.add_argument("--output", choices=("tanh", "linear"), help="tanh + MSE (1989) or linear + softmax CE")
    t.add_argument("--tanh", choices=("scaled", "plain"), help="scaled 1.7159 tanh(2x/3) (paper) or tanh (repro)")
    t.add_argument("--dropout", type=probability, help="dropout before H3 (1989: 0; modern 0.25)")
    t.add_argument("--shift", action=argparse.BooleanOptionalAction, help="+-1 pixel shift augmentation")
    t.add_argument("--no-plots", action="store_true", help="skip the PNGs")

    s = commands.add_parser("sweep", help="choose the SGD learning rate on held-out training digits")
    add_data_args(s)
    s.add_argument("--lrs", type=positive_float, nargs="+", default=[0.01, 0.02, 0.03, 0.05, 0.07, 0.1])
    s.add_argument("--decays", type=positive_float, nargs="+", default=[1.0, 0.1, 0.03, 0.01],
                   help="final rate as a fraction of the first (1: constant; 0.1: linear decay to lr/10)")  # fmt: skip
    s.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3], help="initialisation seeds per setting")
    s.add_argument("--holdout", type=positive_int, default=1000, help="last training digits kept for validation")
    s.add_argument("--passes", type=positive_int, default=23, help="passes over the training part (23)")
    s.add_argument("--tanh", choices=("scaled", "plain"), help="scaled 1.7159 tanh(2x/3) (paper) or tanh (repro)")
    s.add_argument("--optimizer", choices=("sgd", "sdlm"), default="sgd", help="sgd or sdlm (the paper's)")
    s.add_argument("--jobs", type=positive_int, default=1, help="runs trained at once, one process each (1)")
    s.add_argument("--out", type=Path, help="output folder (default runs/sweep)")

    r = commands.add_parser("repro", help="rerun the README results table and write results.json")
    add_data_args(r)
    r.add_argument("--only", choices=(*CONFIGURATIONS, "all"), default="faithful", help="which run (default faithful)")
    r.add_argument("--out", type=Path, help="output folder (default runs/repro_<only>)")
    r.add_argument("--seed", type=int, default=1337, help="seed of initialisation, shifts and dropout")
    return parser


def load_data(args) -> dict:
    if args.data is not None:
        from .data import load_prepro

        return load_prepro(args.data)
    return ensure_prepro(args.data_seed)


def cmd_prepro(args) -> None:
    path = args.data or default_path(args.data_seed)
    if path.is_file() and not args.force:
        print(f"prepro: {path} exists (use --force to rebuild)")
    else:
        save_npz(path, prepro(args.data_seed))
        print(f"prepro: wrote {path}")
    data = ensure_prepro(args.data_seed, path)
    for split in ("train", "test"):
        x = data[f"x_{split}"]
        counts = " ".join(str(c) for c in (data[f"label_{split}"][:, None] == range(10)).sum(0))
        print(f"{split}: x {x.shape} in [{x.min():.2f}, {x.max():.2f}], per class: {counts}")


def describe(run) -> None:
    stats = Net(run.model).stats()
    print("model stats:")
    for layer, counts in stats.items():
        print(
            f"  {layer:6s} units {counts['units']:5d}  connections {counts['connections']:6d}  "
            f"parameters {counts['parameters']:5d}"
        )
    print(f"settings: {run_record(run)}")


def cmd_train(args) -> None:
    base = MODERN if args.modern else FAITHFUL
    run = with_overrides(
        base,
        passes=args.passes,
        lr=args.lr,
        lr_final=args.lr_final,
        seed=args.seed,
        optimizer=args.optimizer,
        activation=args.activation,
        output=args.output,
        tanh=args.tanh,
        dropout=args.dropout,
        shift=args.shift,
    )
    data = load_data(args)
    out = output_dir(args.out, "modern" if args.modern else "faithful")
    describe(run)
    result = train(run, data, out, plots=not args.no_plots)
    print(f"done in {result.seconds:.1f}s; checkpoint, results.json and plots in {out}")


def cmd_repro(args) -> None:
    started = time.perf_counter()
    data = load_data(args)
    names = list(CONFIGURATIONS) if args.only == "all" else [args.only]
    out = output_dir(args.out, f"repro_{args.only}")
    metrics = {}
    for name in names:
        run = with_overrides(CONFIGURATIONS[name], seed=args.seed)
        print(f"== {name}")
        describe(run)
        result = train(run, data, out / name)
        metrics[name] = {**summary(result), "seconds": round(result.seconds, 1)}
        print(f"{name}: done in {result.seconds:.1f}s")
    path = write_results(out, metrics, time.perf_counter() - started, args.seed)
    print(f"wrote {path}")


def cmd_sweep(args) -> None:
    from .sweep import choose, sweep

    started = time.perf_counter()
    data = load_data(args)
    base = with_overrides(FAITHFUL, passes=args.passes, tanh=args.tanh, optimizer=args.optimizer)
    held = args.holdout
    print(f"sweep: training on the first {len(data['x_train']) - held} training digits, validating on the last {held}")
    log = functools.partial(print, flush=True)
    rows = sweep(base, data, args.lrs, args.decays, args.seeds, args.holdout, log=log, jobs=args.jobs)
    chosen = choose(rows)
    print("mean over seeds (validation error, loss; train error):")
    for m in sorted(chosen["settings"], key=lambda m: (m["val_error"], m["val_loss"])):
        print(f"  lr {m['lr']:g} decay {m['decay']:g}: {100 * m['val_error']:.2f}%, {m['val_loss']:.4e}; "
              f"{100 * m['train_error']:.2f}%")  # fmt: skip
    best = chosen["best"]
    final = "" if best["decay"] == 1 else f" --lr-final {best['lr'] * best['decay']:g}"
    command = f"python -m lecun1989 train --optimizer {args.optimizer} --lr {best['lr']:g}{final}"
    print(f"chosen: lr {best['lr']:g} decay {best['decay']:g}: {command}")
    out = output_dir(args.out, "sweep")
    write_results(out, {"chosen": best, "settings": chosen["settings"], "runs": rows}, time.perf_counter() - started,
                  args.seeds[0])  # fmt: skip
    print(f"wrote {out / 'results.json'}")


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help")):
        argv.insert(0, "train")  # `python -m lecun1989 [--passes 5 ...]` is the main job: train
    args = build_parser().parse_args(argv)
    try:
        {"prepro": cmd_prepro, "train": cmd_train, "repro": cmd_repro, "sweep": cmd_sweep}[args.command](args)
    except (DataError, DataFormatError, ValueError, FloatingPointError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
