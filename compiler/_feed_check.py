"""Given inputs checked against the graph before any work: every argument present with its
shape, and every index inside the table it reaches (numpy would raise IndexError deep in the
interpreter, ONNX Runtime its own error)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ir.core import Graph
from ir.errors import PimcError

__all__ = ["check_feed"]


def _takes(graph: Graph) -> str:
    return ", ".join(f"{a.name}: {a.type}" for a in graph.args)


def check_feed(graph: Graph, feed: Mapping[str, np.ndarray], where: str) -> None:
    """Refuse `feed` for `graph` in one line naming the input, or the element and its table."""
    from ir.sample_inputs import index_limits

    missing = [a.name for a in graph.args if a.name not in feed]
    if missing:
        raise PimcError(f"missing input(s) {', '.join(missing)}; graph @{graph.name} takes "
                        f"{_takes(graph)}", where)
    for arg in graph.args:
        shape = tuple(np.shape(feed[arg.name]))
        if shape != arg.type.shape:
            raise PimcError(f"input {arg.name}: shape {list(shape)}, graph expects {arg.type}",
                            where)
    for name, (low, high) in index_limits(graph).items():
        value = np.asarray(feed[name])
        if value.dtype.kind not in "iu" or not (high > 0).any():
            continue
        rows = high - low
        # numpy wraps a negative index once: [-rows, rows) is what the interpreter can run
        bad = (high > 0) & ((value >= high) | (value < low - rows))
        if bad.any():
            i = int(np.flatnonzero(bad.ravel())[0])
            at = ", ".join(str(int(k)) for k in np.unravel_index(i, value.shape))
            raise PimcError(f"input {name}[{at}] = {value.ravel()[i]} indexes a table of "
                            f"{int(rows.ravel()[i])} rows; accepted: {int(low.ravel()[i])} to "
                            f"{int(high.ravel()[i]) - 1}", where)
