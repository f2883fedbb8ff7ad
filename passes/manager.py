"""The pass manager: runs passes in order, verifies after each, and calls instruments."""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TextIO

from ir.core import Module
from ir.errors import PimcError
from ir.text import print_module
from ir.verify import verify
from passes.base import Pass

__all__ = ["Instrument", "PassManager", "PrintIRAfterAll", "PassTimer"]


class Instrument:
    """Hooks around every pass; passes never print, instruments do."""

    def before(self, p: Pass, module: Module) -> None:
        """Called before `p` runs."""

    def after(self, p: Pass, module: Module, changed: bool) -> None:
        """Called after `p` ran, before the IR is verified."""


@dataclass
class PrintIRAfterAll(Instrument):
    stream: TextIO = sys.stderr

    def after(self, p: Pass, module: Module, changed: bool) -> None:
        note = "" if changed else " (no change)"
        self.stream.write(f"// ----- IR after {p.spec()}{note} -----\n")
        self.stream.write(print_module(module))


@dataclass
class PassTimer(Instrument):
    times: list[tuple[str, float]] = field(default_factory=list)
    _start: float = 0.0

    def before(self, p: Pass, module: Module) -> None:
        self._start = time.perf_counter()

    def after(self, p: Pass, module: Module, changed: bool) -> None:
        self.times.append((p.spec(), time.perf_counter() - self._start))

    def report(self) -> str:
        total = sum(t for _, t in self.times) or 1e-12
        width = max([len(n) for n, _ in self.times] + [4])
        lines = [f"{'pass':<{width}}  {'ms':>9}  {'%':>5}"]
        lines += [f"{n:<{width}}  {t * 1e3:>9.2f}  {100 * t / total:>5.1f}" for n, t in self.times]
        lines.append(f"{'total':<{width}}  {total * 1e3:>9.2f}  100.0")
        return "\n".join(lines) + "\n"


@dataclass
class PassManager:
    passes: Sequence[Pass]
    verify_each: bool = True
    instruments: Sequence[Instrument] = ()

    def run(self, module: Module) -> list[bool]:
        """Run every pass on `module` in place; returns which ones changed it."""
        changed = []
        for p in self.passes:
            for ins in self.instruments:
                ins.before(p, module)
            did = bool(p.apply(module))
            if did:  # what the pass did not vouch for may describe the IR as it was
                stale = [k for k in module.analyses if k not in p.preserves]
                for key in stale:
                    del module.analyses[key]
            for ins in self.instruments:
                ins.after(p, module, did)
            if self.verify_each:
                try:
                    verify(module)
                except PimcError as exc:
                    raise PimcError(f"IR is invalid after pass '{p.spec()}': {exc}") from None
            changed.append(did)
        return changed
