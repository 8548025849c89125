import json
import os

import pytest
import torch

from python.convert import main as convert_main
from python.model import GPT

from .helpers import tiny_config

# The public PAR/LlamaGen c2i key layout, written out independently of python/model.py.
def public_layout(vocab, classes, dim, layers, heads, kv_heads, hidden, spe):
    hd = dim // heads
    shapes = {
        "tok_embeddings.weight": (vocab, dim),
        "cls_embedding.embedding_table.weight": (classes + 1, dim),
        "norm.weight": (dim,),
        "output.weight": (vocab, dim),
    }
    if spe:
        shapes["spe_tok_embeddings.special_embeddings.weight"] = (spe, dim)
    for i in range(layers):
        p = f"layers.{i}."
        shapes[p + "attention.wqkv.weight"] = ((heads + 2 * kv_heads) * hd, dim)
        shapes[p + "attention.wo.weight"] = (dim, dim)
        shapes[p + "feed_forward.w1.weight"] = (hidden, dim)
        shapes[p + "feed_forward.w3.weight"] = (hidden, dim)
        shapes[p + "feed_forward.w2.weight"] = (dim, hidden)
        shapes[p + "attention_norm.weight"] = (dim,)
        shapes[p + "ffn_norm.weight"] = (dim,)
    g = torch.Generator().manual_seed(0)
    return {k: torch.randn(*s, generator=g) * 0.05 for k, s in shapes.items()}


def _run(tmp_path, ckpt, *extra):
    return convert_main(["--checkpoint", str(ckpt), "--out", str(tmp_path / "out"), *extra])


def test_par_xl_4x_layout_converts(tmp_path, capsys):
    # PAR-XL-4x at small dims: 20 heads as XL, 3 transition tokens, hidden rounded like find_multiple(., 256)
    sd = public_layout(vocab=96, classes=10, dim=80, layers=3, heads=20, kv_heads=20, hidden=256, spe=3)
    ckpt = tmp_path / "PAR-XL-4x-small.pt"
    torch.save({"model": sd, "optimizer": {}, "steps": 10, "args": None}, ckpt)
    assert _run(tmp_path, ckpt, "--size", "custom", "--heads", "20", "--grid", "8", "--dtype", "float16") == 0
    man = json.load(open(tmp_path / "out" / "PAR-XL-4x-small.json"))
    assert man["schedule"]["name"] == "par4" and man["transitionTokens"] == 3
    assert man["heads"] == 20 and man["kvHeads"] == 20 and man["numClasses"] == 10 and man["vocabSize"] == 96
    assert os.path.getsize(tmp_path / "out" / man["onnx"]) > 0
    # the converted model holds exactly the checkpoint's tensors
    from python.convert import infer_config
    from python.model import load_state_dict_strict
    m = GPT(infer_config(sd, "custom", 20, (8, 8)))
    load_state_dict_strict(m, sd)
    assert torch.equal(m.layers[2].feed_forward.w2.weight, sd["layers.2.feed_forward.w2.weight"])


def test_llamagen_layout_converts_with_prefixes_and_gqa(tmp_path):
    sd = public_layout(vocab=64, classes=4, dim=48, layers=2, heads=4, kv_heads=2, hidden=128, spe=0)
    sd = {"module." + k: v for k, v in sd.items()}
    sd["module.layers.0.attention.kv_cache.k_cache"] = torch.zeros(1)
    ckpt = tmp_path / "c2i_small.pt"
    torch.save(sd, ckpt)  # a bare state dict
    assert _run(tmp_path, ckpt, "--size", "custom", "--heads", "4", "--grid", "4x6") == 0
    man = json.load(open(tmp_path / "out" / "c2i_small.json"))
    assert man["schedule"]["name"] == "raster" and man["transitionTokens"] == 0
    assert man["kvHeads"] == 2 and man["grid"] == {"frames": 1, "height": 4, "width": 6}
    assert man["provenance"]["droppedKeys"] == ["layers.0.attention.kv_cache.k_cache"]


def test_errors_name_the_keys(tmp_path, capsys):
    sd = public_layout(vocab=64, classes=4, dim=48, layers=2, heads=4, kv_heads=4, hidden=128, spe=3)
    del sd["layers.1.ffn_norm.weight"]
    sd["layers.1.attention.bias"] = torch.zeros(3)
    ckpt = tmp_path / "bad.pt"
    torch.save({"state_dict": sd}, ckpt)
    assert _run(tmp_path, ckpt, "--size", "custom", "--heads", "4", "--grid", "4") == 1
    err = capsys.readouterr().err
    assert "missing keys: layers.1.ffn_norm.weight" in err
    assert "unexpected keys: layers.1.attention.bias" in err
    assert "Traceback" not in err


def test_size_mismatch_and_schedule_errors(tmp_path, capsys):
    sd = public_layout(vocab=64, classes=4, dim=48, layers=2, heads=4, kv_heads=4, hidden=128, spe=0)
    ckpt = tmp_path / "x.pt"
    torch.save({"model": sd}, ckpt)
    assert _run(tmp_path, ckpt, "--size", "XL", "--grid", "4") == 1
    assert "GPT-XL has width 1280 and 36 layers" in capsys.readouterr().err
    assert _run(tmp_path, ckpt, "--size", "custom", "--heads", "4", "--grid", "4", "--schedule", "par4") == 1
    assert "needs 3 transition tokens" in capsys.readouterr().err
    assert _run(tmp_path, ckpt, "--size", "custom", "--grid", "4") == 1
    assert "needs --heads" in capsys.readouterr().err
    torch.save({"optimizer": {"x": 1}}, ckpt)
    assert _run(tmp_path, ckpt, "--size", "B", "--grid", "4") == 1
    assert "no state dict found" in capsys.readouterr().err


def test_config_of_model_roundtrip():
    cfg = tiny_config()
    from python.convert import infer_config
    got = infer_config(GPT(cfg).state_dict(), "custom", cfg.n_head, (cfg.height, cfg.width))
    assert (got.dim, got.n_layer, got.kv_heads, got.hidden, got.transition_tokens) == (32, 2, 2, 96, 3)
