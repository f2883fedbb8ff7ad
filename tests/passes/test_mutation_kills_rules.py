"""Fusion near misses that mutation testing found unguarded (docs/mutation.md)."""

from __future__ import annotations

from rec_pass_helpers import assert_equivalent, op_names

from ir.text import parse
from passes.canonicalize import Canonicalize
from passes.fuse_interactions import FuseInteractions

ONE_OPERAND_EINSUM = """
module @one_operand_einsum {
  graph @main(%x: tensor<2x3x4xf32>) -> (y: tensor<2x4x3xf32>) {
    %0 = nn.einsum(%x) {equation = "bfd->bdf"} : tensor<2x4x3xf32>
    return %0
  }
}
"""


def _fuse(module) -> bool:
    changed = FuseInteractions().apply(module)
    Canonicalize().apply(module)
    return changed


def test_an_einsum_of_one_operand_is_no_efc_and_keeps_its_numbers():
    module = parse(ONE_OPERAND_EINSUM)
    assert_equivalent(module, _fuse, seed=3, high=4)
    assert "rec.efc" not in op_names(module)
