"""Tensor types: a static shape, an element type and an optional precision in bits."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ir.errors import PimcError

__all__ = ["DTYPES", "TensorType", "dtype_of", "numpy_dtype"]

# IR element type name -> numpy dtype. The IR is static: every dimension is a known integer.
DTYPES: dict[str, np.dtype] = {
    "f16": np.dtype(np.float16),
    "f32": np.dtype(np.float32),
    "f64": np.dtype(np.float64),
    "i8": np.dtype(np.int8),
    "i16": np.dtype(np.int16),
    "i32": np.dtype(np.int32),
    "i64": np.dtype(np.int64),
    "u8": np.dtype(np.uint8),
    "bool": np.dtype(np.bool_),
}
_BY_NUMPY = {v: k for k, v in DTYPES.items()}


def dtype_of(array: np.ndarray) -> str:
    """The IR element type name of a numpy array."""
    name = _BY_NUMPY.get(np.asarray(array).dtype)
    if name is None:
        accepted = ", ".join(DTYPES)
        raise PimcError(f"element type {np.asarray(array).dtype} is not supported; "
                        f"accepted: {accepted}")
    return name


def numpy_dtype(name: str) -> np.dtype:
    """The numpy dtype of an IR element type name."""
    try:
        return DTYPES[name]
    except KeyError:
        raise PimcError(f"unknown element type '{name}'; accepted: {', '.join(DTYPES)}") from None


@dataclass(frozen=True)
class TensorType:
    """A tensor type; `bits` is the precision the hardware stores it in, if one was assigned."""

    shape: tuple[int, ...]
    dtype: str
    bits: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "shape", tuple(map(int, self.shape)))
        if self.dtype not in DTYPES:
            numpy_dtype(self.dtype)
        if self.shape and min(self.shape) < 0:
            raise PimcError(f"negative dimension in shape {list(self.shape)}")
        _check_bits(self.bits)

    @property
    def rank(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return math.prod(self.shape)  # exact (numpy's int64 product wraps past 2**63)

    @property
    def np_dtype(self) -> np.dtype:
        return DTYPES[self.dtype]

    def with_shape(self, shape: tuple[int, ...]) -> TensorType:
        return TensorType(tuple(shape), self.dtype, self.bits)

    def with_dtype(self, dtype: str) -> TensorType:
        return TensorType(self.shape, dtype, None)

    def with_bits(self, bits: int | None) -> TensorType:
        _check_bits(bits)
        return _checked(self.shape, self.dtype, bits)

    def same_data(self, other: TensorType) -> bool:
        """Equal shape and element type, whatever the precision."""
        return self.shape == other.shape and self.dtype == other.dtype

    @staticmethod
    def of(array: np.ndarray) -> TensorType:
        array = np.asarray(array)
        return _checked(array.shape, dtype_of(array), None)  # numpy's shape: ints, none < 0

    def __str__(self) -> str:
        body = "x".join([*(str(d) for d in self.shape), self.dtype])
        bits = f", bits={self.bits}" if self.bits is not None else ""
        return f"tensor<{body}{bits}>"


def _checked(shape: tuple[int, ...], dtype: str, bits: int | None) -> TensorType:
    """A TensorType of parts already known to be valid (a shape of ints none negative, a
    known element type, bits within range), built without checking them again: a compile
    makes tens of thousands, most from another's parts (`with_bits`) or an array's."""
    t = object.__new__(TensorType)
    object.__setattr__(t, "shape", shape)
    object.__setattr__(t, "dtype", dtype)
    object.__setattr__(t, "bits", bits)
    return t


def _check_bits(bits: int | None) -> None:
    if bits is not None and not 1 <= bits <= 64:
        raise PimcError(f"precision must be 1..64 bits, got {bits}")
