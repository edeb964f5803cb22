"""python -m lecun1989 <command> [options]: the 1989 zip code ConvNet, from scratch in NumPy.

commands:
  prepro    build the 7291/2007 16x16 digit set from MNIST (cached; --force rebuilds)
  train     the 1989 network, 23 passes of batch-size-1 SGD (about 35 s); the default command
            (--modern: karpathy's modern.py changes, 120 passes; --no-shift, --dropout 0 ... switch one off)
  repro     rerun the README results tables and write results.json (--only faithful|plain_tanh|modern)
  sweep     choose the 1989 learning rate on held-out training digits (never the test set)
  bench     our batch-size-1 training loop next to the same loop in PyTorch
"""

from __future__ import annotations

import argparse
import functools
import shutil
import sys
import time
from pathlib import Path

from shared.cli import (
    App,
    CLIError,
    bounded_int,
    header,
    positive_float,
    positive_int,
    prepare_out,
    probability,
    wrote,
)
from shared.results import write_results

from .data import N_TEST, N_TRAIN, default_path, ensure_prepro, load_prepro, prepro, save_npz
from .model import Config, Net
from .optim import OPTIMIZERS
from .train import FAITHFUL, MODERN, RunConfig, run_record, summary, train, with_overrides

# the README's rows: the paper's network, the same with the repro's plain tanh, the modern variant
CONFIGURATIONS = {
    "faithful": FAITHFUL,
    "plain_tanh": RunConfig(model=Config(tanh="plain")),  # the repro's run: plain tanh, constant lr 0.03
    "modern": MODERN,
}
SEED = 1337  # the repro's seed: initialisation, shifts and dropout (and the MNIST sample)
MAX_PASSES = 10_000  # a pass is a few seconds: more would be a typo, not a plan
ASSETS = Path(__file__).resolve().parent.parent / "assets"  # the README's figures
FIGURES = ("h1_kernels.png", "error_per_pass.png", "misclassified_test.png")

app = App("lecun1989", "03_lecun1989", __doc__, default="train")


def add_data_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-seed", type=bounded_int(0, 2**32 - 1), default=SEED, help=f"seed of the MNIST sample ({SEED})"
    )
    parser.add_argument("--data", type=Path, default=None, help="prepro .npz to use (default: the cache)")


def load_data(args) -> dict:
    if args.data is not None:
        return load_prepro(args.data)
    return ensure_prepro(args.data_seed)


def describe(run: RunConfig) -> None:
    stats = Net(run.model).stats()
    print("model stats:")
    for layer, counts in stats.items():
        print(
            f"  {layer:6s} units {counts['units']:5d}  connections {counts['connections']:6d}  "
            f"parameters {counts['parameters']:5d}"
        )
    print(f"settings: {run_record(run)}")


# --------------------------------------------------------------------------- prepro


def cmd_prepro(args) -> None:
    """Write the sample for seed --seed to --data, --out/<name>, or the cache; --force rebuilds it."""
    if args.data is not None and args.out is not None:
        raise CLIError("give --data FILE or --out DIR for the prepro file, not both")
    if args.data is not None:
        path = args.data
    elif args.out is not None:
        path = prepare_out(args) / default_path(args.seed).name
    else:
        path = default_path(args.seed)
    if path.exists() and not path.is_file():
        raise CLIError(f"{path} is not a file")
    header(args, prepro_file=path)  # not file=: header() takes that as its stream
    if path.is_file() and not args.force:
        print(f"prepro: {path} exists (use --force to rebuild)")
    else:
        save_npz(path, prepro(args.seed))
        wrote(path)
    data = load_prepro(path)
    for split in ("train", "test"):
        x = data[f"x_{split}"]
        counts = " ".join(str(c) for c in (data[f"label_{split}"][:, None] == range(10)).sum(0))
        print(f"{split}: x {x.shape} in [{x.min():.2f}, {x.max():.2f}], per class: {counts}")


