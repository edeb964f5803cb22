"""Drawing a computation graph: Graphviz DOT text, and a PNG drawn with matplotlib alone.

Like the lecture's `draw_dot`, every `Value` is a box showing its label, data and grad,
and every operation is a small round node feeding the Value it produced, left to right
from inputs to output. `to_dot` writes DOT text for users who have Graphviz
(`dot -Tpng graph.dot -o graph.png`); `draw_graph` needs only matplotlib, placing the
nodes itself: a Value's column is the length of the longest path from a leaf to it, and
within a column nodes are ordered by the mean height of their inputs.

What it does not do: lay out large graphs legibly (it refuses more than `max_nodes`
Values), or avoid every crossing edge.
"""

from __future__ import annotations

import os
from pathlib import Path

from .engine import Value

__all__ = ["draw_graph", "to_dot", "trace"]


def trace(root: Value, max_nodes: int = 200) -> tuple[list[Value], list[tuple[Value, Value]]]:
    """The Values `root` depends on (children before parents) and the (child, parent) edges."""
    if not isinstance(root, Value):
        raise TypeError(f"expected a Value to draw, got {type(root).__name__}")
    nodes = root.topological_order()
    if len(nodes) > max_nodes:
        raise ValueError(
            f"the graph has {len(nodes)} Values, more than max_nodes={max_nodes} can be drawn legibly; "
            "draw a smaller expression"
        )
    edges = [(child, node) for node in nodes for child in dict.fromkeys(node._children)]
    return nodes, edges


def _record_text(value: Value) -> str:
    parts = [value.label] if value.label else []
    return " | ".join([*parts, f"data {value.data:.4f}", f"grad {value.grad:.4f}"])


def _dot_escape(text: str) -> str:
    for char in '\\"{}|<>':
        text = text.replace(char, "\\" + char)
    return text


def to_dot(root: Value, max_nodes: int = 200) -> str:
    """Graphviz DOT text of the graph of `root`: record boxes for Values, ellipses for ops."""
    nodes, edges = trace(root, max_nodes)
    ids = {node: f"v{i}" for i, node in enumerate(nodes)}
    lines = ["digraph computation {", "  rankdir=LR;", '  node [fontname="Helvetica"];']
    for node in nodes:
        fields = [_dot_escape(node.label)] if node.label else []
        fields += [f"data {node.data:.4f}", f"grad {node.grad:.4f}"]
        lines.append(f'  {ids[node]} [shape=record, label="{{ {" | ".join(fields)} }}"];')
        if node._op:
            lines.append(f'  {ids[node]}_op [shape=ellipse, label="{_dot_escape(node._op)}"];')
            lines.append(f"  {ids[node]}_op -> {ids[node]};")
    for child, parent in edges:
        lines.append(f"  {ids[child]} -> {ids[parent]}_op;")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _layout(nodes: list[Value]) -> dict[Value, tuple[float, float]]:
    """(x, y) for every Value: x from its depth, y from a few barycentre sweeps to keep edges short."""
    level: dict[Value, int] = {}
    for node in nodes:  # children come first, so their levels are known
        level[node] = 1 + max((level[child] for child in node._children), default=-1)
    parents: dict[Value, list[Value]] = {node: [] for node in nodes}
    for node in nodes:
        for child in node._children:
            parents[child].append(node)
    for node in reversed(nodes):  # a leaf sits just left of its first consumer, not always in column 0
        if not node._children and parents[node]:
            level[node] = min(level[p] for p in parents[node]) - 1
    columns: dict[int, list[Value]] = {}
    for node in reversed(nodes):  # from the output back: a first order that follows the expression
        columns.setdefault(level[node], []).append(node)
    row = {node: float(-i) for members in columns.values() for i, node in enumerate(members)}

    def sweep(order: list[int], neighbours) -> None:
        for column in order:
            members = columns[column]
            key = {v: (sum(row[n] for n in neighbours(v)) / len(neighbours(v)) if neighbours(v) else row[v])
                   for v in members}  # fmt: skip
            members.sort(key=lambda v: -key[v])
            offset = (len(members) - 1) / 2
            for i, node in enumerate(members):
                row[node] = offset - i

    ascending = sorted(columns)
    for _ in range(2):
        sweep(ascending[::-1], lambda v: parents[v])
        sweep(ascending, lambda v: v._children)
    return {node: (2.0 * level[node], row[node]) for node in nodes}


def draw_graph(root: Value, path: str | os.PathLike, max_nodes: int = 60) -> Path:
    """Save a PNG drawing of the graph of `root` (Values as boxes, ops as circles) with matplotlib."""
    from shared.plotting import new_figure, save_figure  # Agg backend; imported here to keep engine use light

    nodes, edges = trace(root, max_nodes)
    position = _layout(nodes)
    shift = min(x for x, _ in position.values())
    position = {node: (x - shift, y) for node, (x, y) in position.items()}
    width = max(x for x, _ in position.values()) + 2
    height = max(abs(y) for _, y in position.values()) * 2 + 1
    figure, axes = new_figure(width=max(4.0, 1.6 * width), height=max(2.0, 1.0 * height))
    box = {"boxstyle": "round,pad=0.3", "facecolor": "#eef3fb", "edgecolor": "#3b5b92"}
    circle = {"boxstyle": "circle,pad=0.4", "facecolor": "#fff3d6", "edgecolor": "#b07d18"}
    arrow = {"arrowstyle": "->", "color": "#555555", "shrinkA": 0, "shrinkB": 0}
    text_kwargs = {"ha": "center", "va": "center", "fontsize": 8}
    drawn = {}
    for node in nodes:
        x, y = position[node]
        drawn[node] = axes.text(x, y, _record_text(node).replace(" | ", "\n"), bbox=box, **text_kwargs)
        if node._op:
            drawn[(node, "op")] = axes.text(x - 1, y, node._op, bbox=circle, **{**text_kwargs, "fontsize": 10})
            axes.annotate("", xy=(0, 0.5), xycoords=drawn[node], xytext=(1, 0.5),
                          textcoords=drawn[(node, "op")], arrowprops=arrow)  # fmt: skip
    for child, parent in edges:
        axes.annotate("", xy=(0, 0.5), xycoords=drawn[(parent, "op")], xytext=(1, 0.5),
                      textcoords=drawn[child], arrowprops=arrow)  # fmt: skip
    axes.set_xlim(-0.8, width - 1.2)
    axes.set_ylim(-height / 2, height / 2)
    axes.axis("off")
    return save_figure(figure, path)


def neuron_example() -> Value:
    """The lecture's neuron, o = tanh(x1 w1 + x2 w2 + b), after o.backward(): a graph worth drawing."""
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")  # chosen so that n = 0.8814 and tanh(n) = 1/sqrt(2)
    x1w1 = x1 * w1
    x1w1.label = "x1*w1"
    x2w2 = x2 * w2
    x2w2.label = "x2*w2"
    x1w1x2w2 = x1w1 + x2w2
    x1w1x2w2.label = "x1*w1 + x2*w2"
    n = x1w1x2w2 + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    o.backward()
    return o
