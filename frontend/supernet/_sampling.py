"""Which paths a training step trains: one sampled path, or the sandwich rule.

"single": one path drawn uniformly (SPOS), or under the "anneal" schedule the whole supernet
with a probability falling to 0 over the first `anneal_frac` of the steps (NASRec).
"sandwich": the largest path, the smallest path and `sandwich_random` sampled paths, their
gradients summed over the same batch (BigNAS, Yu et al. 2020, sec. 3.1; OFA's progressive
shrinking trains the same bounds). Operator kinds and the FM term are unordered choices,
so the bounds keep the sampled ones; every ordered choice (width, fan-in, merge, precision)
goes to its end.
"""

from __future__ import annotations

import random
from dataclasses import replace

from frontend.space import FLOAT, Arch, SearchSpace

__all__ = ["SAMPLINGS", "widest", "largest", "smallest", "train_paths"]

SAMPLINGS = ("single", "sandwich")


def _last_inputs(space: SearchSpace, i: int) -> tuple[int, ...]:
    return tuple(range(i + 1))[-(space.max_inputs or i + 1):]


def widest(space: SearchSpace, arch: Arch) -> Arch:
    """`arch`'s operators with every other choice at its largest: the whole supernet."""
    def wide(i: int, b):
        inputs = _last_inputs(space, i)
        return replace(b, dense_width=max(space.dense_widths), dense_in=inputs,
                       sparse_width=max(space.sparse_widths), sparse_in=inputs, merge=True)

    return Arch(tuple(wide(i, b) for i, b in enumerate(arch.blocks)), True)


def largest(space: SearchSpace, arch: Arch) -> Arch:
    """`arch`'s operators and FM term with the widest widths, the most inputs, the merge and
    the highest precision."""
    top = max(space.bits or (FLOAT,))
    return Arch(tuple(replace(b, dense_bits=(top, top), sparse_bits=(top, top))
                      for b in widest(space, arch).blocks), arch.fm)


def smallest(space: SearchSpace, arch: Arch) -> Arch:
    """`arch`'s operators and FM term with the narrowest widths, one input each (the last
    one `arch` reads), no merge and the lowest precision."""
    low = min(space.bits or (FLOAT,))
    return Arch(tuple(replace(b, dense_width=min(space.dense_widths), dense_in=b.dense_in[-1:],
                              sparse_width=min(space.sparse_widths), sparse_in=b.sparse_in[-1:],
                              merge=False, dense_bits=(low, low), sparse_bits=(low, low))
                      for b in arch.blocks), arch.fm)


def _single(space: SearchSpace, rng: random.Random, step: int, cfg) -> Arch:
    arch = space.sample(rng)
    if cfg.schedule == "anneal":
        whole = max(0.0, 1.0 - step / max(1.0, cfg.anneal_frac * cfg.steps))
        if rng.random() < whole:
            return widest(space, arch)
    return arch


def train_paths(space: SearchSpace, rng: random.Random, step: int, cfg) -> list[Arch]:
    """The paths step `step` trains under `cfg` (a `TrainConfig`)."""
    if cfg.sampling == "single":
        return [_single(space, rng, step, cfg)]
    bounds = [largest(space, space.sample(rng)), smallest(space, space.sample(rng))]
    return bounds + [_single(space, rng, step, cfg) for _ in range(cfg.sandwich_random)]
