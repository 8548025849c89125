"""Writes the notebooks' source cells (outputs come from executing them with nbconvert).

Kept as code so the cell sources are reviewable in diffs; run with any Python 3:
    python3 notebooks/make_notebooks.py 01_orderings
"""
import json
import sys
from pathlib import Path

HERE = Path(__file__).parent


def md(text):
    return {"cell_type": "markdown", "metadata": {}, "source": text.strip("\n").splitlines(True)}


def code(text):
    return {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
            "source": text.strip("\n").splitlines(True)}


def with_ids(name, cells):
    """nbformat 4.5 wants a stable id per cell: name-index keeps diffs quiet."""
    return [{"id": f"{name}-{i}", **c} for i, c in enumerate(cells)]


def notebook(cells):
    return {
        "cells": cells,
        "metadata": {
            "kernelspec": {"display_name": "Deno", "language": "typescript", "name": "deno"},
            "language_info": {"name": "typescript", "file_extension": ".ts",
                              "mimetype": "text/x.typescript", "pygments_lexer": "typescript"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


NOTEBOOKS = {}

NOTEBOOKS["01_orderings"] = [
    md("""
# 01 · Generation orders and schedules

A schedule cuts the token grid into steps: the cells of a step are sampled together. This notebook
builds the schedules of the PAR paper (raster, PAR-4x, PAR-16x, the naive raster groups and the
ablations), checks their step counts, and draws them like the paper's Fig. 3.
"""),
    code("""
import {
  displayFigure, makeGrid, par, parWithoutInitial, raster, rasterGroups, scheduleFigure,
  stepSlots, stepsOverTimeFigure,
} from "../mod.ts";

const grid = makeGrid(24, 24);
const schedules = [
  raster(grid),
  par(grid, { m: 2 }),
  par(grid, { m: 4 }),
  rasterGroups(grid, { n: 4 }),
  par(grid, { m: 2, attention: "causal" }),
  parWithoutInitial(grid, { m: 2 }),
];
console.table(schedules.map((s) => ({
  schedule: s.name,
  steps: s.steps.length,
  "max parallel": Math.max(...s.steps.map((x) => x.cells.length)),
  "transition slots": s.transitionSlots,
  "speed-up limit": (576 / s.steps.length).toFixed(2) + "x",
})));
"""),
    md("""
## PAR-4x: regions and step numbers

The grid is cut into 2 x 2 regions. Steps 1-4 sample the first cell of each region one at a time
(they fix the global layout); from step 5 on, each step samples the same in-region position in all
four regions: four distant, weakly dependent cells at once.
"""),
    code("""
displayFigure(scheduleFigure(schedules[1], { colorBy: "region", cellSize: 18 }));
"""),
    md("""
## PAR-16x and the naive alternative

PAR-16x uses 4 x 4 regions (51 steps). The naive raster groups put four *adjacent* cells into one
step: the same 147 steps as PAR-4x, but the cells sampled together depend on each other strongly.
"""),
    code("""
displayFigure(scheduleFigure(schedules[2], { cellSize: 18 }));
"""),
    code("""
displayFigure(scheduleFigure(schedules[3], { cellSize: 18 }));
"""),
    md("""
## How the model sees a schedule

Each step feeds the tokens sampled in the previous step; the first parallel step needs four query
slots but has only one new token, so three learnable *transition* tokens fill the rest.
"""),
    code("""
const slots = stepSlots(schedules[1]);
slots.slice(3, 6).map((step, i) => `step ${i + 4}: ` + step.map((s) => s.kind === "cell" ? `cell ${s.cell}` : s.kind === "transition" ? `T${s.transition}` : "class").join(", "));
"""),
    md("""
## Tokens over steps, and a video grid

The second view compares schedules over time. Video grids (frames x H x W) use spatial regions
that span all frames: a 5 x 16 x 16 clip takes 1280 steps raster, 323 with PAR-4x, 95 with PAR-16x.
"""),
    code("""
displayFigure(stepsOverTimeFigure(schedules.slice(0, 4)));
"""),
    code("""
const video = makeGrid(8, 8, 3);
displayFigure(scheduleFigure(par(video, { m: 2 }), { cellSize: 16 }));
"""),
]


def main(names):
    for name in names or NOTEBOOKS:
        path = HERE / f"{name}.ipynb"
        path.write_text(json.dumps(notebook(with_ids(name, NOTEBOOKS[name])), indent=1) + "\n")
        print(path)


if __name__ == "__main__":
    main(sys.argv[1:])
