import numpy as np
import pytest
from adam.toy import TOY_SETTINGS, noisy_quadratic, rosenbrock, trajectory

from shared.gradcheck import gradcheck


def test_toy_gradients_match_finite_differences():
    for point in ([-1.5, 2.0], [0.3, -0.7]):
        p = np.array(point)
        for f in (rosenbrock, noisy_quadratic):
            gradcheck(lambda f=f, p=p: f(p)[0], {"p": p}, {"p": f(p)[1]}).assert_ok()
    assert rosenbrock(np.array([1.0, 1.0]))[0] == 0.0


@pytest.mark.parametrize("function", sorted(TOY_SETTINGS))
def test_every_optimizer_moves_downhill_on_the_toy_functions(function):
    f = rosenbrock if function == "rosenbrock" else noisy_quadratic
    for name in TOY_SETTINGS[function]:
        path = trajectory(function, name, steps=300)
        assert path.shape == (301, 2) and np.isfinite(path).all()
        assert f(path[-1])[0] < f(path[0])[0], name


def test_unknown_toy_function_is_rejected():
    with pytest.raises(ValueError, match="unknown toy function"):
        trajectory("himmelblau", "Adam")
