"""The Python schedule builders must produce the same JSON as src/schedule (TypeScript)."""
import json
import os
import shutil
import subprocess

import pytest

from python.schedule import CONFIG_NAMES, make_grid, schedule_by_name, step_slots

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(ROOT, "python", "tests", "ts_schedules.ts")
GRIDS = [(24, 24), (8, 8), (4, 8)]
VIDEO_GRIDS = [(8, 8, 5), (4, 4, 3), (4, 8, 2)]  # (height, width, frames): the clips' grid, the tiny video model's


@pytest.fixture(scope="module")
def ts_output():
    deno = shutil.which("deno")
    if deno is None:
        pytest.skip("deno is not installed: cannot compare with the TypeScript schedule builders")
    names = CONFIG_NAMES + ["par4-noinit", "raster4-causal", "raster16-noinit", "par16-causal"]
    args = [deno, "run", "-A", SCRIPT, json.dumps({"grids": GRIDS + VIDEO_GRIDS, "names": names})]
    out = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return names, json.loads(out.stdout)


def test_builders_match_typescript(ts_output):
    names, ts = ts_output
    for h, w in GRIDS:
        for name in names:
            key = f"{h}x{w}:{name}"
            py = schedule_by_name(make_grid(h, w), name)
            assert py == ts[key]["schedule"], key
            assert step_slots(py) == ts[key]["slots"], key


def test_video_builders_match_typescript(ts_output):
    # regions are spatial and span all frames, frame-major inside a region (src/schedule/builders.ts)
    names, ts = ts_output
    for h, w, f in VIDEO_GRIDS:
        for name in names:
            key = f"{f}x{h}x{w}:{name}"
            py = schedule_by_name(make_grid(h, w, f), name)
            assert py["grid"] == {"frames": f, "height": h, "width": w}, key
            assert py == ts[key]["schedule"], key
            assert step_slots(py) == ts[key]["slots"], key


def test_step_counts():
    g = make_grid(24, 24)
    counts = {n: len(schedule_by_name(g, n)["steps"]) for n in CONFIG_NAMES}
    assert counts == {"raster": 576, "par4": 147, "par16": 51, "raster4": 147, "par4-causal": 147, "par4-noinit": 144}
