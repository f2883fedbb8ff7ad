"""The search space as data: NASRec-style blocks crossed with AutoRAC's per-operator precisions.

An architecture (`Arch`) is `num_blocks` blocks and an optional FM term. Block i (1-based)
reads earlier outputs (0 is the input: dense features and the embedded categoricals) and has

- a dense operator from `fc`, `dot` (dot-product interaction), `gating` (sigmoid gating),
  `sum`, with an output width from `dense_widths`;
- a sparse operator from `efc` (embedded FC over the token axis) or `attention`, with an
  output width in tokens from `sparse_widths`;
- its dense inputs and its sparse inputs: 1 to `max_inputs` earlier outputs each (dense
  connectivity; `None` allows all of them);
- `merge`: the dense-to-sparse merge (the dense input, projected, as one more sparse token);
- a precision (weight bits, activation bits) per operator, from `bits` (32 is float).

Torch-free: the search and the compile path use it. The supernet gives it meaning.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
from dataclasses import dataclass, fields, replace

from ir.errors import PimcError

__all__ = ["DENSE_OPS", "SPARSE_OPS", "Block", "Arch", "SearchSpace", "SPACES", "get_space"]

DENSE_OPS = ("fc", "dot", "gating", "sum")
SPARSE_OPS = ("efc", "attention")
FLOAT = 32


@dataclass(frozen=True)
class Block:
    dense_op: str
    sparse_op: str
    dense_width: int
    sparse_width: int
    dense_in: tuple[int, ...]
    sparse_in: tuple[int, ...]
    merge: bool
    dense_bits: tuple[int, int] = (FLOAT, FLOAT)
    sparse_bits: tuple[int, int] = (FLOAT, FLOAT)

    def to_dict(self) -> dict:
        return {f.name: list(v) if isinstance(v := getattr(self, f.name), tuple) else v
                for f in fields(self)}


@dataclass(frozen=True)
class Arch:
    """One architecture: an immutable value with a canonical JSON form and a stable hash."""

    blocks: tuple[Block, ...]
    fm: bool = False

    def to_json(self) -> str:
        """Canonical JSON: sorted keys, no spaces; equal archs give equal strings."""
        body = {"version": 1, "fm": self.fm, "blocks": [b.to_dict() for b in self.blocks]}
        return json.dumps(body, sort_keys=True, separators=(",", ":"))

    @staticmethod
    def from_json(text: str) -> Arch:
        try:
            body = json.loads(text)
            blocks = tuple(Block(**{k: tuple(v) if isinstance(v, list) else v
                                    for k, v in b.items()}) for b in body["blocks"])
            return Arch(blocks, bool(body["fm"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise PimcError(f"not an architecture JSON ({exc}); accepted: the output of "
                            "Arch.to_json") from None

    def live_operators(self) -> frozenset[tuple[int, str]]:
        """(block index, "dense" | "sparse") of the operators the output depends on: a dense
        op reads its dense inputs (and, for `dot`, its tokens); a sparse op its tokens (and,
        with `merge`, its dense inputs). The rest is dead code an exporter drops."""
        n = len(self.blocks)
        need = {"dense": {n}, "sparse": {n}}
        live = set()
        for i in range(n, 0, -1):
            b = self.blocks[i - 1]
            reads = {"dense": ({"dense": b.dense_in, "sparse": b.sparse_in if b.dense_op == "dot"
                                else ()}),
                     "sparse": {"sparse": b.sparse_in, "dense": b.dense_in if b.merge else ()}}
            for side in ("dense", "sparse"):
                if i in need[side]:
                    live.add((i - 1, side))
                    for kind, outs in reads[side].items():
                        need[kind].update(outs)
        return frozenset(live)

    def hash(self) -> str:
        """A stable 16-hex-digit hash of the canonical JSON (the same in every process)."""
        return hashlib.sha256(self.to_json().encode()).hexdigest()[:16]


def _widths(lo: int, hi: int, step: int) -> tuple[int, ...]:
    return tuple(range(lo, hi + 1, step))


@dataclass(frozen=True)
class SearchSpace:
    """The choices; the defaults are NASRec's ranges and AutoRAC's precisions."""

    num_blocks: int = 7
    dense_widths: tuple[int, ...] = _widths(16, 1024, 16)
    sparse_widths: tuple[int, ...] = _widths(16, 64, 8)
    max_inputs: int | None = None
    bits: tuple[int, ...] = (4, 8, 16)
    dense_ops: tuple[str, ...] = DENSE_OPS
    sparse_ops: tuple[str, ...] = SPARSE_OPS
    embed_dim: int = 16

    def __post_init__(self) -> None:
        bad = [o for o in self.dense_ops if o not in DENSE_OPS] + \
            [o for o in self.sparse_ops if o not in SPARSE_OPS]
        if bad:
            raise PimcError(f"unknown operator(s) {', '.join(bad)}; accepted: dense "
                            f"{', '.join(DENSE_OPS)}; sparse {', '.join(SPARSE_OPS)}")
        if self.num_blocks < 1 or not self.dense_widths or not self.sparse_widths:
            raise PimcError("a space needs at least one block and one width of each kind")

    @property
    def precisions(self) -> tuple[tuple[int, int], ...]:
        bits = self.bits or (FLOAT,)
        return tuple((w, a) for w in bits for a in bits)

    def _fan_in(self, block: int) -> int:
        return block if self.max_inputs is None else min(self.max_inputs, block)

    def connections(self, block: int) -> int:
        """How many input sets block `block` (1-based) may read: subsets of 1..k of i."""
        return sum(math.comb(block, j) for j in range(1, self._fan_in(block) + 1))

    def log10_size(self, precision: bool = True) -> float:
        """log10 of the number of architectures (without precisions: all float)."""
        per_block = (len(self.dense_ops) * len(self.sparse_ops) * len(self.dense_widths)
                     * len(self.sparse_widths) * 2)
        if precision:
            per_block *= len(self.precisions) ** 2
        total = math.log10(2)  # the FM term
        for i in range(1, self.num_blocks + 1):
            total += math.log10(per_block) + 2 * math.log10(self.connections(i))
        return total

    def _inputs(self, rng: random.Random, block: int) -> tuple[int, ...]:
        count = rng.randint(1, self._fan_in(block))
        return tuple(sorted(rng.sample(range(block), count)))

    def _choice(self, rng: random.Random, block: int, key: str):
        choose = {
            "dense_op": lambda: rng.choice(self.dense_ops),
            "sparse_op": lambda: rng.choice(self.sparse_ops),
            "dense_width": lambda: rng.choice(self.dense_widths),
            "sparse_width": lambda: rng.choice(self.sparse_widths),
            "dense_in": lambda: self._inputs(rng, block),
            "sparse_in": lambda: self._inputs(rng, block),
            "merge": lambda: rng.random() < 0.5,
            "dense_bits": lambda: rng.choice(self.precisions),
            "sparse_bits": lambda: rng.choice(self.precisions),
        }
        return choose[key]()

    def sample_block(self, rng: random.Random, block: int) -> Block:
        return Block(**{f.name: self._choice(rng, block, f.name) for f in fields(Block)})

    def sample(self, rng: random.Random | int | None = None) -> Arch:
        """A uniformly drawn architecture (per choice; inputs: count, then which)."""
        rng = rng if isinstance(rng, random.Random) else random.Random(rng)
        blocks = tuple(self.sample_block(rng, i) for i in range(1, self.num_blocks + 1))
        return Arch(blocks, rng.random() < 0.5)

    def _bit_choices(self) -> list[int]:
        return sorted(self.bits or (FLOAT,))

    def _changed(self, rng: random.Random, block: int, key: str, value):
        """Block `block`'s (1-based) choice `key` changed: a neighbouring width or precision
        (weight or activation bits; the only neighbour at either end), the merge flipped,
        another operator, inputs drawn again."""
        def step(values: list, current):
            k = values.index(current)
            near = [j for j in (k - 1, k + 1) if 0 <= j < len(values)]
            return values[rng.choice(near)] if near else current

        if key in ("dense_width", "sparse_width"):
            return step(list(getattr(self, key + "s")), value)
        if key in ("dense_bits", "sparse_bits"):
            side, bits = rng.randrange(2), list(value)
            bits[side] = step(self._bit_choices(), value[side])
            return tuple(bits)
        if key == "merge":
            return not value
        if key in ("dense_op", "sparse_op"):
            others = [v for v in getattr(self, key + "s") if v != value]
            return rng.choice(others) if others else value
        return self._inputs(rng, block)

    def mutate(self, arch: Arch, rng: random.Random | int | None = None) -> Arch:
        """`arch` with exactly one choice changed (a block field, as `_changed` says, or the
        FM term): ordered choices move to a neighbouring value, so a child stays near its
        parent."""
        rng = rng if isinstance(rng, random.Random) else random.Random(rng)
        self.validate(arch)
        i = rng.randrange(len(arch.blocks) + 1)
        if i == len(arch.blocks):
            return replace(arch, fm=not arch.fm)
        key = rng.choice([f.name for f in fields(Block)])
        block = replace(arch.blocks[i],
                        **{key: self._changed(rng, i + 1, key, getattr(arch.blocks[i], key))})
        return replace(arch, blocks=arch.blocks[:i] + (block,) + arch.blocks[i + 1:])

    def corners(self, rng: random.Random) -> list[Arch]:
        """The smallest and the largest design over the ordered choices: every width, weight
        and activation precision at its lowest (highest), merge and the FM term off (on), and
        every block reading only the input, the shallowest network: only the last block is
        live (the latest `max_inputs` outputs, the deepest: every block is live). Operators
        have no order: they are drawn."""
        out = []
        for big in (False, True):
            pick = max if big else min
            blocks = []
            for i in range(1, self.num_blocks + 1):
                inputs = tuple(range(i - self._fan_in(i), i)) if big else (0,)
                bits = (pick(self._bit_choices()),) * 2
                blocks.append(Block(rng.choice(self.dense_ops), rng.choice(self.sparse_ops),
                                    pick(self.dense_widths), pick(self.sparse_widths),
                                    inputs, inputs, big, bits, bits))
            out.append(Arch(tuple(blocks), big))
        return out

    def crossover(self, a: Arch, b: Arch, rng: random.Random | int | None = None) -> Arch:
        """Uniform crossover: each block and the FM term from either parent."""
        rng = rng if isinstance(rng, random.Random) else random.Random(rng)
        self.validate(a)
        self.validate(b)
        blocks = tuple(x if rng.random() < 0.5 else y for x, y in zip(a.blocks, b.blocks))
        return Arch(blocks, a.fm if rng.random() < 0.5 else b.fm)

    def validate(self, arch: Arch) -> None:
        """Raise PimcError naming the first choice that is not in this space."""
        if len(arch.blocks) != self.num_blocks:
            raise PimcError(f"architecture has {len(arch.blocks)} blocks; the space has "
                            f"{self.num_blocks}")
        for i, block in enumerate(arch.blocks, start=1):
            for key in ("dense_op", "sparse_op", "dense_width", "sparse_width",
                        "dense_bits", "sparse_bits"):
                self._check_in(i, key, getattr(block, key))
            for key in ("dense_in", "sparse_in"):
                self._check_inputs(i, key, getattr(block, key))

    def _check_in(self, block: int, key: str, value) -> None:
        allowed = {"dense_op": self.dense_ops, "sparse_op": self.sparse_ops,
                   "dense_width": self.dense_widths, "sparse_width": self.sparse_widths,
                   "dense_bits": self.precisions, "sparse_bits": self.precisions}[key]
        if value not in allowed:
            raise PimcError(f"block {block}: {key} {value!r} is not in the space; accepted: "
                            + ", ".join(map(str, allowed)))

    def _check_inputs(self, block: int, key: str, inputs: tuple[int, ...]) -> None:
        ok = (0 < len(inputs) <= self._fan_in(block) and list(inputs) == sorted(set(inputs))
              and all(0 <= j < block for j in inputs))
        if not ok:
            raise PimcError(f"block {block}: {key} {list(inputs)} must be 1 to "
                            f"{self._fan_in(block)} distinct sorted outputs of 0..{block - 1}")


SPACES: dict[str, SearchSpace] = {
    "nasrec": SearchSpace(),
    "nasrec-float": SearchSpace(bits=()),
    # Small widths for tests and quick runs; same operators, connectivity and precisions.
    "tiny": SearchSpace(num_blocks=3, dense_widths=(8, 16, 24), sparse_widths=(4, 6, 8),
                        max_inputs=2, embed_dim=4),
    "tiny-float": SearchSpace(num_blocks=3, dense_widths=(8, 16, 24), sparse_widths=(4, 6, 8),
                              max_inputs=2, embed_dim=4, bits=()),
}


def get_space(name: str) -> SearchSpace:
    """A named space; unknown names fail listing the known ones."""
    if name not in SPACES:
        import difflib

        close = difflib.get_close_matches(name, list(SPACES), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise PimcError(f"unknown search space '{name}'{hint}; accepted: {', '.join(SPACES)}")
    return SPACES[name]
