"""What a study leaves in its folder: trials.csv, pareto.json and pareto.html.

pareto.json lists every member of the final front with its architecture, hardware, accuracy
and loop cost, and (after `search._final`) the folder of its full compile under best/.
pareto.html plots the first two objectives as inline SVG: every trial, the front, the zoo
models compiled on the same target and a random-search control when one was run; hovering
a point shows its architecture.
"""

from __future__ import annotations

import csv
import html
import json
from pathlib import Path

import optuna
from optuna.trial import TrialState

from search.evaluate import OBJECTIVES, objective_values
from search.pareto import pareto_front

__all__ = ["front_members", "write_trials_csv", "write_pareto_json", "write_pareto_html",
           "METRICS"]

METRICS = ("logloss", "auc", "latency_s", "samples_per_s", "energy_j", "energy_per_sample_j",
           "samples_per_j", "used_area_mm2", "chip_area_mm2", "peak_power_w", "crossbars_used",
           "eval_s", "compile_s")


def _complete(study: optuna.Study) -> list:
    return sorted((t for t in study.get_trials(deepcopy=False)
                   if t.state == TrialState.COMPLETE), key=lambda t: t.number)


def front_members(study: optuna.Study, objectives: tuple[str, ...]) -> list[dict]:
    """The front of the finished trials: one dict per member, in trial order; members with
    equal objectives are kept once (the earliest trial)."""
    trials = _complete(study)
    points = [objective_values(t.user_attrs, list(objectives)) for t in trials]
    seen, out = set(), []
    for i in pareto_front(points):
        if tuple(points[i]) in seen:
            continue
        seen.add(tuple(points[i]))
        t = trials[i]
        cand = json.loads(t.user_attrs["candidate"]) if "candidate" in t.user_attrs else {}
        out.append({"trial": t.number, "architecture": cand.get("arch"),
                    "hardware": cand.get("hw", {}), "key": t.user_attrs.get("key"),
                    **{m: t.user_attrs.get(m) for m in METRICS}})
    return out


def write_trials_csv(study: optuna.Study, path: Path) -> None:
    trials = sorted(study.get_trials(deepcopy=False), key=lambda t: t.number)
    with open(path, "w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["trial", "state", "reason", *METRICS, "arch_hash", "hardware",
                      "architecture"])
        for t in trials:
            cand = json.loads(t.user_attrs.get("candidate", "{}"))
            out.writerow([t.number, t.state.name, t.user_attrs.get("reason", ""),
                          *(t.user_attrs.get(m, "") for m in METRICS),
                          t.user_attrs.get("arch_hash", ""),
                          json.dumps(cand.get("hw", {}), sort_keys=True),
                          json.dumps(cand.get("arch"), sort_keys=True)])


def write_pareto_json(members: list[dict], objectives: tuple[str, ...], path: Path,
                      zoo: list[dict] | None = None) -> None:
    body = {"objectives": list(objectives),
            "fields": {o: OBJECTIVES[o][0] for o in objectives},
            "front": members, "zoo": zoo or []}
    path.write_text(json.dumps(body, indent=1, default=str))


def _scale(values: list[float], lo_px: float, hi_px: float):
    lo, hi = min(values), max(values)
    span = (hi - lo) or abs(hi) or 1.0
    lo, hi = lo - 0.05 * span, hi + 0.05 * span
    return lambda v: lo_px + (v - lo) / (hi - lo) * (hi_px - lo_px), (lo, hi)


def _summary(arch: dict | None, hw: dict) -> str:
    if not arch:
        return ""
    blocks = "; ".join(f"{b['dense_op']}{b['dense_width']}@{b['dense_bits'][0]}b/"
                       f"{b['sparse_op']}{b['sparse_width']}@{b['sparse_bits'][0]}b"
                       for b in arch["blocks"])
    return f"{blocks}{' +fm' if arch.get('fm') else ''} {json.dumps(hw) if hw else ''}"


def write_pareto_html(series: dict[str, list[dict]], objectives: tuple[str, ...],
                      path: Path) -> None:
    """An SVG scatter of the first two objectives; `series`: name -> points, each a dict
    with the record fields, "label" (shown beside zoo points) and "title" (on hover)."""
    fx, fy = OBJECTIVES[objectives[-1]][0], OBJECTIVES[objectives[0]][0]
    pts = [p for ps in series.values() for p in ps if p.get(fx) is not None]
    w, h, m = 760, 480, 70
    sx, (x0, x1) = _scale([p[fx] for p in pts] or [0, 1], m, w - 20)
    sy, (y0, y1) = _scale([p[fy] for p in pts] or [0, 1], h - m, 20)
    style = {"trials": ("#bbb", 3), "random search": ("#e8a33d", 3), "front": ("#1f5fbf", 5),
             "zoo": ("#c0392b", 6)}
    body = [f'<line x1="{m}" y1="{h - m}" x2="{w - 20}" y2="{h - m}" stroke="#333"/>',
            f'<line x1="{m}" y1="20" x2="{m}" y2="{h - m}" stroke="#333"/>',
            f'<text x="{w / 2}" y="{h - 30}" text-anchor="middle">{fx} ({x0:.3g} .. {x1:.3g})'
            f'</text>', f'<text x="15" y="{h / 2}" transform="rotate(-90 15 {h / 2})" '
            f'text-anchor="middle">{fy} ({y0:.3g} .. {y1:.3g})</text>']
    for k, (name, ps) in enumerate(series.items()):
        color, r = style.get(name, ("#555", 4))
        body.append(f'<text x="{w - 180}" y="{30 + 16 * k}" fill="{color}">● {name} '
                    f'({len(ps)})</text>')
        for p in ps:
            if p.get(fx) is None or p.get(fy) is None:
                continue
            x, y = sx(p[fx]), sy(p[fy])
            body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r}" fill="{color}">'
                        f'<title>{html.escape(p.get("title", ""))}</title></circle>')
            if p.get("label"):
                body.append(f'<text x="{x + 7:.1f}" y="{y - 7:.1f}" font-size="12">'
                            f'{html.escape(p["label"])}</text>')
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
           f'font-family="sans-serif" font-size="13">{"".join(body)}</svg>')
    path.write_text(f"<!doctype html><meta charset='utf-8'><title>pimc search: front</title>"
                    f"<h1>Pareto front: {' vs '.join(objectives[:2])}</h1>{svg}"
                    "<p>Hover a point for its architecture (blocks: dense op, width, weight "
                    "bits / sparse op, tokens, weight bits) and hardware.</p>")


def points_of(study: optuna.Study) -> list[dict]:
    """Every finished trial as a plot point."""
    out = []
    for t in _complete(study):
        cand = json.loads(t.user_attrs.get("candidate", "{}"))
        out.append({**{m: t.user_attrs.get(m) for m in METRICS}, "trial": t.number,
                    "title": f"trial {t.number}: {_summary(cand.get('arch'), cand.get('hw'))}"})
    return out
