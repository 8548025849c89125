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


# --- issue 14: empty transition table, one command with the VQ tokenizer, official defaults ----

def _small_vq_checkpoint(path, codebook=64):
    from python.vq.model import VQConfig, random_vq

    cfg = VQConfig(codebook_size=codebook, codebook_show_usage=True, encoder_ch_mult=[1, 1, 2],
                   decoder_ch_mult=[1, 1, 2], z_channels=32, ch=32)
    torch.save({"model": random_vq(cfg).state_dict(), "steps": 0}, path)  # LlamaGen's layout
    return str(path)


def test_empty_transition_table_means_none(tmp_path):
    # PAR's code saves spe_tok_embeddings with 0 rows for a model trained one token a step
    sd = public_layout(vocab=64, classes=4, dim=48, layers=2, heads=4, kv_heads=4, hidden=128, spe=0)
    sd["spe_tok_embeddings.special_embeddings.weight"] = torch.zeros(0, 48)
    ckpt = tmp_path / "one-a-step.pt"
    torch.save({"model": sd}, ckpt)
    assert _run(tmp_path, ckpt, "--size", "custom", "--heads", "4", "--grid", "4") == 0
    man = json.load(open(tmp_path / "out" / "one-a-step.json"))
    assert man["transitionTokens"] == 0 and man["schedule"]["name"] == "raster"
    assert man["provenance"]["droppedKeys"] == ["spe_tok_embeddings.special_embeddings.weight (0 rows: no transition tokens)"]


def test_one_command_converts_gpt_and_tokenizer(tmp_path):
    sd = public_layout(vocab=64, classes=4, dim=48, layers=2, heads=4, kv_heads=4, hidden=128, spe=3)
    ckpt = tmp_path / "par-small.pt"
    torch.save({"model": sd}, ckpt)
    vq = _small_vq_checkpoint(tmp_path / "vq_small.pt")
    assert _run(tmp_path, ckpt, "--vq-checkpoint", vq, "--size", "custom", "--heads", "4", "--grid", "4",
                "--tokenizer-out", str(tmp_path / "tok"), "--cfg-interval", "1", "--cfg-interval-rule", "official") == 0
    man = json.load(open(tmp_path / "out" / "par-small.json"))
    assert man["tokenizer"] == {"kind": "vq", "manifest": "../tok/vq_small.tokenizer.json"}
    assert man["sampling"]["cfgInterval"] == 1 and man["sampling"]["cfgIntervalRule"] == "official"
    tok = json.load(open(tmp_path / "tok" / "vq_small.tokenizer.json"))
    assert tok["codebookSize"] == 64 and tok["downsample"] == 4 and tok["imageSize"] == 16  # grid 4 x 4
    assert [f["path"] for f in tok["files"]] == ["vq_small.encode.onnx", "vq_small.decode.onnx"]
    # a second model can reference the converted tokenizer
    assert _run(tmp_path, ckpt, "--tokenizer", str(tmp_path / "tok" / "vq_small.tokenizer.json"), "--size", "custom",
                "--heads", "4", "--grid", "4", "--name", "again") == 0
    assert json.load(open(tmp_path / "out" / "again.json"))["tokenizer"]["manifest"] == "../tok/vq_small.tokenizer.json"


