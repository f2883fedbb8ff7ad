"""A near miss of a fusion rule: the numbers stay, the op does not appear, the rule says why."""

from __future__ import annotations

from rec_pass_helpers import assert_equivalent, op_names

from passes.fuse_interactions import FuseInteractions
from passes.rewrite import tracing


def assert_stays(module, rule: str, op: str, reason: str, fuse=None) -> None:
    """Fusing `module` keeps its outputs, makes no `op`, and `rule` gave `reason` somewhere."""
    with tracing() as records:
        assert_equivalent(module, (fuse or FuseInteractions()).apply)
    assert op not in op_names(module)
    assert any(r.rule == rule and reason in r.reason for r in records), \
        sorted({r.reason for r in records if r.rule == rule})
