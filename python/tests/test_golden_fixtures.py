"""The committed tiny models and golden files agree with PyTorch (onnxruntime parity: tests/golden_parity_test.ts)."""
import glob
import json
import os

import numpy as np
import pytest
import torch

from python.manifest import sha256_file
from python.onnx_weights import load_exported
from python.sampler import Sampling, sample, torch_step_fn

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GOLDEN = sorted(glob.glob(os.path.join(ROOT, "fixtures", "golden", "tiny-*", "index.json")))
CONFIGS = ["raster", "par4", "par16", "raster4", "par4-causal", "par4-noinit"]


def test_all_tiny_models_present():
    for c in CONFIGS:
        base = os.path.join(ROOT, "fixtures", "models", f"tiny-{c}")
        assert os.path.isfile(base + ".onnx") and os.path.isfile(base + ".json"), base
        assert os.path.getsize(base + ".onnx") <= 500_000
        man = json.load(open(base + ".json"))
        assert man["sha256"] == sha256_file(base + ".onnx")
        assert man["schedule"]["name"] == c


@pytest.mark.parametrize("index_path", GOLDEN, ids=[os.path.basename(os.path.dirname(p)) for p in GOLDEN])
def test_golden_replays_in_torch(index_path):
    folder = os.path.dirname(index_path)
    index = json.load(open(index_path))
    man_path = os.path.normpath(os.path.join(folder, index["manifest"]))
    model = load_exported(man_path)
    past = None
    for step in index["steps"]:
        arrays = {k: np.load(os.path.join(folder, step[k])) for k in ("inputIds", "positionIds", "attentionMask", "logits")}
        with torch.no_grad():
            logits, past = model(torch.from_numpy(arrays["inputIds"]), torch.from_numpy(arrays["positionIds"]),
                                 torch.from_numpy(arrays["attentionMask"]), past)
        assert past[0][0].shape[2] == step["presentLength"]
        assert np.abs(logits.numpy() - arrays["logits"]).max() <= 1e-4, step["step"]
    # the reference sampler reproduces the recorded sample (exact here; a different torch may flip a rare token)
    man = json.load(open(man_path))
    uniforms = np.load(os.path.join(folder, index["uniforms"]))
    want = np.load(os.path.join(folder, index["sample"]))
    got = sample(torch_step_fn(model), man["schedule"], index["classes"], uniforms, man["vocabSize"],
                 man["numClasses"], Sampling.from_manifest(index["sampling"]))
    assert (got == want).mean() >= 0.99
