"""DeepNeuralNetwork's shared utilities: data access, gradcheck, plotting, progress, seeding.

Thin and model-free by design: every numbered project folder builds its own models and
only borrows these helpers. Import the submodule you need:

    from shared.data import fetch, load_mnist, read_text
    from shared.gradcheck import gradcheck, numerical_gradient
    from shared.plotting import plot_curves, image_grid, save_figure
    from shared.progress import Progress
    from shared.seeding import make_rng
    from shared.results import output_dir, write_results
    from shared.testing import oracle          # in parity tests
"""

__version__ = "0.1.0"
