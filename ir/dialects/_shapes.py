"""Shape arithmetic shared by the type rules of the dialects."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ir.errors import PimcError
from ir.types import TensorType

__all__ = ["broadcast", "norm_axis", "norm_axes", "same_dtype", "einsum_shape", "slice_len"]


def broadcast(op_name: str, types: Sequence[TensorType]) -> tuple[int, ...]:
    """Numpy/ONNX multidirectional broadcasting of the operand shapes."""
    try:
        return tuple(np.broadcast_shapes(*(t.shape for t in types)))
    except ValueError:
        shapes = " and ".join(str(list(t.shape)) for t in types)
        raise PimcError(f"{op_name}: shapes {shapes} do not broadcast") from None


def norm_axis(op_name: str, axis: int, rank: int) -> int:
    """An axis in [-rank, rank) made non-negative."""
    if not -rank <= axis < max(rank, 1):
        raise PimcError(f"{op_name}: axis {axis} is out of range for rank {rank}")
    return axis % rank if rank else 0


def norm_axes(op_name: str, axes: Sequence[int], rank: int) -> tuple[int, ...]:
    out = tuple(sorted(norm_axis(op_name, a, rank) for a in axes))
    if len(set(out)) != len(out):
        raise PimcError(f"{op_name}: repeated axis in {list(axes)}")
    return out


def same_dtype(op_name: str, types: Sequence[TensorType]) -> str:
    dtypes = {t.dtype for t in types}
    if len(dtypes) != 1:
        raise PimcError(f"{op_name}: operand element types differ ({', '.join(sorted(dtypes))})")
    return types[0].dtype


def slice_len(dim: int, start: int, end: int, step: int) -> int:
    """Length of dim[start:end:step] with ONNX clamping (which Python's slices share)."""
    return len(range(*slice(start, end, step).indices(dim)))


def _expand_ellipsis(op_name: str, term: str, rank: int, ell: str) -> str:
    if "..." not in term:
        if len(term) != rank:
            raise PimcError(f"{op_name}: subscript '{term}' does not match rank {rank}")
        return term
    n = rank - (len(term) - 3)
    if n < 0:
        raise PimcError(f"{op_name}: subscript '{term}' does not match rank {rank}")
    return term.replace("...", ell[len(ell) - n:] if n else "")


def einsum_shape(op_name: str, equation: str, types: Sequence[TensorType]) -> tuple[int, ...]:
    """The result shape of an einsum equation (explicit or implicit output, with ellipsis)."""
    eq = equation.replace(" ", "")
    lhs, _, rhs = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(types):
        raise PimcError(f"{op_name}: equation '{equation}' has {len(terms)} inputs, "
                        f"got {len(types)}")
    ell = "".join(c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" if c not in eq)
    ell_rank = max((t.rank - (len(s) - 3) for s, t in zip(terms, types) if "..." in s),
                   default=0)
    sizes: dict[str, int] = {}
    for term, t in zip(terms, types):
        full = _expand_ellipsis(op_name, term, t.rank, ell)
        for label, dim in zip(full, t.shape):
            known = sizes.get(label, 1)
            if dim != 1 and known != 1 and dim != known:
                raise PimcError(f"{op_name}: label '{label}' has sizes {known} and {dim}")
            sizes[label] = dim if dim != 1 else known
    if "->" not in eq:
        counts = {c: lhs.count(c) for c in set(lhs) if c.isalpha()}
        rhs = "..." * (ell_rank > 0) + "".join(sorted(c for c, k in counts.items() if k == 1))
    out = rhs.replace("...", ell[len(ell) - ell_rank:] if ell_rank else "")
    return tuple(sizes[c] for c in out)
