"""Neuron, Layer, MLP: shapes, parameter counts, seeded initialisation, zero_grad and input errors."""

from __future__ import annotations

import numpy as np
import pytest
from micrograd.engine import Value
from micrograd.nn import MLP, Layer, Module, Neuron


def test_mlp_has_micrograds_parameter_count():
    model = MLP(2, [16, 16, 1], rng=0)
    assert len(model.parameters()) == (2 * 16 + 16) + (16 * 16 + 16) + (16 + 1) == 337


def test_last_layer_is_linear_and_hidden_layers_use_relu():
    model = MLP(3, [4, 5, 2], rng=0)
    assert [n.nonlin for layer in model.layers for n in layer.neurons] == [True] * 9 + [False] * 2
    assert repr(model.layers[-1].neurons[0]) == "LinearNeuron(5)"


def test_same_seed_gives_same_weights_and_different_seed_differs():
    a = [p.data for p in MLP(2, [8, 1], rng=7).parameters()]
    b = [p.data for p in MLP(2, [8, 1], rng=7).parameters()]
    c = [p.data for p in MLP(2, [8, 1], rng=8).parameters()]
    assert a == b and a != c


def test_weights_are_uniform_in_minus_one_one_and_biases_zero():
    neuron = Neuron(1000, rng=0)
    w = np.array([p.data for p in neuron.w])
    assert -1 <= w.min() < -0.9 and 0.9 < w.max() <= 1
    assert neuron.b.data == 0.0


def test_neuron_computes_relu_of_affine_function():
    neuron = Neuron(2, rng=0)
    neuron.w[0].data, neuron.w[1].data, neuron.b.data = 2.0, -1.0, 0.5
    assert neuron([1.0, 3.0]).data == 0.0  # relu(2 - 3 + 0.5)
    assert neuron([3.0, 1.0]).data == 5.5
    assert Neuron(2, nonlin=False, rng=0)([0.0, 0.0]).data == 0.0


def test_layer_returns_a_list_or_a_single_value():
    assert len(Layer(3, 4, rng=0)([1.0, 2.0, 3.0])) == 4
    assert isinstance(Layer(3, 1, rng=0)([1.0, 2.0, 3.0]), Value)


def test_mlp_with_a_hidden_layer_of_width_one_still_works():
    out = MLP(2, [1, 3], rng=0)([0.5, -0.5])
    assert len(out) == 3


def test_inputs_may_be_values_floats_or_a_numpy_row():
    model = MLP(2, [4, 1], rng=0)
    expected = model([0.5, -1.0]).data
    assert model([Value(0.5), Value(-1.0)]).data == expected
    assert model(np.array([0.5, -1.0])).data == expected


def test_zero_grad_resets_every_parameter_gradient():
    model = MLP(2, [4, 1], rng=0)
    (model([1.0, 2.0]) * 3).backward()
    assert any(p.grad != 0 for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0 for p in model.parameters())


def test_backward_through_mlp_fills_every_weight_gradient_of_active_units():
    model = MLP(2, [3, 1], rng=1)
    out = model([1.0, -2.0])
    out.backward()
    assert model.layers[-1].neurons[0].b.grad == 1.0  # d(out)/d(last bias)


def test_module_base_has_no_parameters():
    Module().zero_grad()
    assert Module().parameters() == []


@pytest.mark.parametrize("nin", [0, -3, 2.5, "2", True])
def test_bad_sizes_are_value_errors(nin):
    with pytest.raises(ValueError, match="positive integer"):
        Neuron(nin)


@pytest.mark.parametrize("nouts", [[], 3, [16, 0, 1]])
def test_bad_layer_lists_are_value_errors(nouts):
    with pytest.raises(ValueError):
        MLP(2, nouts)


def test_wrong_number_of_inputs_is_a_value_error():
    with pytest.raises(ValueError, match="expects 2 inputs, got 3"):
        MLP(2, [4, 1], rng=0)([1.0, 2.0, 3.0])


def test_non_sequence_input_is_a_type_error():
    with pytest.raises(TypeError, match="expects a list"):
        Neuron(1, rng=0)(Value(1.0))
