"""Graph drawing: DOT text, the matplotlib PNG, layout and size limits."""

from __future__ import annotations

import pytest
from micrograd.engine import Value
from micrograd.graph import _layout, draw_graph, neuron_example, to_dot, trace


def test_neuron_example_has_the_lectures_numbers():
    o = neuron_example()
    assert o.data == pytest.approx(0.7071, abs=1e-4)
    grads = {v.label: v.grad for v in o.topological_order()}
    assert grads["x1"] == pytest.approx(-1.5) and grads["w1"] == pytest.approx(1.0)
    assert grads["x2"] == pytest.approx(0.5) and grads["w2"] == pytest.approx(0.0)
    assert grads["b"] == pytest.approx(0.5)


def test_trace_lists_nodes_and_edges_once():
    a = Value(2.0)
    b = a * a  # the same child twice: one edge
    c = b + a
    nodes, edges = trace(c)
    assert len(nodes) == 3
    assert sorted((nodes.index(x), nodes.index(y)) for x, y in edges) == [(0, 1), (0, 2), (1, 2)]


def test_dot_has_a_record_per_value_and_an_ellipse_per_op():
    dot = to_dot(neuron_example())
    assert dot.startswith("digraph") and dot.rstrip().endswith("}")
    assert dot.count("shape=record") == 10
    assert dot.count("shape=ellipse") == 5
    assert "{ o | data 0.7071 | grad 1.0000 }" in dot
    assert 'label="tanh"' in dot


def test_dot_escapes_special_characters_in_labels():
    a = Value(1.0, label='a|"{x}"')
    dot = to_dot(a * 2)
    assert 'a\\|\\"\\{x\\}\\"' in dot


def test_layout_puts_every_value_right_of_its_inputs():
    o = neuron_example()
    position = _layout(o.topological_order())
    for node, (x, _) in position.items():
        for child in node._children:
            assert position[child][0] < x


def test_draw_graph_writes_a_png(tmp_path):
    path = draw_graph(neuron_example(), tmp_path / "graph.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_large_graph_is_refused_with_a_clear_error(tmp_path):
    x = Value(1.0)
    for _ in range(100):
        x = x + 1
    with pytest.raises(ValueError, match="more than max_nodes"):
        draw_graph(x, tmp_path / "big.png")


def test_drawing_something_else_is_a_type_error():
    with pytest.raises(TypeError, match="expected a Value"):
        to_dot(3.0)
