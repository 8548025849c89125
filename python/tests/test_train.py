import json
import os

import numpy as np
import torch

from python.data import flip_map, synthetic
from python.train import lr_at
from python.train import main as train_main


def test_flip_map_equals_decode_mirror_reencode():
    rng = np.random.default_rng(0)
    k, p, h, w = 32, 2, 3, 4
    codebook = rng.uniform(0, 255, (k, p, p, 3)).astype(np.float32)
    tokens = rng.integers(0, k, (h, w))
    pixels = codebook[tokens].transpose(0, 2, 1, 3, 4).reshape(h * p, w * p, 3)  # [dy][dx] patches
    mirrored = pixels[:, ::-1]
    patches = mirrored.reshape(h, p, w, p, 3).transpose(0, 2, 1, 3, 4).reshape(h * w, -1)
    d = ((patches[:, None, :] - codebook.reshape(k, -1)[None]) ** 2).sum(-1)
    reencoded = d.argmin(1).reshape(h, w)
    assert np.array_equal(flip_map(codebook)[tokens[:, ::-1]], reencoded)


def test_lr_schedule():
    assert lr_at(0, 100, 1.0, 10, 0.1) == 0.1
    assert lr_at(9, 100, 1.0, 10, 0.1) == 1.0
    assert abs(lr_at(10, 100, 1.0, 10, 0.1) - 1.0) < 1e-12
    assert abs(lr_at(100, 100, 1.0, 10, 0.1) - 0.1) < 1e-12


def test_train_logs_and_resumes(tmp_path):
    out = str(tmp_path / "run")
    common = ["--config", "par4", "--synthetic", "24", "--out", out, "--dim", "16", "--layers", "1", "--heads", "1",
              "--multiple-of", "16", "--batch", "2", "--eval-every", "2", "--eval-limit", "4", "--threads", "1"]
    assert train_main(common + ["--steps", "2"]) == 0
    first = torch.load(os.path.join(out, "ckpt.pt"))
    assert first["step"] == 2
    assert train_main(common + ["--steps", "4", "--export", str(tmp_path / "m"), "--dtype", "float16"]) == 0
    log = json.load(open(os.path.join(out, "log.json")))
    assert [v["step"] for v in log["val"]] == [2, 4]
    assert len(log["valPerCell"]) == 576 and len(log["valPerStep"]) == 147
    man = json.load(open(tmp_path / "m" / "par4.json"))
    assert man["dtype"] == "float16" and man["provenance"]["steps"] == 4
    assert man["classNames"] == synthetic(4).class_names


def test_export_cli_from_training_checkpoint(tmp_path):
    from python.export import main as export_main

    out = str(tmp_path / "run")
    assert train_main(["--config", "raster", "--synthetic", "16", "--out", out, "--dim", "16", "--layers", "1",
                       "--heads", "1", "--multiple-of", "16", "--batch", "2", "--steps", "1", "--eval-limit", "2",
                       "--threads", "1"]) == 0
    assert export_main(["--checkpoint", os.path.join(out, "ckpt.pt"), "--out", str(tmp_path / "e"), "--name", "r"]) == 0
    man = json.load(open(tmp_path / "e" / "r.json"))
    assert man["schedule"]["name"] == "raster" and man["transitionTokens"] == 0
    assert export_main(["--checkpoint", os.path.join(out, "log.json"), "--out", str(tmp_path / "e")]) == 1


def _tiny_run(out, extra, steps=1):
    return ["--synthetic", "16", "--out", str(out), "--dim", "16", "--layers", "1", "--heads", "1",
            "--multiple-of", "16", "--batch", "2", "--steps", str(steps), "--eval-limit", "2", "--threads", "1"] + extra


def test_schedule_file_trains_like_the_named_config(tmp_path):
    from python.schedule import make_grid, schedule_by_name, to_json

    path = tmp_path / "par4.json"  # the JSON scheduleToJSON writes (test_schedule_ts checks the two agree)
    path.write_text(to_json(schedule_by_name(make_grid(24, 24), "par4")))
    assert train_main(_tiny_run(tmp_path / "named", ["--config", "par4"])) == 0
    assert train_main(_tiny_run(tmp_path / "file", ["--schedule", str(path), "--export", str(tmp_path / "m")])) == 0
    named = json.load(open(tmp_path / "named" / "log.json"))
    from_file = json.load(open(tmp_path / "file" / "log.json"))
    assert from_file["train"][0]["loss"] == named["train"][0]["loss"]
    assert from_file["val"] == named["val"] and from_file["schedule"] == "par4"
    man = json.load(open(tmp_path / "m" / "par4.json"))
    assert man["schedule"]["name"] == "par4" and man["transitionTokens"] == 3


def test_malformed_schedule_file_is_named_without_a_traceback(tmp_path, capsys):
    from python.schedule import make_grid, schedule_by_name

    good = schedule_by_name(make_grid(24, 24), "par4")
    cases = {
        "repeat": ({**good, "steps": [{"cells": [0], "attention": "full"}] + good["steps"]},
                   "schedule.steps[1].cells: cell 0 repeats"),
        "missing": ({**good, "steps": good["steps"][:-1]}, "never sampled"),
        "empty": ({**good, "steps": []}, "schedule.steps must be a non-empty list"),
        "slots": ({**good, "transitionSlots": 5}, "schedule.transitionSlots is 5 but the steps need 3: set it to 3"),
        "grid": (schedule_by_name(make_grid(16, 16), "raster"), "schedule.grid is 1x16x16"),
        "nosteps": ({k: v for k, v in good.items() if k != "steps"}, "schedule.steps is missing"),
    }
    for name, (obj, expected) in cases.items():
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(obj))
        assert train_main(_tiny_run(tmp_path / name, ["--schedule", str(path)])) == 1, name
        err = capsys.readouterr().err
        assert expected in err and err.startswith(f"train: --schedule {path}") and "Traceback" not in err, (name, err)
    (tmp_path / "bad.json").write_text("{not json")
    assert train_main(_tiny_run(tmp_path / "bad", ["--schedule", str(tmp_path / "bad.json")])) == 1
    assert "is not valid JSON" in capsys.readouterr().err
    assert train_main(_tiny_run(tmp_path / "none", ["--schedule", str(tmp_path / "absent.json")])) == 1
    assert "file not found" in capsys.readouterr().err
    assert not os.path.exists(tmp_path / "repeat" / "ckpt.pt")


def test_save_minutes_checkpoints_between_evaluations(tmp_path, monkeypatch):
    saved = []
    real_save = torch.save
    monkeypatch.setattr(torch, "save", lambda obj, path: (saved.append(obj["step"]), real_save(obj, path)))
    assert train_main(_tiny_run(tmp_path / "run", ["--config", "raster", "--eval-every", "100", "--save-minutes", "1e-9"],
                                steps=4)) == 0
    assert saved == [1, 2, 3, 4]  # steps 1-3 by time, step 4 by the final evaluation
    log = json.load(open(tmp_path / "run" / "log.json"))
    assert [v["step"] for v in log["val"]] == [4]
