"""schedule's transfers: each before its first consumer in graph order, every consumer rewired
(each consumer's operands rewritten once), the same graph as one rewrite per consumer gives."""

from __future__ import annotations

from ir.core import Graph, Module, Value
from ir.dialects import nn, nn_shape, pim
from ir.dialects.pim_attrs import END, LINK_BYTES, LINK_CYCLES, LINKS, START
from ir.text import print_module
from ir.types import TensorType
from passes._placement.moves import Move
from passes.schedule import _insert

T = TensorType((2, 4), "f32")


def _reference(graph: Graph, moves: list[Move], indexed: list) -> None:
    """One transfer after another, each consumer's operands rewritten per move."""
    position = {id(op): i for i, op in enumerate(graph.ops)}
    before: dict[int, list] = {}
    for m in moves:
        consumers = [indexed[c] for c in m.consumers]
        t = pim.Transfer([m.value], dict((
            ("src", m.src), ("dst", m.dst), ("bytes", m.bytes), ("hops", m.hops),
            START.item(m.start), END.item(m.end), LINKS.item(tuple(m.links)),
            LINK_BYTES.item(tuple(m.links.values())),
            LINK_CYCLES.item(tuple(m.occupancy.values())))))
        before.setdefault(id(min(consumers, key=lambda op: position[id(op)])), []).append(t)
        for op in consumers:
            op.operands = [t.result if v is m.value else v for v in op.operands]
    graph.ops = [x for op in graph.ops for x in (*before.get(id(op), ()), op)]


def _case() -> tuple[Module, list[Move]]:
    a, b = Value(T, name="a"), Value(T, name="b")
    r0, r1 = nn.Relu([a]), nn.Relu([b])
    s = nn.Add([r0.result, r1.result])
    twice = nn.Add([r0.result, r0.result])  # one value read twice by one op
    cat = nn_shape.Concat([r0.result, r1.result, s.result, twice.result, r1.result], {"axis": 1})
    ops = [r0, r1, s, twice, cat]
    g = Graph("main", [a, b], ops, [cat.result, s.result])

    def move(value, consumers, start, links):
        return Move(value, 1, 2, 64, len(links), list(consumers), 3, start, start + 3,
                    links=dict(links), occupancy={k: v // 8 for k, v in links.items()})

    moves = [
        move(r0.result, [4, 2, 3], 5, {"link:0,0>0,1": 64, "link:0,1>1,1": 32}),  # unordered
        move(r0.result, [3], 6, {"link:0,0>1,0": 64}),  # the value again to `twice`: no use left
        move(a, [0], 0, {}),  # a graph argument to the first op
        move(r1.result, [4, 2], 7, {"link:1,0>1,1": 16}),  # read twice by the concat
        move(s.result, [4], 9, {"link:2,0>2,1": 8}),
    ]
    return Module("m", [g]), moves


def test_transfers_match_one_rewrite_per_consumer():
    got, moves = _case()
    _insert(got.main, moves, list(got.main.ops))
    want, ref_moves = _case()
    _reference(want.main, ref_moves, list(want.main.ops))
    assert print_module(got) == print_module(want)
    names = [op.name for op in got.main.ops]
    assert names == ["pim.transfer", "nn.relu", "nn.relu", "pim.transfer", "pim.transfer",
                     "nn.add", "pim.transfer", "nn.add", "pim.transfer", "nn.concat"]


def test_every_consumer_reads_the_transfer_of_its_value():
    module, moves = _case()
    g = module.main
    _insert(g, moves, list(g.ops))
    transfers = g.find(pim.Transfer)
    twice, cat = g.ops[7], g.ops[9]
    assert twice.operands[0] is twice.operands[1] is transfers[1].result  # the first move's
    assert [v.owner for v in cat.operands] == [transfers[1], transfers[2], transfers[4], twice,
                                               transfers[2]]
    assert transfers[1].attrs[START.name] == 5 and transfers[1].attrs[LINKS.name] == (
        "link:0,0>0,1", "link:0,1>1,1")
    assert all(op.operands[0].owner is not None or op is transfers[0] for op in transfers)
    assert g.outputs[1] is g.ops[5].result  # outputs are not consumers
