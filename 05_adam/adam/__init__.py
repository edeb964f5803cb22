"""adam: Adam (Kingma & Ba, 2014) and its family of optimizers in NumPy, with the paper's experiments.

Modules: `optim` (the optimizers), `schedules` (learning-rate schedules), `nn` (the small networks the
experiments train), `experiments` (Figures 1, 2 and the Section 6.4 study), `toy` (2-D test functions),
`figures` (PNG + CSV output), `bench` (step time next to torch.optim). The package import itself loads
nothing, so `python -m adam` can pick the BLAS thread count before NumPy starts.
"""

__version__ = "0.1.0"
