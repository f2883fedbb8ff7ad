"""A candidate (architecture x precisions x hardware) as flat categorical parameters.

Every choice of the search space and of the hardware space is one categorical parameter, so
that Optuna's samplers (NSGA-II) and its dashboard see the same candidate the strategies of
this package draw: `b2.dense_op`, `b2.dense_in` ("0,1": the outputs read), `b2.dense_bits`
("8x16": weight x activation bits), `fm`, and `hw:chip.tiles` for a hardware field.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field, fields

from frontend.space import Arch, Block, SearchSpace
from search.hardware import Hardware, HardwareSpace

__all__ = ["Candidate", "Encoding"]

_HW = "hw:"


@dataclass(frozen=True)
class Candidate:
    """One point of the co-search: an architecture and a hardware choice."""

    arch: Arch
    hw: Hardware = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps({"arch": json.loads(self.arch.to_json()), "hw": self.hw},
                          sort_keys=True, separators=(",", ":"))

    @staticmethod
    def from_json(text: str) -> Candidate:
        body = json.loads(text)
        return Candidate(Arch.from_json(json.dumps(body["arch"])), dict(body["hw"]))


def _subsets(block: int, fan_in: int) -> list[str]:
    return [",".join(map(str, c)) for k in range(1, fan_in + 1)
            for c in itertools.combinations(range(block), k)]


def _bits(p: tuple[int, int]) -> str:
    return f"{p[0]}x{p[1]}"


@dataclass(frozen=True)
class Encoding:
    """The parameter names and choices of a (search space, hardware space) pair."""

    space: SearchSpace
    hw_space: HardwareSpace

    def choices(self) -> dict[str, list]:
        """Parameter name -> its choices, in a fixed order."""
        s, out = self.space, {}
        bits = [_bits(p) for p in s.precisions]
        for i in range(1, s.num_blocks + 1):
            fan_in = i if s.max_inputs is None else min(s.max_inputs, i)
            per = {"dense_op": list(s.dense_ops), "sparse_op": list(s.sparse_ops),
                   "dense_width": list(s.dense_widths), "sparse_width": list(s.sparse_widths),
                   "dense_in": _subsets(i, fan_in), "sparse_in": _subsets(i, fan_in),
                   "merge": [False, True], "dense_bits": bits, "sparse_bits": bits}
            out.update({f"b{i}.{k}": v for k, v in per.items()})
        out["fm"] = [False, True]
        out.update({_HW + path: list(values) for path, values in self.hw_space.fields})
        return out

    def encode(self, cand: Candidate) -> dict:
        params = {"fm": cand.arch.fm}
        for i, b in enumerate(cand.arch.blocks, start=1):
            for f in fields(Block):
                v = getattr(b, f.name)
                if f.name.endswith("_in"):
                    v = ",".join(map(str, v))
                elif f.name.endswith("_bits"):
                    v = _bits(v)
                params[f"b{i}.{f.name}"] = v
        params.update({_HW + k: v for k, v in cand.hw.items()})
        return params

    def decode(self, params: dict) -> Candidate:
        blocks = []
        for i in range(1, self.space.num_blocks + 1):
            kw = {f.name: params[f"b{i}.{f.name}"] for f in fields(Block)}
            for key in ("dense_in", "sparse_in"):
                kw[key] = tuple(int(x) for x in kw[key].split(","))
            for key in ("dense_bits", "sparse_bits"):
                kw[key] = tuple(int(x) for x in kw[key].split("x"))
            blocks.append(Block(**kw))
        arch = Arch(tuple(blocks), bool(params["fm"]))
        self.space.validate(arch)
        hw = {k[len(_HW):]: v for k, v in params.items() if k.startswith(_HW)}
        return Candidate(arch, hw)

    def suggest(self, trial) -> Candidate:
        """Draw every parameter through an Optuna trial (its sampler decides)."""
        return self.decode({name: trial.suggest_categorical(name, values)
                            for name, values in self.choices().items()})
