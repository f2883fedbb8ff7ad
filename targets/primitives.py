"""The primitives the lowering emits and the cost model prices: small frozen dataclasses.

``CrossbarMVM(rows, cols, weight_bits, act_bits, vectors, replicas, crossbar_cols)``
    a ``rows`` x ``cols`` weight matrix multiplied by ``vectors`` input vectors on crossbars;
    ``replicas`` copies of the weights split the vectors between them. ``crossbar_cols``: the
    weight columns the lowering put on each crossbar (0: as many as fit in an array row).
``VectorOp(kind, elements, bits)``
    an element-wise op on a digital vector unit (or the near-bank units of a DRAM-only target).
``BankGather(lookups, dim, bits, pooling)``
    ``lookups`` embedding rows of ``dim`` elements read inside the DRAM banks; every ``pooling``
    consecutive rows are summed by the near-bank units into one output vector.
``Transfer(bytes, hops)``
    a network-on-chip transfer.
``WeightLoad(bytes)``
    weights read from off-chip DRAM and written into the arrays (streamed targets: per layer).
``DramAccess(read_bytes, write_bytes)``
    activations read from / written to off-chip DRAM.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

__all__ = [
    "VECTOR_KINDS", "BankGather", "CrossbarMVM", "DramAccess", "Primitive", "Transfer", "VectorOp",
    "WeightLoad",
]

VECTOR_KINDS = ("add", "sub", "mul", "mac", "max", "relu", "sigmoid", "tanh", "exp", "div", "copy")


_INT_FIELDS: dict[type, tuple[tuple[str, bool], ...]] = {}  # class -> (field, is an int field)


def _check_counts(obj: object, allow_zero: tuple[str, ...] = ()) -> None:
    checks = _INT_FIELDS.get(type(obj))
    if checks is None:  # once per class: `fields` is slow and the search builds many
        checks = _INT_FIELDS[type(obj)] = tuple((f.name, f.type in ("int", int))
                                                for f in fields(obj))
    for name, is_int in checks:
        value = getattr(obj, name)
        if type(value) is not int:  # a plain int skips both type tests
            if is_int and (isinstance(value, bool) or not isinstance(value, int)):
                raise ValueError(f"{type(obj).__name__}.{name} must be an int, got {value!r}")
            if not isinstance(value, int):
                continue
        if value < (0 if name in allow_zero else 1):
            raise ValueError(f"{type(obj).__name__}.{name} must be positive, got {value}")


@dataclass(frozen=True)
class CrossbarMVM:
    rows: int
    cols: int
    weight_bits: int
    act_bits: int
    vectors: int = 1
    replicas: int = 1
    crossbar_cols: int = 0

    def __post_init__(self) -> None:
        _check_counts(self, allow_zero=("crossbar_cols",))


@dataclass(frozen=True)
class VectorOp:
    kind: str
    elements: int
    bits: int

    def __post_init__(self) -> None:
        if self.kind not in VECTOR_KINDS:
            raise ValueError(f"VectorOp.kind {self.kind!r} is not known; accepted: "
                             f"{', '.join(VECTOR_KINDS)}")
        _check_counts(self)


@dataclass(frozen=True)
class BankGather:
    lookups: int
    dim: int
    bits: int
    pooling: int = 1

    def __post_init__(self) -> None:
        _check_counts(self)


@dataclass(frozen=True)
class Transfer:
    bytes: int
    hops: int

    def __post_init__(self) -> None:
        _check_counts(self, allow_zero=("hops",))


@dataclass(frozen=True)
class WeightLoad:
    bytes: int

    def __post_init__(self) -> None:
        _check_counts(self)


@dataclass(frozen=True)
class DramAccess:
    read_bytes: int
    write_bytes: int = 0

    def __post_init__(self) -> None:
        _check_counts(self, allow_zero=("read_bytes", "write_bytes"))


Primitive = CrossbarMVM | VectorOp | BankGather | Transfer | WeightLoad | DramAccess
