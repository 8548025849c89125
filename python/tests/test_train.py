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
