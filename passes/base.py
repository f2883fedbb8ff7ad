"""The pass contract: a frozen dataclass with a kebab-case name, typed options, one apply."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar

from ir.core import Module

__all__ = ["Pass", "PassResult"]


@dataclass(frozen=True)
class Pass:
    """Base of every pass. Options are dataclass fields with defaults; `apply` transforms the
    module in place and returns whether it changed anything. Passes never print.

    A pass with a field `per_op: tuple[tuple[str, str], ...]` also takes options keyed by an
    op name (`assign-precision{default=8,rec.attention=16}`), collected there in order.

    `preserves`: the names of the module's analyses (`Module.analyses`) still true of the IR
    after this pass changed it; the pass manager drops the others."""

    name: ClassVar[str] = ""
    preserves: ClassVar[tuple[str, ...]] = ()

    def apply(self, module: Module) -> bool:
        raise NotImplementedError

    def spec(self) -> str:
        """The pipeline text that rebuilds this pass with its non-default options."""
        opts = []
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name == "per_op":  # per-op-type options print as their own keys
                opts += [f"{k}={v}" for k, v in value]
            elif value != f.default:
                opts.append(f"{f.name.replace('_', '-')}={_fmt(value)}")
        return self.name + ("{" + ",".join(opts) + "}" if opts else "")


def _fmt(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return "[" + ",".join(_fmt(v) for v in value) + "]"
    return str(value)


PassResult = bool
