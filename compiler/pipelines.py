"""The named stages of `pimc compile`, as pipeline spec strings (the same text `pimc opt`
takes), in order. `--emit STAGE` stops after the named one."""

from __future__ import annotations

__all__ = ["STAGES", "stage_specs", "EMIT_CHOICES"]

# (stage name, pipeline spec); {target} and {objective} are filled in by the driver.
STAGES: tuple[tuple[str, str], ...] = (
    ("fused", "canonicalize,fuse-interactions"),
    ("precision", "assign-precision"),
    ("partitioned", "partition{{target={target},objective={objective}}}"),
    ("tiled", "tile"),
    ("placed", "place{{objective={objective},time-limit={time_limit},seed={seed}}}"),
    ("scheduled", "lower-bound,schedule"),  # the bound first: it reads place's problem
)
EMIT_CHOICES = ("ir", *(name for name, _ in STAGES))


def stage_specs(target: str, objective: str, time_limit: float, seed: int,
                precision: str | None = None, profile: str | None = None,
                solver: str | None = None, bound: bool = True) -> list[tuple[str, str]]:
    """The default stages for one compile, specs filled in (`profile`: an .npz of per-row
    lookup counts by embedding bag, for ``tile``; `solver`: place's, when not its default;
    `bound`: False leaves out the lower-bound pass, for a caller that reads no bound)."""
    out = []
    for name, spec in STAGES:
        spec = spec.format(target=target, objective=objective, time_limit=time_limit, seed=seed)
        if name == "precision" and precision:
            spec = f"assign-precision{{{precision}}}"
        if name == "tiled" and profile:
            spec = f"tile{{profile={profile}}}"
        if name == "placed" and solver:
            spec = spec.replace("place{", f"place{{solver={solver},", 1)
        if name == "scheduled" and not bound:
            spec = "schedule"
        out.append((name, spec))
    return out
