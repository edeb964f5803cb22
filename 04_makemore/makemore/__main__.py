"""Character-level language models on names (makemore, Zero to Hero lectures 2-5) in NumPy.

python -m makemore                                # train: the lecture-2 MLP, 200k steps
python -m makemore train --model wavenet          # any of: bigram-count bigram-nn mlp mlp-bn wavenet rnn gru
python -m makemore sample runs/04_makemore/train/model.npz
python -m makemore repro [--only mlp ...]         # every model with the lecture's settings -> results.json
python -m makemore seeds --model mlp --seeds 0 1 2 3    # one run per seed: the spread of the dev loss
python -m makemore reference --model mlp          # the lectures' own code, trained by PyTorch
python -m makemore figures                        # the README's figures (about a minute)
python -m makemore bench                          # steps per second, ours against PyTorch
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

from shared.checks import non_negative
from shared.cli import (
    App,
    bounded_int,
    header,
    non_negative_float,
    positive_float,
    prepare_out,
    wrote,
)
from shared.progress import Progress
from shared.results import write_results
from shared.seeding import make_rng

from .bigram import BigramNet, bigram_counts, bigram_nll, bigram_probabilities, sample_bigram
from .checkpoint import load, save_bigram, save_model
from .data import build_dataset, load_names, split_names
from .models import DEFAULTS, build_model, count_parameters
from .plots import plot_count_matrix, plot_embedding, plot_loss, plot_lr_finder
from .train import (
    RECIPES,
    Recipe,
    check_batch,
    evaluate,
    make_datasets,
    sample_names,
    seed_spread,
    seed_spread_line,
    train_model,
    with_overrides,
)

ALL_MODELS = ("bigram-count", "bigram-nn", "mlp", "mlp-bn", "wavenet", "rnn", "gru")
DEFAULT_CHECKPOINT = Path("runs") / "04_makemore" / "train" / "model.npz"
MAX_STEPS = 10_000_000  # 50x the lectures' 200k; the loss history alone is 4 bytes a step
MAX_SAMPLES = 100_000
MAX_SMOOTHING = 1e6


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
    save_bigram(out / "model.npz", P, "bigram-count")
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
    save_bigram(out / "model.npz", P, "bigram-nn")
    return metrics | {"samples": sample_bigram(P, args.num_samples, make_rng(args.seed))}


# ----------------------------------------------------------------------------- neural models


def lr_finder(split, seed: int, out: Path) -> None:
    """Lecture 2: 1,000 steps, the i-th at lr 10^e_i with e from -3 to 0; plot loss against e."""
    model = build_model("mlp", rng=seed)
    data = make_datasets(split, model.config)
    exponents = np.linspace(-3, 0, 1000)
    result = train_model(
        model,
        {"train": data["train"]},
        Recipe(max_steps=1000, eval_every=1000),
        rng=seed,
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
    check_batch(DEFAULTS[name], recipe.batch_size, len(make_datasets(split, DEFAULTS[name])["train"][1]))
    if name == "mlp":
        lr_finder(split, args.seed, out)
    model, result, metrics = train_seed(name, split, recipe, args.seed)
    metrics |= {
        "parameters": count_parameters(model),
        "steps": recipe.max_steps,
        "train_seconds": round(result["seconds"], 1),
    }
    say(f"{name}: train {metrics['train_loss']:.4f} | dev {metrics['dev_loss']:.4f} | test {metrics['test_loss']:.4f}")
    save_model(out / "model.npz", model, {"metrics": metrics})
    plot_loss(out / "loss.png", result["losses"], result["evals"], title=name)
    if not model.recurrent:
        plot_embedding(out / "embedding.png", model.net.layers[0].weight)
    if name == "mlp-bn":
        from .diagnostics import run_diagnostics

        metrics["diagnostics"] = run_diagnostics(split, out, seed=args.seed, steps=min(1000, recipe.max_steps))
    return metrics | {"samples": sample_names(model, args.num_samples, make_rng(args.seed))}


def run_one(name: str, split, names, args, out: Path) -> dict:
    if name == "bigram-count":
        metrics = run_bigram_count(split, names, args, out)
    elif name == "bigram-nn":
        metrics = run_bigram_nn(split, names, args, out)
    else:
        metrics = run_neural(name, split, args, out)
    say(f"{name} samples: " + ", ".join(metrics["samples"]))
    return metrics


def spread_over_runs(runs: dict[str, dict]) -> dict:
    """seed_spread of each split's loss over several runs (keys absent or null in a run are skipped)."""
    summary = {}
    for key in ("train_loss", "dev_loss", "test_loss"):
        values = [run[key] for run in runs.values() if run.get(key) is not None]
        if values:
            summary[key] = seed_spread(values)
    return summary