def test_tokenizer_and_checkpoint_mistakes_are_named(tmp_path, capsys):
    sd = public_layout(vocab=64, classes=4, dim=48, layers=2, heads=4, kv_heads=4, hidden=128, spe=3)
    gpt = tmp_path / "gpt.pt"
    torch.save({"model": sd}, gpt)
    vq32 = _small_vq_checkpoint(tmp_path / "vq32.pt", codebook=32)
    common = ["--size", "custom", "--heads", "4", "--grid", "4"]
    assert _run(tmp_path, gpt, "--vq-checkpoint", vq32, *common) == 1
    err = capsys.readouterr().err
    assert "has 32 codes but the GPT's vocabulary is 64" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()  # checked before anything is written
    assert _run(tmp_path, vq32, "--vq-checkpoint", str(gpt), *common) == 1
    assert "VQ tokenizer checkpoint (it has encoder./quantize. keys), not a GPT" in capsys.readouterr().err
    assert _run(tmp_path, gpt, "--vq-checkpoint", str(gpt), *common) == 1
    assert "is a GPT checkpoint" in capsys.readouterr().err
    raw = open(gpt, "rb").read()
    with open(tmp_path / "cut.pt", "wb") as f:
        f.write(raw[: len(raw) // 3])
    assert _run(tmp_path, tmp_path / "cut.pt", *common) == 1
    assert "truncated" in capsys.readouterr().err
    assert _run(tmp_path, gpt, *common, "--cfg-scale", "0.5") == 1
    assert "--cfg-scale 0.5 is below 1" in capsys.readouterr().err
    assert _run(tmp_path, gpt, *common[:4]) == 1  # no --grid, not an official name
    assert "--grid is needed" in capsys.readouterr().err


def test_official_names_give_size_grid_and_sampling(tmp_path, capsys):
    from python.convert import OFFICIAL, official_entry, resolve_sampling

    assert {k: OFFICIAL[k]["cfgScale"] for k in ("PAR-XL-4x", "PAR-XXL-4x", "PAR-3B-4x", "PAR-3B-16x")} == {
        "PAR-XL-4x": 1.5, "PAR-XXL-4x": 1.435, "PAR-3B-4x": 1.345, "PAR-3B-16x": 1.5}
    name, entry = official_entry("/models/par-3b-16x.pt")
    assert name == "PAR-3B-16x" and entry["schedule"] == "par16" and entry["size"] == "3B"
    from python.convert import build_parser

    args = build_parser().parse_args(["--checkpoint", "PAR-XXL-4x.pt", "--out", "o"])
    assert resolve_sampling(args, official_entry("PAR-XXL-4x.pt")[1]) == {
        "cfgScale": 1.435, "cfgInterval": None, "temperature": 1.0, "topK": 0, "topP": 1.0}
    args = build_parser().parse_args(["--checkpoint", "PAR-XXL-4x.pt", "--out", "o", "--cfg-scale", "2", "--top-k", "5"])
    assert resolve_sampling(args, official_entry("PAR-XXL-4x.pt")[1])["cfgScale"] == 2.0
    # the size comes from the name: a small state dict named PAR-XL-4x.pt fails the XL check, naming it
    sd = public_layout(vocab=64, classes=4, dim=48, layers=2, heads=4, kv_heads=4, hidden=128, spe=3)
    ckpt = tmp_path / "PAR-XL-4x.pt"
    torch.save({"model": sd}, ckpt)
    assert _run(tmp_path, ckpt) == 1
    assert "GPT-XL has width 1280 and 36 layers" in capsys.readouterr().err


def test_cfg_interval_flags():
    from python.convert import ConvertError, build_parser, resolve_sampling

    def sampling(*flags):
        return resolve_sampling(build_parser().parse_args(["--checkpoint", "x.pt", "--out", "o", *flags]), None)

    assert sampling()["cfgInterval"] is None and "cfgIntervalRule" not in sampling()
    assert sampling("--cfg-interval", "5")["cfgInterval"] == 5
    assert sampling("--cfg-interval", "-1", "--cfg-interval-rule", "official")["cfgInterval"] is None
    official = sampling("--cfg-interval", "2.5", "--cfg-interval-rule", "official")
    assert official["cfgInterval"] == 2 and official["cfgIntervalRule"] == "official"  # i > 2.5 <=> i > 2
    for bad in (["--cfg-interval", "2.5"], ["--cfg-interval", "-0.5", "--cfg-interval-rule", "official"]):
        with pytest.raises(ConvertError):
            sampling(*bad)


def test_external_data_is_one_file_listed_in_the_manifest(tmp_path):
    from python.manifest import sha256_file
    from python.onnx_weights import load_exported

    sd = public_layout(vocab=64, classes=4, dim=48, layers=2, heads=4, kv_heads=4, hidden=128, spe=3)
    ckpt = tmp_path / "ext.pt"
    torch.save({"model": sd}, ckpt)
    for _ in range(2):  # a second export over the first must not append to the old data file
        assert _run(tmp_path, ckpt, "--size", "custom", "--heads", "4", "--grid", "4", "--external-data",
                    "--dtype", "float16") == 0  # fp16: weights keep their names (onnx_weights reads them back)
    man = json.load(open(tmp_path / "out" / "ext.json"))
    assert [f["path"] for f in man["files"]] == ["ext.onnx", "ext.onnx.data"]
    for f in man["files"]:
        assert f["sha256"] == sha256_file(tmp_path / "out" / f["path"]) and f["bytes"] > 0
    assert man["files"][1]["bytes"] >= 2 * sum(v.numel() for v in sd.values()) * 0.9  # tensors < 1 KB stay inline
    assert sorted(os.listdir(tmp_path / "out")) == ["ext.json", "ext.onnx", "ext.onnx.data"]
    model = load_exported(str(tmp_path / "out" / "ext.json"))
    assert torch.equal(model.layers[1].feed_forward.w2.weight, sd["layers.1.feed_forward.w2.weight"].half().float())


def test_per_tensor_external_files_are_gathered(tmp_path):
    """Over 2 GB torch writes one external file per tensor, named after it; the export gathers them."""
    import onnx
    from onnx import numpy_helper

    from python.export import export_onnx, gather_external_data

    from .helpers import random_model

    path = str(tmp_path / "m.onnx")
    export_onnx(random_model(), path, dtype="float16")
    want = {i.name: numpy_helper.to_array(i) for i in onnx.load(path).graph.initializer}
    g = onnx.load(path)
    onnx.save_model(g, path, save_as_external_data=True, all_tensors_to_one_file=False, size_threshold=0,
                    convert_attribute=True)
    per_tensor = set(os.listdir(tmp_path)) - {"m.onnx"}
    assert len(per_tensor) > 10 and "model.tok_embeddings.weight" in per_tensor  # torch's layout
    assert len(per_tensor) > len(want)  # Constant attribute tensors (the RoPE table) written out too, as torch does
    gather_external_data(path)
    assert sorted(os.listdir(tmp_path)) == ["m.onnx", "m.onnx.data"]
    got = {i.name: numpy_helper.to_array(i) for i in onnx.load(path).graph.initializer}
    assert got.keys() == want.keys() and all((got[k] == want[k]).all() for k in want)
