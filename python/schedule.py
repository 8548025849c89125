"""Generation schedules, mirroring src/schedule/ (same JSON, same builders, same slot layout).

A schedule is a dict in the JSON form of the TypeScript side::

    {"version": 1, "name": "par4", "grid": {"frames": 1, "height": 24, "width": 24},
     "transitionSlots": 3, "regions": {"rows": 2, "cols": 2},
     "steps": [{"cells": [0], "attention": "full"}, ...]}

python/tests/test_schedule_ts.py checks that these builders and src/schedule/builders.ts agree.
"""
from __future__ import annotations

import json
import re
from typing import Dict, List, Optional

Schedule = Dict


def make_grid(height: int, width: int, frames: int = 1) -> Dict[str, int]:
    return {"frames": frames, "height": height, "width": width}


def cell_count(grid: Dict[str, int]) -> int:
    return grid["frames"] * grid["height"] * grid["width"]


def implied_transition_slots(step_sizes: List[int]) -> int:
    """Transition slots a list of step sizes needs (the class slot counts as one fed slot)."""
    prev, total = 1, 0
    for size in step_sizes:
        if size > prev:
            total += size - prev
        prev = size
    return total


def validate(schedule: Schedule) -> Schedule:
    """Check every cell once, inside the grid, and transitionSlots; raise ValueError naming the field."""
    if schedule.get("version") != 1:
        raise ValueError("schedule.version must be 1")
    n = cell_count(schedule["grid"])
    seen = [-1] * n
    for s, step in enumerate(schedule["steps"]):
        if not step["cells"]:
            raise ValueError(f"schedule.steps[{s}].cells is empty")
        if step.get("attention") not in ("full", "causal"):
            raise ValueError(f'schedule.steps[{s}].attention must be "full" or "causal"')
        for c in step["cells"]:
            if not isinstance(c, int) or c < 0 or c >= n:
                raise ValueError(f"schedule.steps[{s}].cells: cell {c} is outside the grid (0..{n - 1})")
            if seen[c] >= 0:
                raise ValueError(f"schedule.steps[{s}].cells: cell {c} repeats (step {seen[c]}): every cell must appear in exactly one step")
            seen[c] = s
    missing = [c for c in range(n) if seen[c] < 0]
    if missing:
        raise ValueError(f"schedule.steps: cells {missing[:5]} are never sampled ({len(missing)} in all): every cell must appear in exactly one step")
    implied = implied_transition_slots([len(s["cells"]) for s in schedule["steps"]])
    if schedule["transitionSlots"] != implied:
        raise ValueError(f"schedule.transitionSlots is {schedule['transitionSlots']} but the steps need {implied}: set it to {implied}")
    return schedule


def _finish(name: str, grid, groups: List[List[int]], attention: str, regions=None) -> Schedule:
    out = {
        "version": 1,
        "name": name,
        "grid": dict(grid),
        "transitionSlots": implied_transition_slots([len(g) for g in groups]),
    }
    if regions is not None:
        out["regions"] = {"rows": regions, "cols": regions}
    out["steps"] = [{"cells": list(g), "attention": attention} for g in groups]
    return validate(out)


def _cut(order: List[int], n: int, initial: int) -> List[List[int]]:
    groups = [[order[i]] for i in range(initial)]
    groups += [order[i : i + n] for i in range(initial, len(order), n)]
    return groups


def raster(grid) -> Schedule:
    """One cell a step in raster order (LlamaGen); causal."""
    return _finish("raster", grid, [[c] for c in range(cell_count(grid))], "causal")


def region_order(grid, m: int) -> List[int]:
    """PAR's flattened order: for each in-region position (raster), for each region (raster)."""
    h, w = grid["height"], grid["width"]
    if h % m or w % m:
        raise ValueError(f"m={m} does not divide the {h}x{w} grid")
    rh, rw = h // m, w // m
    out = []
    for f in range(grid["frames"]):
        for y in range(rh):
            for x in range(rw):
                for ry in range(m):
                    for rx in range(m):
                        out.append(f * h * w + (ry * rh + y) * w + rx * rw + x)
    return out


def par(grid, m: int, attention: str = "full") -> Schedule:
    """PAR: n = m*m initial single steps (first cell of each region), then groups of n."""
    n = m * m
    name = f"par{n}" + ("-causal" if attention == "causal" else "")
    return _finish(name, grid, _cut(region_order(grid, m), n, n), attention, m)


def par_without_initial(grid, m: int, attention: str = "full") -> Schedule:
    """PAR without the initial sequential tokens: groups of n from the first step."""
    n = m * m
    name = f"par{n}-noinit" + ("-causal" if attention == "causal" else "")
    return _finish(name, grid, _cut(region_order(grid, m), n, 0), attention, m)