def load_split(args):
    """The names (`--data`, else names.txt) and the lectures' 80/10/10 split."""
    non_negative("--smoothing", args.smoothing, maximum=MAX_SMOOTHING)
    names = load_names(args.data)
    split = split_names(names, seed=args.split_seed)
    say(f"{len(names)} names: {len(split.train)} train, {len(split.dev)} dev, {len(split.test)} test")
    return names, split


# ----------------------------------------------------------------------------- commands


def cmd_train(args) -> int:
    out = prepare_out(args)
    header(args, model=args.model, out=out)
    started = time.perf_counter()
    names, split = load_split(args)
    metrics = run_one(args.model, split, names, args, out)
    path = write_results(out, {"model": args.model, **metrics}, time.perf_counter() - started, args.seed)
    say(f"finished in {time.perf_counter() - started:.1f} s")
    wrote(out / "model.npz", path)
    return 0


def cmd_sample(args) -> int:
    kind, model = load(args.checkpoint)
    rng = make_rng(args.seed)
    names = (
        sample_bigram(model, args.num_samples, rng) if kind == "bigram" else sample_names(model, args.num_samples, rng)
    )
    for name in names:
        print(name)
    return 0


def cmd_repro(args) -> int:
    out = prepare_out(args)
    rows = [name for name in ALL_MODELS if not args.only or name in args.only]  # table order, each row once
    header(args, rows=" ".join(rows), out=out)
    started = time.perf_counter()
    names, split = load_split(args)
    results, first_seed = {}, args.seeds[0] if args.seeds else args.seed
    for name in rows:
        t0 = time.perf_counter()
        if args.seeds:  # each row once per seed, and the spread
            runs = {}
            for seed in args.seeds:
                args.seed = seed
                runs[str(seed)] = run_one(name, split, names, args, out / name / f"seed-{seed}")
            results[name] = {"runs": runs, "summary": spread_over_runs(runs)}
        else:
            results[name] = run_one(name, split, names, args, out / name)
        results[name]["seconds"] = round(time.perf_counter() - t0, 1)
        say(f"{name} finished in {results[name]['seconds']:.1f} s")
        path = write_results(out, results, time.perf_counter() - started, first_seed)  # after each model
    say(f"finished in {time.perf_counter() - started:.1f} s")
    wrote(path)
    return 0


def cmd_seeds(args) -> int:
    """One run per seed: how far apart single runs land (each lecture number is one such run)."""
    if args.model not in RECIPES:
        raise ValueError(f"seeds trains the neural models ({', '.join(RECIPES)}), not {args.model}")
    seeds = args.seeds or list(range(8))
    out = prepare_out(args)
    header(args, model=args.model, seeds=" ".join(map(str, seeds)), out=out)
    started = time.perf_counter()
    _, split = load_split(args)
    recipe = recipe_from(args.model, args)
    runs = {}
    for seed in seeds:
        *_, metrics = train_seed(args.model, split, recipe, seed, periodic_dev=False)
        runs[str(seed)] = metrics
        say(f"{args.model} seed {seed}: " + " | ".join(f"{k[:-5]} {v:.4f}" for k, v in metrics.items()))
    if len(runs) > 1:
        say(seed_spread_line(args.model, [metrics["dev_loss"] for metrics in runs.values()]))
    results = {"model": args.model, "steps": recipe.max_steps, "runs": runs, "summary": spread_over_runs(runs)}
    wrote(write_results(out, results, time.perf_counter() - started, seeds[0]))
    return 0


def cmd_reference(args) -> int:
    from .reference import run_reference

    return run_reference(args)


