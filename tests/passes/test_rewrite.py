"""The rewrite driver's incremental bookkeeping: use lists, order and dead code stay what a
whole-graph recount would give, and canonicalize,fuse-interactions prints the same IR as the
driver that recounted everything after each rewrite (golden text made with that driver)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from rec_pass_helpers import Builder, op_names

import passes.rewrite as rewrite
from ir.text import print_module
from passes.canonicalize import Canonicalize
from passes.fuse_interactions import FuseInteractions
from passes.rewrite import Ctx

GOLDEN = Path(__file__).parent / "golden"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "onnx"


def _fixture(name: str):
    path = FIXTURES / f"{name}.onnx"
    if not path.exists():
        pytest.skip(f"fixture {path.name} is not in the tree")
    pytest.importorskip("onnx")
    from frontend.onnx import import_onnx

    return import_onnx(path, batch=64)


@pytest.mark.parametrize("name", ["deepctr_fibinet_legacy", "torchrec_dlrm_dynamo"])
def test_canonicalize_and_fuse_print_the_golden_text(name):
    m = _fixture(name)
    Canonicalize().apply(m)
    FuseInteractions().apply(m)
    got = print_module(m).splitlines()
    want = (GOLDEN / f"{name}.pir").read_text().splitlines()
    first = next((i for i, (g, w) in enumerate(zip(got, want)) if g != w), None)
    assert first is None, f"line {first + 1}:\n got {got[first]}\nwant {want[first]}"
    assert len(got) == len(want)


def _live(ctx: Ctx) -> list:
    """The ops the graph outputs depend on, found by walking operands."""
    seen, stack = {}, [v.owner for v in ctx.graph.outputs if v.owner is not None]
    while stack:
        op = stack.pop()
        if id(op) not in seen:
            seen[id(op)] = op
            stack.extend(v.owner for v in op.operands if v.owner is not None)
    return list(seen.values())


def _check_bookkeeping(ctx: Ctx) -> None:
    live = _live(ctx)
    assert all(ctx.alive(o) for o in live) and len(ctx._pos) == len(live), "dead op kept"
    recount = Counter((id(v), id(op)) for op in live for v in op.operands)
    values = {id(v): v for op in live for v in (*op.operands, *op.results)}.values()
    kept = Counter((id(v), id(u)) for v in values for u in ctx.users(v))
    assert kept == recount


def test_use_lists_and_dead_code_match_a_recount_after_every_rewrite(monkeypatch):
    m = _fixture("torchrec_dlrm_dynamo")
    Canonicalize().apply(m)
    apply_at, fired = rewrite._apply_at, []

    def checked_apply_at(rule, op, ctx):
        if apply_at(rule, op, ctx):
            _check_bookkeeping(ctx)
            fired.append(rule.name)
            return True
        return False

    monkeypatch.setattr(rewrite, "_apply_at", checked_apply_at)
    assert FuseInteractions().apply(m)
    assert len(fired) > 5


def _chain():
    """x + c -> relu -> out: the relu is the anchor the tests below rewrite."""
    b = Builder()
    x = b.arg("x", (2, 3))
    r = b.op("nn.relu", b.op("nn.add", x, b.const(np.ones((2, 3), np.float32))))
    return b, x, b.module(r)


def test_ctx_orders_new_ops_before_the_anchor_and_drops_what_dies():
    b, x, m = _chain()
    g = m.main
    const, add, relu = g.ops
    ctx = Ctx(g)
    s1 = b.op("nn.sigmoid", x).owner
    s2 = b.op("nn.neg", s1.result).owner
    g.ops = g.ops[:3]  # the builder appended them; hand them to the ctx instead
    ctx.insert_before(relu, [s1, s2])
    assert ctx.position(add) < ctx.position(s1) < ctx.position(s2) < ctx.position(relu)
    ctx.replace_uses(relu.result, s2.result)
    assert g.outputs == [s2.result] and ctx.is_output(s2.result)
    ctx.erase_dead([relu, s1, s2])
    assert not any(ctx.alive(o) for o in (const, add, relu))
    assert ctx.users(x) == [s1] and ctx.users(s1.result) == [s2]
    ctx.flush()
    assert g.ops == [s1, s2] and [ctx.position(o) for o in g.ops] == [0, 1]


def test_a_graph_with_dead_code_is_cleaned_whole_on_its_first_rewrite():
    b = Builder()
    x = b.arg("x", (4, 3))
    b.op("nn.sigmoid", x)  # dead from the start
    y = b.op("nn.matmul", x, b.const(np.ones((3, 5), np.float32)))
    m = b.module(y)
    assert FuseInteractions().apply(m)
    assert op_names(m) == ["nn.constant", "rec.dense"]


def test_dead_code_stays_when_no_rule_fires():
    b = Builder()
    x = b.arg("x", (4, 3))
    b.op("nn.sigmoid", x)
    m = b.module(b.op("nn.relu", x))
    assert not FuseInteractions().apply(m)
    assert op_names(m) == ["nn.sigmoid", "nn.relu"]



def _movement_chain():
    """x and y -> concat -> transpose -> out: a movement region ending in the transpose."""
    b = Builder()
    x, y = b.arg("x", (2, 3)), b.arg("y", (2, 3))
    cat = b.op("nn.concat", x, y, axis=0)
    t = b.op("nn.transpose", cat, perm=[1, 0])
    return b, x, y, cat, t, b.module(t)


@pytest.mark.parametrize("edit", ["replace_uses", "insert_before", "erase", "flush"])
def test_a_region_worked_out_before_an_edit_is_walked_again_after_it(monkeypatch, edit):
    """`region` is kept in the ctx's memo (two rules walk it from one anchor) until an edit:
    each kind of edit empties the memo, so a region read after it is the graph's as it is
    then, never the entry planted before it."""
    from passes.rules import _movement
    from passes.rules._movement import region

    b, x, y, cat, t, m = _movement_chain()
    ctx = Ctx(m.main)
    with pytest.raises(rewrite.NoMatch, match="reads 2 tensors"):
        region(t, ctx, rewrite.Match(t.owner))
    walk = _movement._region
    monkeypatch.setattr(_movement, "_region", lambda *a: pytest.fail("walked again"))
    with pytest.raises(rewrite.NoMatch, match="reads 2 tensors"):  # from the memo
        region(t, ctx, rewrite.Match(t.owner))
    monkeypatch.setattr(_movement, "_region", walk)
    relu = b.op("nn.relu", x).owner
    m.main.ops.pop()  # the builder appended it; the ctx inserts it
    stale = (t, (x, []))  # what the memo would answer if an edit left it there
    if edit == "replace_uses":
        ctx.memo[("region", id(t), 256)] = stale
        ctx.replace_uses(y, x)
        source, ops = region(t, ctx, rewrite.Match(t.owner))
        assert source is x and ops == [cat.owner, t.owner]
        return
    if edit != "insert_before":
        ctx.insert_before(t.owner, [relu])
    ctx.memo[("region", id(t), 256)] = stale
    if edit == "insert_before":
        ctx.insert_before(t.owner, [relu])
    elif edit == "erase":
        ctx.erase(relu)
    else:
        ctx.flush()
    with pytest.raises(rewrite.NoMatch, match="reads 2 tensors"):
        region(t, ctx, rewrite.Match(t.owner))