def raster_groups(grid, n: int, attention: str = "full", initial: bool = True) -> Schedule:
    """n consecutive raster cells a step (after n single steps unless initial=False)."""
    name = f"raster{n}" + ("" if initial else "-noinit") + ("-causal" if attention == "causal" else "")
    return _finish(name, grid, _cut(list(range(cell_count(grid))), n, n if initial else 0), attention)


def custom(grid, steps: List[List[int]], name: str = "custom", attention: str = "full") -> Schedule:
    return _finish(name, grid, steps, attention)


CONFIG_NAMES = ["raster", "par4", "par16", "raster4", "par4-causal", "par4-noinit"]


def schedule_by_name(grid, name: str) -> Schedule:
    """raster, par<n>, raster<n>, par<n>-causal, par<n>-noinit, raster<n>-causal|-noinit."""
    mt = re.fullmatch(r"(raster|par)(\d*)(?:-(causal|noinit))?", name)
    if not mt:
        raise ValueError(f'unknown schedule name "{name}": use one of {", ".join(CONFIG_NAMES)}')
    kind, num, suffix = mt.group(1), mt.group(2), mt.group(3)
    if kind == "raster" and num == "":
        if suffix:
            raise ValueError(f'"{name}" has no variants: use "raster"')
        return raster(grid)
    n = int(num)
    attention = "causal" if suffix == "causal" else "full"
    if kind == "raster":
        return raster_groups(grid, n, attention, initial=suffix != "noinit")
    m = int(round(n ** 0.5))
    if m * m != n:
        raise ValueError(f"par needs a square number of parallel tokens, got {n}")
    if suffix == "noinit":
        return par_without_initial(grid, m)
    return par(grid, m, attention)


def to_json(schedule: Schedule) -> str:
    return json.dumps(schedule, separators=(",", ":"))


def _is_int(x) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def check_fields(obj) -> None:
    """Check the JSON form's fields and types (before ``validate`` checks the cells); raise
    ValueError naming the field and what it must be."""
    if not isinstance(obj, dict):
        raise ValueError("schedule must be a JSON object with version, name, grid, transitionSlots and steps")
    for key in ("version", "name", "grid", "transitionSlots", "steps"):
        if key not in obj:
            raise ValueError(f"schedule.{key} is missing: write the schedule as scheduleToJSON does")
    if not isinstance(obj["name"], str) or not obj["name"]:
        raise ValueError("schedule.name must be a non-empty string")
    grid = obj["grid"]
    if not isinstance(grid, dict):
        raise ValueError('schedule.grid must be an object {"frames", "height", "width"}')
    for key in ("frames", "height", "width"):
        if not _is_int(grid.get(key)) or grid[key] < 1:
            raise ValueError(f"schedule.grid.{key} must be a positive integer (got {grid.get(key)!r})")
    if not _is_int(obj["transitionSlots"]) or obj["transitionSlots"] < 0:
        raise ValueError(f"schedule.transitionSlots must be a non-negative integer (got {obj['transitionSlots']!r})")
    steps = obj["steps"]
    if not isinstance(steps, list) or not steps:
        raise ValueError("schedule.steps must be a non-empty list of steps ({\"cells\": [...], \"attention\": ...})")
    for s, step in enumerate(steps):
        if not isinstance(step, dict) or "cells" not in step:
            raise ValueError(f'schedule.steps[{s}] must be an object with "cells" and "attention"')
        if not isinstance(step["cells"], list) or not all(_is_int(c) for c in step["cells"]):
            raise ValueError(f"schedule.steps[{s}].cells must be a list of integer cell indices")


def from_json(text_or_obj) -> Schedule:
    obj = json.loads(text_or_obj) if isinstance(text_or_obj, str) else text_or_obj
    check_fields(obj)
    return validate(obj)


def step_slots(schedule: Schedule) -> List[List[Dict[str, int]]]:
    """Input slots per step: {"kind": "class"|"cell"|"transition", "cell": c|-1, "transition": k|0}."""
    out, t = [], 0
    steps = schedule["steps"]
    for s, step in enumerate(steps):
        if s == 0:
            slots = [{"kind": "class", "cell": -1, "transition": 0}]
        else:
            slots = [{"kind": "cell", "cell": c, "transition": 0} for c in steps[s - 1]["cells"]]
        while len(slots) < len(step["cells"]):
            t += 1
            slots.append({"kind": "transition", "cell": -1, "transition": t})
        out.append(slots)
    return out