def cmd_figures(args) -> int:
    """The README's figures: the bigram counts, the learning-rate finder, lecture 3's diagnostics."""
    from .diagnostics import run_diagnostics

    out = prepare_out(args)
    header(args, out=out)
    started = time.perf_counter()
    names, split = load_split(args)
    x, y = build_dataset(names, 1)
    paths = [plot_count_matrix(out / "counts.png", bigram_counts(x[:, 0], y))]
    lr_finder(split, args.seed, out)
    run_diagnostics(split, out, seed=args.seed, steps=1000)
    paths += [out / name for name in ("lr_finder.png", "activations.png", "update_ratios.png")]
    say(f"finished in {time.perf_counter() - started:.1f} s")
    wrote(*paths)
    return 0


def cmd_bench(args) -> int:
    from .bench import run_bench

    return run_bench(args)


# ----------------------------------------------------------------------------- the command line


def data_options(parser) -> None:
    parser.add_argument("--data", help="a names file, one lowercase name per line (default: names.txt)")
    parser.add_argument(
        "--split-seed", type=bounded_int(0, 2**32 - 1), default=42, help="seed of the 80/10/10 split (default 42)"
    )
    parser.add_argument(
        "--smoothing", type=non_negative_float, default=1.0, help="bigram-count: add-k smoothing (default 1)"
    )


def training_options(parser) -> None:
    data_options(parser)
    steps = bounded_int(1, MAX_STEPS)
    parser.add_argument("--max-steps", type=steps, help="training steps (default: the lecture's)")
    parser.add_argument("--batch-size", type=bounded_int(2), help="minibatch size (default 32)")
    parser.add_argument("--lr", type=positive_float, help="initial learning rate (default: the lecture's)")
    parser.add_argument("--eval-every", type=steps, help="steps between dev evaluations")
    samples(parser)


def samples(parser) -> None:
    parser.add_argument(
        "--num-samples", type=bounded_int(1, MAX_SAMPLES), default=20, help="names to sample (default 20)"
    )


app = App("makemore", "04_makemore", __doc__, default="train")

_train = app.command("train", cmd_train, help="train one model (the default command)")
_train.add_argument("--model", choices=ALL_MODELS, default="mlp", help="which model to train (default mlp)")
training_options(_train)

_sample = app.command("sample", cmd_sample, help="print names sampled from a checkpoint")
_sample.add_argument(
    "checkpoint", nargs="?", default=str(DEFAULT_CHECKPOINT), help=f"a model.npz (default: {DEFAULT_CHECKPOINT})"
)
samples(_sample)

_repro = app.command("repro", cmd_repro, help="rerun every model of the README table", only=ALL_MODELS, seeds=True)
training_options(_repro)

_seeds = app.command("seeds", cmd_seeds, help="train one model once per seed (default 0-7)", seeds=True)
_seeds.add_argument("--model", choices=ALL_MODELS, default="mlp", help="which model (default mlp)")
training_options(_seeds)

_reference = app.command(
    "reference", cmd_reference, help="the lectures' own models trained by PyTorch, per seed", seeds=True
)
_reference.add_argument("--model", choices=("mlp", "mlp-bn", "wavenet"), default="mlp-bn", help="which lecture's model")
_reference.add_argument("--steps", type=bounded_int(2, MAX_STEPS), default=200_000, help="steps (default 200,000)")
data_options(_reference)

_figures = app.command("figures", cmd_figures, help="draw the README's figures (counts, lr finder, diagnostics)")
data_options(_figures)

_bench = app.command("bench", cmd_bench, help="training steps per second, ours against PyTorch")
_bench.add_argument("--steps", type=bounded_int(1, 1_000_000), default=2000, help="timed steps per round (2000)")
_bench.add_argument("--rounds", type=bounded_int(1, 100), default=3, help="alternating rounds, best kept (3)")
_bench.add_argument("--models", nargs="+", default=["mlp", "wavenet"], choices=["mlp", "mlp-bn", "wavenet"])


def main(argv: list[str] | None = None) -> int:
    return app.main(argv)


if __name__ == "__main__":
    sys.exit(main())
