"""TensorType's element count."""

from ir.types import TensorType


def test_size_is_the_exact_product_of_the_shape():
    assert TensorType((), "f32").size == 1
    assert TensorType((3, 0, 5), "f32").size == 0
    assert TensorType((4, 16), "i8").size == 64
    # past 2**63 a fixed-width product wraps (here to 0), which would let a huge tensor pass
    # every size check as an empty one
    assert TensorType((2**40, 2**40), "f32").size == 2**80
    assert isinstance(TensorType((4, 16), "i8").size, int)


def test_the_type_of_an_array_is_the_constructors():
    import numpy as np

    for a, dtype in ((np.zeros((2, 3), np.float32), "f32"), (np.zeros((), np.int64), "i64"),
                     (np.zeros((0, 4), np.int8), "i8")):
        made, want = TensorType.of(a), TensorType(a.shape, dtype)
        assert made == want and hash(made) == hash(want) and str(made) == str(want)
        assert [type(d) for d in made.shape] == [int] * a.ndim