prepro_parser = app.command(
    "prepro", cmd_prepro, help=f"build the {N_TRAIN}/{N_TEST} 16x16 digit set from MNIST (cached)", seed=SEED
)
prepro_parser.add_argument("--data", type=Path, default=None, help="write the prepro .npz here (default: the cache)")


# --------------------------------------------------------------------------- train


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
    out = prepare_out(args)  # before the data and the training: a refusal costs nothing
    data = load_data(args)
    header(args, out=out)
    describe(run)
    result = train(run, data, out, plots=not args.no_plots)
    print(f"done in {result.seconds:.1f}s")
    wrote(*sorted(str(path) for path in out.iterdir()))


train_parser = app.command(
    "train", cmd_train, help="train the network; print the repro's eval lines after each pass", seed=SEED
)
add_data_args(train_parser)
t = train_parser
t.add_argument("--modern", action="store_true", help="start from karpathy's modern.py settings")
t.add_argument("--passes", type=bounded_int(1, MAX_PASSES), help="passes over the training set (23; modern 120)")
t.add_argument("--lr", type=positive_float, help="first learning rate (SGD 0.05; modern AdamW 1e-3)")
t.add_argument("--lr-final", type=positive_float,
               help="decay linearly to this rate (SGD 0.0015; modern 1e-4); equal to --lr: constant")  # fmt: skip
t.add_argument("--optimizer", choices=OPTIMIZERS,
               help="sgd (default), sdlm (the paper's diagonal Levenberg-Marquardt) or adamw (modern)")  # fmt: skip
t.add_argument("--activation", choices=("tanh", "relu"), help="hidden units: scaled tanh (1989) or relu")
t.add_argument("--output", choices=("tanh", "linear"), help="tanh + MSE (1989) or linear + softmax CE")
t.add_argument("--tanh", choices=("scaled", "plain"), help="scaled 1.7159 tanh(2x/3) (paper) or tanh (repro)")
t.add_argument("--dropout", type=probability, help="dropout before H3 (1989: 0; modern 0.25)")
t.add_argument("--shift", action=argparse.BooleanOptionalAction, help="+-1 pixel shift augmentation")
t.add_argument("--no-plots", action="store_true", help="skip the PNGs")


# --------------------------------------------------------------------------- repro


def cmd_repro(args) -> None:
    started = time.perf_counter()
    names = [name for name in CONFIGURATIONS if name in (args.only or CONFIGURATIONS)]  # table order
    if args.assets and not (ASSETS.parent / "README.md").is_file():
        raise CLIError(f"--assets writes beside the folder's README, which is not at {ASSETS.parent} (install with -e)")
    out = prepare_out(args)
    data = load_data(args)
    header(args, rows=",".join(names), out=out)
    metrics = {}
    for name in names:
        run = with_overrides(CONFIGURATIONS[name], seed=args.seed)
        print(f"== {name}")
        describe(run)
        result = train(run, data, out / name)
        metrics[name] = {**summary(result), "seconds": round(result.seconds, 1)}
        print(f"{name}: done in {result.seconds:.1f}s")
    path = write_results(out, metrics, time.perf_counter() - started, args.seed)
    wrote(path, *(out / name for name in names))
    if args.assets:
        copied = []
        ASSETS.mkdir(exist_ok=True)
        for name in names:
            for figure in FIGURES:
                if (out / name / figure).is_file():
                    copied.append(shutil.copyfile(out / name / figure, ASSETS / f"{name}_{figure}"))
        wrote(*copied)


repro_parser = app.command(
    "repro",
    cmd_repro,
    help="rerun the README results tables (every row unless --only) and write results.json",
    only=list(CONFIGURATIONS),
    seed=SEED,
)
add_data_args(repro_parser)
repro_parser.add_argument("--assets", action="store_true", help=f"copy the rows' PNGs to {ASSETS} (the README's)")


# --------------------------------------------------------------------------- sweep


