"""DeepNeuralNetwork's shared utilities: the plumbing every project uses, none of it model code.

Thin and model-free by design: every numbered project folder builds its own models and
only borrows these helpers. Import the submodule you need:

    from shared.data import fetch, load_mnist, read_text
    from shared.gradcheck import gradcheck, numerical_gradient
    from shared.plotting import plot_curves, image_grid, save_figure
    from shared.progress import Progress
    from shared.seeding import make_rng
    from shared.results import output_dir, write_results
    from shared.testing import oracle, data_or_skip   # in tests
    from shared.cli import App, prepare_out, positive_int, ...  # the command line and its error path
    from shared.threads import set_threads      # BLAS threads (shared.cli calls it)
    from shared.checks import finite, positive, integer, check_memory
    from shared.checkpoint import save, load, load_json
    from shared.timing import best_time, best_times, Timer, matmul_gflops

and the commands `python -m shared.data` (the data report) and `python -m shared.exercises`.
"""

__version__ = "0.1.0"
