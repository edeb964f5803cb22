"""Value: every operation's gradient against central finite differences, plus graph mechanics and errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
from micrograd.engine import Value

from shared.gradcheck import gradcheck


def check_gradient(fn, *point: float, tolerance: float = 1e-6) -> None:
    """backward() of fn(Values at `point`) must match the numerical gradient of fn's data."""
    x = np.array(point, dtype=np.float64)
    inputs = [Value(v) for v in x]
    out = fn(*inputs)
    out.backward()
    analytic = np.array([v.grad for v in inputs])

    def f() -> float:
        return fn(*[Value(v) for v in x]).data

    gradcheck(f, {"x": x}, {"x": analytic}, tolerance=tolerance).assert_ok()


UNARY = {
    "neg": lambda a: -a,
    "exp": lambda a: a.exp(),
    "tanh": lambda a: a.tanh(),
    "sigmoid": lambda a: a.sigmoid(),
    "relu": lambda a: a.relu(),
    "pow_int": lambda a: a**3,
    "pow_negative_int": lambda a: a**-2,
    "add_constant": lambda a: a + 2.5,
    "radd": lambda a: 2.5 + a,
    "sub_constant": lambda a: a - 2.5,
    "rsub": lambda a: 2.5 - a,
    "mul_constant": lambda a: a * -1.5,
    "rmul": lambda a: -1.5 * a,
    "div_constant": lambda a: a / 4.0,
}
POSITIVE_ONLY = {
    "log": lambda a: a.log(),
    "pow_float": lambda a: a**2.5,
    "pow_negative_float": lambda a: a**-0.5,
    "sqrt": lambda a: a**0.5,
    "rpow": lambda a: 2.0**a,  # needs no positive a, but shares the points
}
NONZERO = {"rtruediv": lambda a: 3.0 / a}
BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "truediv": lambda a, b: a / b,
}


@pytest.mark.parametrize("name", sorted(UNARY))
@pytest.mark.parametrize("x", [-2.3, -0.4, 0.7, 1.9])
def test_unary_op_gradient_matches_finite_differences(name, x):
    check_gradient(UNARY[name], x)


@pytest.mark.parametrize("name", sorted(POSITIVE_ONLY))
@pytest.mark.parametrize("x", [0.3, 1.0, 2.7])
def test_positive_domain_op_gradient_matches_finite_differences(name, x):
    check_gradient(POSITIVE_ONLY[name], x)


@pytest.mark.parametrize("x", [-2.0, -0.5, 0.5, 3.0])
def test_reflected_division_gradient_matches_finite_differences(x):
    check_gradient(NONZERO["rtruediv"], x)


@pytest.mark.parametrize("name", sorted(BINARY))
@pytest.mark.parametrize("point", [(-1.5, 0.8), (2.0, -3.0), (0.3, 0.6)])
def test_binary_op_gradient_matches_finite_differences(name, point):
    check_gradient(BINARY[name], *point)


@pytest.mark.parametrize("point", [(0.5, 1.7), (2.0, -0.3), (1.3, 2.0)])
def test_value_to_the_power_of_value_gradient_matches_finite_differences(point):
    check_gradient(lambda a, b: a**b, *point)


@pytest.mark.parametrize("x", [-30.0, -3.0, 3.0, 30.0])
def test_sigmoid_is_stable_far_from_zero(x):
    s = Value(x).sigmoid()
    s.backward()
    e = math.exp(-abs(x))  # sigma'(x) = e^-|x| / (1 + e^-|x|)^2, symmetric in x
    assert s.data == pytest.approx(1 / (1 + e) if x > 0 else e / (1 + e), rel=1e-12)
    assert s._children[0].grad == pytest.approx(e / (1 + e) ** 2, rel=1e-12)


@pytest.mark.parametrize("point", [(0.5, -1.2, 2.0), (-0.7, 0.4, 1.1)])
def test_composite_expression_gradient_matches_finite_differences(point):
    def fn(a, b, c):
        d = (a * b + c).tanh() * a - (b / c).exp()
        return (d * d + 1.0).log() + (c**2).sigmoid() * a.relu() + 2.0 / (1.0 + c * c)

    check_gradient(fn, *point)


def test_relu_passes_gradient_only_where_positive():
    a, b = Value(2.0), Value(-2.0)
    (a.relu() + b.relu()).backward()
    assert (a.grad, b.grad) == (1.0, 0.0)
    assert Value(0.0).relu().data == 0.0


def test_node_used_twice_receives_both_contributions():
    a = Value(3.0)
    b = a + a
    c = b + b
    c.backward()
    assert a.grad == 4.0
    assert b.grad == 2.0


