"""Command line: train one model, sample from a checkpoint, or rerun the README's results table.

python -m makemore                       # the lecture-2 MLP, 200k steps (a minute or two)
python -m makemore --model wavenet       # any of: bigram-count bigram-nn mlp mlp-bn wavenet rnn gru
python -m makemore --model mlp --max-steps 5000 --lr 0.05 --seed 1 --out runs/try
python -m makemore --sample-only runs/mlp/model.npz
python -m makemore repro [--only mlp]    # every model with the lecture's settings -> results.json
python -m makemore seeds --model mlp --seeds 0 1 2 3   # one run per seed: the spread of the dev loss
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from shared.data import DataError
from shared.progress import Progress
from shared.results import output_dir, write_results
from shared.seeding import make_rng

from .bigram import BigramNet, bigram_counts, bigram_nll, bigram_probabilities, sample_bigram
from .data import build_dataset, load_names, split_names
from .models import build_model, count_parameters
from .plots import plot_count_matrix, plot_embedding, plot_loss, plot_lr_finder
from .train import (
    RECIPES,
    Recipe,
    evaluate,
    load_checkpoint,
    make_datasets,
    read_npz,
    sample_names,
    save_checkpoint,
    seed_spread,
    seed_spread_line,
    train_model,
    with_overrides,
)

ALL_MODELS = ("bigram-count", "bigram-nn", "mlp", "mlp-bn", "wavenet", "rnn", "gru")
BIGRAM_FORMAT = "makemore-bigram-v1"


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def positive_float(text: str) -> float:
    value = float(text)
    if not (value > 0 and np.isfinite(value)):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def non_negative_float(text: str) -> float:
    value = float(text)
    if not (value >= 0 and np.isfinite(value)):
        raise argparse.ArgumentTypeError(f"must be a non-negative number, got {text}")
    return value


def non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m makemore",
        description="Character-level language models on names (makemore, Zero to Hero lectures 2-5) in NumPy.",
    )
    parser.add_argument(
        "command",
        nargs="?",
        choices=("train", "repro", "seeds"),
        default="train",
        help="train one model (default), rerun every model of the README table, or train --model once per seed",
    )
    parser.add_argument("--model", choices=ALL_MODELS, default="mlp", help="which model to train (default mlp)")
    parser.add_argument("--only", choices=ALL_MODELS, help="repro: run only this model")
    parser.add_argument("--max-steps", type=positive_int, help="training steps (default: the lecture's)")
    parser.add_argument("--batch-size", type=positive_int, help="minibatch size (default 32)")
    parser.add_argument("--lr", type=positive_float, help="initial learning rate (default: the lecture's)")
    parser.add_argument("--eval-every", type=positive_int, help="steps between dev evaluations")
    parser.add_argument("--seed", type=non_negative_int, default=0, help="seed for init, batches and sampling")
    parser.add_argument(
        "--seeds", type=non_negative_int, nargs="+", default=list(range(8)), help="seeds: the seeds to train (0-7)"
    )
    parser.add_argument("--split-seed", type=non_negative_int, default=42, help="seed of the 80/10/10 split")
    parser.add_argument("--num-samples", type=positive_int, default=20, help="names to sample at the end")
    parser.add_argument("--smoothing", type=non_negative_float, default=1.0, help="bigram-count: add-k (default 1)")
    parser.add_argument("--data", help="a names file (one lowercase name per line; default names.txt)")
    parser.add_argument("--out", help="output folder (default runs/<model>, or runs/repro)")
    parser.add_argument("--sample-only", metavar="CHECKPOINT", help="load a checkpoint and print samples")
    return parser


def say(message: str) -> None:
    print(message, flush=True)


# ----------------------------------------------------------------------------- bigram models


def run_bigram_count(split, names, args, out: Path) -> dict:
    x_all, y_all = build_dataset(names, 1)
    counts_all = bigram_counts(x_all[:, 0], y_all)
    nll_all = bigram_nll(bigram_probabilities(counts_all, args.smoothing), x_all[:, 0], y_all)
    say(f"bigram-count: NLL over all {len(y_all)} bigrams with +{args.smoothing:g} smoothing: {nll_all:.4f}")
    plot_count_matrix(out / "counts.png", counts_all)
    data = {k: build_dataset(split[k], 1) for k in ("train", "dev", "test")}
    P = bigram_probabilities(bigram_counts(data["train"][0][:, 0], data["train"][1]), args.smoothing)
    metrics = {"nll_all": nll_all, "smoothing": args.smoothing}
    losses = {k: bigram_nll(P, x[:, 0], y) for k, (x, y) in data.items()}
    say("bigram-count, counts from the train split: " + " | ".join(f"{k} {v:.4f}" for k, v in losses.items()))
    for k, loss in losses.items():  # inf (a bigram never seen in train, no smoothing) is stored as JSON null
        metrics[f"{k}_loss"] = loss if np.isfinite(loss) else None
    np.savez(out / "model.npz", meta=np.array(json.dumps({"format": BIGRAM_FORMAT, "model": "bigram-count"})), P=P)
    return metrics | {"samples": sample_bigram(P, args.num_samples, make_rng(args.seed))}


def run_bigram_nn(split, names, args, out: Path) -> dict:
    data = {k: build_dataset(split[k], 1) for k in ("train", "dev", "test")}
    x, y = data["train"][0][:, 0], data["train"][1]
    steps, lr = args.max_steps or 200, args.lr or 50.0
    net = BigramNet(rng=args.seed)
    progress = Progress(steps, "bigram-nn")
    losses, evals, done = [], [], 0
    chunk = args.eval_every or 50
    while done < steps:  # full-batch steps in chunks, with the dev loss after each
        n = min(chunk, steps - done)
        losses += net.fit(x, y, steps=n, lr=lr, reg=0.01)
        done += n
        evals.append((done, net.nll(data["dev"][0][:, 0], data["dev"][1])))
        progress.update(done, loss=losses[-1])
        progress.write(f"bigram-nn step {done}: train loss (with L2) {losses[-1]:.4f} | dev loss {evals[-1][1]:.4f}")
    progress.close()
    metrics = {f"{k}_loss": net.nll(xs[:, 0], ys) for k, (xs, ys) in data.items()}
    x_all, y_all = build_dataset(names, 1)
    metrics["nll_all"] = net.nll(x_all[:, 0], y_all)
    metrics["steps"] = steps
    plot_loss(out / "loss.png", np.array(losses), evals, title="bigram-nn (full batch, train + L2)", window=1)
    P = net.probabilities()
    np.savez(out / "model.npz", meta=np.array(json.dumps({"format": BIGRAM_FORMAT, "model": "bigram-nn"})), P=P)
    return metrics | {"samples": sample_bigram(P, args.num_samples, make_rng(args.seed))}


# ----------------------------------------------------------------------------- neural models


def lr_finder(split, args, out: Path) -> None:
    """Lecture 2: 1,000 steps, the i-th at lr 10^e_i with e from -3 to 0; plot loss against e."""
    model = build_model("mlp", rng=args.seed)
    data = make_datasets(split, model.config)
    exponents = np.linspace(-3, 0, 1000)
    result = train_model(
        model,
        {"train": data["train"]},
        Recipe(max_steps=1000, eval_every=1000),
        rng=args.seed,
        description="lr finder",
        lr_at=lambda step: 10 ** exponents[step],
    )
    plot_lr_finder(out / "lr_finder.png", exponents, result["losses"])


def recipe_from(name: str, args) -> Recipe:
    recipe = with_overrides(
        RECIPES[name], max_steps=args.max_steps, batch_size=args.batch_size, lr=args.lr, eval_every=args.eval_every
    )
    recipe.check()
    return recipe


def train_seed(name: str, split, recipe: Recipe, seed: int, periodic_dev: bool = True):
    """Initialise from `seed`, train (minibatches from seed + 1), and evaluate every split."""
    model = build_model(name, rng=seed)
    data = make_datasets(split, model.config)
    say(f"{name}: {count_parameters(model):,} parameters, {len(data['train'][0]):,} training examples, {recipe}")
    watched = data if periodic_dev else {"train": data["train"]}  # without dev, no dev loss every eval_every steps
    result = train_model(model, watched, recipe, rng=seed + 1, description=f"{name} seed {seed}")
    metrics = {f"{k}_loss": evaluate(model, *data[k]) for k in ("train", "dev", "test")}
    return model, result, metrics


def run_neural(name: str, split, args, out: Path) -> dict:
    recipe = recipe_from(name, args)
    if name == "mlp":
        lr_finder(split, args, out)
    model, result, metrics = train_seed(name, split, recipe, args.seed)
    metrics |= {
        "parameters": count_parameters(model),
        "steps": recipe.max_steps,
        "train_seconds": round(result["seconds"], 1),
    }
    say(f"{name}: train {metrics['train_loss']:.4f} | dev {metrics['dev_loss']:.4f} | test {metrics['test_loss']:.4f}")
    save_checkpoint(out / "model.npz", model, {"metrics": metrics})
    plot_loss(out / "loss.png", result["losses"], result["evals"], title=name)
    if not model.recurrent:
        plot_embedding(out / "embedding.png", model.net.layers[0].weight)
    if name == "mlp-bn":
        from .diagnostics import run_diagnostics

        metrics["diagnostics"] = run_diagnostics(split, out, seed=args.seed, steps=min(1000, recipe.max_steps))
    return metrics | {"samples": sample_names(model, args.num_samples, make_rng(args.seed))}


def run_seeds(name: str, split, args) -> dict:
    """One run per seed: how far apart single runs land (each lecture number is one such run)."""
    if name not in RECIPES:
        raise ValueError(f"seeds trains the neural models ({', '.join(RECIPES)}), not {name}")
    recipe = recipe_from(name, args)
    runs = {}
    for seed in args.seeds:
        *_, metrics = train_seed(name, split, recipe, seed, periodic_dev=False)
        runs[str(seed)] = metrics
        say(f"{name} seed {seed}: " + " | ".join(f"{k[:-5]} {v:.4f}" for k, v in metrics.items()))
    summary = {
        key: seed_spread([metrics[key] for metrics in runs.values()]) for key in ("train_loss", "dev_loss", "test_loss")
    }
    if len(runs) > 1:
        say(seed_spread_line(name, [metrics["dev_loss"] for metrics in runs.values()]))
    return {"model": name, "steps": recipe.max_steps, "runs": runs, "summary": summary}


def run_one(name: str, split, names, args, out: Path) -> dict:
    if name == "bigram-count":
        metrics = run_bigram_count(split, names, args, out)
    elif name == "bigram-nn":
        metrics = run_bigram_nn(split, names, args, out)
    else:
        metrics = run_neural(name, split, args, out)
    say(f"{name} samples: " + ", ".join(metrics["samples"]))
    return metrics


def sample_only(path: str, args) -> None:
    arrays = read_npz(path)
    if "meta" not in arrays:
        raise ValueError(f"{path} is not a makemore checkpoint (no 'meta' entry)")
    try:
        meta = json.loads(str(arrays["meta"]))
    except ValueError as error:
        raise ValueError(f"{path} has a malformed 'meta' entry ({error})") from None
    P = arrays.get("P") if isinstance(meta, dict) and meta.get("format") == BIGRAM_FORMAT else None
    if P is not None:
        if P.shape != (27, 27) or not np.allclose(P.sum(axis=1), 1.0, atol=1e-6):
            raise ValueError(f"{path}: the bigram table must be 27x27 with rows summing to 1")
        names = sample_bigram(P, args.num_samples, make_rng(args.seed))
    else:
        names = sample_names(load_checkpoint(path), args.num_samples, make_rng(args.seed))
    for name in names:
        print(name)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.sample_only:
            sample_only(args.sample_only, args)
            return 0
        started = time.perf_counter()
        names = load_names(args.data)
        split = split_names(names, seed=args.split_seed)
        say(f"{len(names)} names: {len(split.train)} train, {len(split.dev)} dev, {len(split.test)} test")
        if args.command == "repro":
            out = output_dir(args.out, "repro")
            results = {}
            for name in [args.only] if args.only else ALL_MODELS:
                t0 = time.perf_counter()
                results[name] = run_one(name, split, names, args, output_dir(out / name, name))
                results[name]["seconds"] = round(time.perf_counter() - t0, 1)
                say(f"{name} finished in {results[name]['seconds']:.1f} s")
                write_results(out, results, time.perf_counter() - started, args.seed)  # after each model
        elif args.command == "seeds":
            out = output_dir(args.out, f"seeds-{args.model}")
            results = run_seeds(args.model, split, args)
            write_results(out, results, time.perf_counter() - started, args.seeds[0])
        else:
            out = output_dir(args.out, args.model)
            metrics = run_one(args.model, split, names, args, out)
            write_results(out, {"model": args.model, **metrics}, time.perf_counter() - started, args.seed)
        say(f"finished in {time.perf_counter() - started:.1f} s; outputs in {out}")
    except (DataError, FileNotFoundError, ValueError, FloatingPointError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