def cmd_sweep(args) -> None:
    from .sweep import choose, holdout_split, sweep

    started = time.perf_counter()
    seeds = args.seeds or ([args.seed] if args.seed is not None else [1, 2, 3])  # --seed N: that one seed
    args.seed = seeds[0]  # the header's and results.json's seed
    out = prepare_out(args)
    data = load_data(args)
    header(args, seeds=" ".join(map(str, seeds)), jobs=args.jobs, out=out)
    base = with_overrides(FAITHFUL, passes=args.passes, tanh=args.tanh, optimizer=args.optimizer)
    held = args.holdout
    holdout_split(data, held)  # refuses a holdout that leaves no digits on one side, before anything is printed
    print(f"sweep: training on the first {len(data['x_train']) - held} training digits, validating on the last {held}")
    log = functools.partial(print, flush=True)
    rows = sweep(base, data, args.lrs, args.decays, seeds, args.holdout, log=log, jobs=args.jobs)
    chosen = choose(rows)
    print("mean over seeds (validation error, loss; train error):")
    for m in sorted(chosen["settings"], key=lambda m: (m["val_error"], m["val_loss"])):
        print(f"  lr {m['lr']:g} decay {m['decay']:g}: {100 * m['val_error']:.2f}%, {m['val_loss']:.4e}; "
              f"{100 * m['train_error']:.2f}%")  # fmt: skip
    best = chosen["best"]
    final = "" if best["decay"] == 1 else f" --lr-final {best['lr'] * best['decay']:g}"
    command = f"python -m lecun1989 train --optimizer {args.optimizer} --lr {best['lr']:g}{final}"
    print(f"chosen: lr {best['lr']:g} decay {best['decay']:g}: {command}")
    metrics = {"chosen": best, "settings": chosen["settings"], "runs": rows}
    wrote(write_results(out, metrics, time.perf_counter() - started, args.seed))


sweep_parser = app.command(
    "sweep",
    cmd_sweep,
    help="choose the SGD learning rate on held-out training digits (seeds 1 2 3)",
    seeds=True,
    seed=None,
)
add_data_args(sweep_parser)
s = sweep_parser
s.add_argument("--lrs", type=positive_float, nargs="+", default=[0.01, 0.02, 0.03, 0.05, 0.07, 0.1])
s.add_argument("--decays", type=positive_float, nargs="+", default=[1.0, 0.1, 0.03, 0.01],
               help="final rate as a fraction of the first (1: constant; 0.1: linear decay to lr/10)")  # fmt: skip
s.add_argument("--holdout", type=positive_int, default=1000, help="last training digits kept for validation")
s.add_argument("--passes", type=bounded_int(1, MAX_PASSES), default=23, help="passes over the training part (23)")
s.add_argument("--tanh", choices=("scaled", "plain"), help="scaled 1.7159 tanh(2x/3) (paper) or tanh (repro)")
s.add_argument("--optimizer", choices=("sgd", "sdlm"), default="sgd", help="sgd or sdlm (the paper's)")
s.add_argument("--jobs", type=bounded_int(1, 64), default=1, help="runs trained at once, one process each (1)")


# --------------------------------------------------------------------------- bench


def cmd_bench(args) -> int:
    from .bench import run_bench

    return run_bench(args)


bench_parser = app.command(
    "bench", cmd_bench, help="time our training loop next to the same loop in PyTorch", seed=SEED
)
bench_parser.add_argument(
    "--examples", type=bounded_int(1, N_TRAIN), default=2000, help="examples per timed loop (default 2000)"
)
bench_parser.add_argument(
    "--repeats", type=bounded_int(1, 100), default=3, help="timed loops per side, best kept (default 3)"
)
bench_parser.add_argument("--lr", type=positive_float, default=0.03, help="SGD rate of both loops (0.03)")


def main(argv=None) -> int:
    return app.main(argv)


if __name__ == "__main__":
    sys.exit(main())