def test_self_multiplication_gives_twice_the_value():
    a = Value(-3.0)
    (a * a).backward()
    assert a.grad == -6.0


def test_chain_of_100000_ops_backprops_without_recursion_error():
    x = Value(1.0)
    y = x
    for _ in range(100_000):
        y = y * 1.00001
    y.backward()
    assert x.grad == pytest.approx(1.00001**100_000, rel=1e-9)
    assert len(y.topological_order()) == 100_001


def test_topological_order_puts_children_before_parents():
    a, b = Value(1.0), Value(2.0)
    c = a * b
    d = c + a
    e = (d * c).tanh() + b
    order = e.topological_order()
    position = {node: i for i, node in enumerate(order)}
    assert len(order) == len(set(order)) == 7
    assert order[-1] is e
    for node in order:
        for child in node._children:
            assert position[child] < position[node]


def test_backward_twice_accumulates_in_leaves_like_pytorch():
    a, b = Value(2.0), Value(-1.0)
    out = (a * b).tanh() * a  # two levels: interior grads must not be counted twice
    out.backward()
    once = (a.grad, b.grad)
    out.backward()
    assert a.grad == pytest.approx(2 * once[0]) and b.grad == pytest.approx(2 * once[1])


def test_constants_mix_with_values_on_either_side():
    a = Value(2.0)
    assert (a + 1).data == (1 + a).data == 3.0
    assert (a - 1).data == 1.0 and (1 - a).data == -1.0
    assert (a * 3).data == (3 * a).data == 6.0
    assert (a / 4).data == 0.5 and (4 / a).data == 2.0
    assert (a**2).data == 4.0 and (2**a).data == 4.0
    assert (-a).data == -2.0
    assert (np.float64(2.0) * a).data == 4.0 and isinstance(np.float64(2.0) * a, Value)
    assert (a + np.int64(3)).data == 5.0


def test_sum_builtin_and_integer_data_work():
    values = [Value(i) for i in range(5)]
    total = sum(values)
    total.backward()
    assert total.data == 10.0 and isinstance(total.data, float)
    assert all(v.grad == 1.0 for v in values)


def test_repr_shows_data_grad_and_op():
    a = Value(2.0, label="a")
    b = a * 3
    assert repr(a) == "Value(data=2, grad=0, label='a')"
    assert repr(b) == "Value(data=6, grad=0, op='*')"


def test_value_has_slots_and_no_dict():
    assert not hasattr(Value(1.0), "__dict__")


# --- bad input ------------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["1.0", None, [1.0], 1 + 2j])
def test_non_numeric_data_is_a_type_error(bad):
    with pytest.raises(TypeError, match="real number"):
        Value(bad)


def test_value_of_a_value_is_a_type_error():
    with pytest.raises(TypeError, match="got a Value"):
        Value(Value(1.0))


@pytest.mark.parametrize(
    "operation",
    [
        lambda a: a + "x",
        lambda a: "x" + a,
        lambda a: a * None,
        lambda a: None * a,
        lambda a: a - [1],
        lambda a: a / "2",
        lambda a: "2" / a,
        lambda a: a ** "2",
        lambda a: a + 1j,
    ],
)
def test_non_numeric_operand_is_a_type_error(operation):
    with pytest.raises(TypeError, match="unsupported operand for Value"):
        operation(Value(1.0))


@pytest.mark.parametrize("x", [0.0, -1.0])
def test_log_of_non_positive_value_is_a_value_error(x):
    with pytest.raises(ValueError, match="log needs a positive value"):
        Value(x).log()


def test_value_power_value_needs_a_positive_base():
    with pytest.raises(ValueError, match="positive base"):
        Value(-2.0) ** Value(2.0)
    with pytest.raises(ValueError, match="positive base"):
        (-2.0) ** Value(2.0)


def test_fractional_power_of_negative_value_is_a_value_error():
    with pytest.raises(ValueError, match="not a real number"):
        Value(-8.0) ** (1 / 3)


def test_division_by_zero_and_zero_to_negative_power_raise_zero_division():
    with pytest.raises(ZeroDivisionError):
        Value(1.0) / Value(0.0)
    with pytest.raises(ZeroDivisionError):
        Value(1.0) / 0
    with pytest.raises(ZeroDivisionError):
        1.0 / Value(0.0)
    with pytest.raises(ZeroDivisionError):
        Value(0.0) ** -1


def test_exp_overflow_is_explained():
    with pytest.raises(OverflowError, match="overflows"):
        Value(1000.0).exp()
