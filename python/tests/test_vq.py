"""LlamaGen's VQ tokenizer: key layout, strict loading, ONNX export, the committed fixture."""
import json
import os

import numpy as np
import onnx
import torch

from python.manifest import sha256_file
from python.vq.convert import main as vq_main
from python.vq.export import export_tokenizer, graph_files
from python.vq.golden import load_exported_vq, write_vq_golden
from python.vq.model import VQConfig, VQModel, load_vq_checkpoint, random_vq, round_vq_to_fp16, vq_8, vq_16

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def llamagen_layout(ch=128, ch_mult=(1, 1, 2, 2, 4), z=256, codes=16384, dim=8, res=2, usage=True):
    """Key -> shape of LlamaGen's VQModel.state_dict(), written from its vq_model.py module tree
    (Encoder/Decoder/ResnetBlock/AttnBlock/Downsample/Upsample/VectorQuantizer), independently of
    python/vq/model.py, in registration order."""
    out = {}

    def conv(p, cin, cout, k):
        out[p + ".weight"] = (cout, cin, k, k)
        out[p + ".bias"] = (cout,)

    def norm(p, c):
        out[p + ".weight"] = (c,)
        out[p + ".bias"] = (c,)

    def resblock(p, cin, cout):
        norm(p + ".norm1", cin)
        conv(p + ".conv1", cin, cout, 3)
        norm(p + ".norm2", cout)
        conv(p + ".conv2", cout, cout, 3)
        if cin != cout:
            conv(p + ".nin_shortcut", cin, cout, 1)

    def attn(p, c):
        norm(p + ".norm", c)
        for n in ("q", "k", "v", "proj_out"):
            conv(f"{p}.{n}", c, c, 1)

    def mid(p, c):
        resblock(p + ".0", c, c)
        attn(p + ".1", c)
        resblock(p + ".2", c, c)

    levels = len(ch_mult)
    conv("encoder.conv_in", 3, ch, 3)
    cin = ch
    for i in range(levels):
        cout = ch * ch_mult[i]
        # a level registers its res list, then its attn list, then downsample
        for j in range(res):
            resblock(f"encoder.conv_blocks.{i}.res.{j}", cin if j == 0 else cout, cout)
        if i == levels - 1:
            for j in range(res):
                attn(f"encoder.conv_blocks.{i}.attn.{j}", cout)
        else:
            conv(f"encoder.conv_blocks.{i}.downsample.conv", cout, cout, 3)
        cin = cout
    mid("encoder.mid", cin)
    norm("encoder.norm_out", cin)
    conv("encoder.conv_out", cin, z, 3)
    cin = ch * ch_mult[-1]
    conv("decoder.conv_in", z, cin, 3)
    mid("decoder.mid", cin)
    for j, i in enumerate(reversed(range(levels))):
        cout = ch * ch_mult[i]
        for r in range(res + 1):
            resblock(f"decoder.conv_blocks.{j}.res.{r}", cin if r == 0 else cout, cout)
        if i == levels - 1:
            for r in range(res + 1):
                attn(f"decoder.conv_blocks.{j}.attn.{r}", cout)
        if i != 0:
            conv(f"decoder.conv_blocks.{j}.upsample.conv", cout, cout, 3)
        cin = cout
    norm("decoder.norm_out", cin)
    conv("decoder.conv_out", cin, 3, 3)
    if usage:
        out["quantize.codebook_used"] = (65536,)  # a buffer, registered before the embedding child
    out["quantize.embedding.weight"] = (codes, dim)
    conv("quant_conv", z, dim, 1)
    conv("post_quant_conv", dim, z, 1)
    return out


def small_cfg(**kw):
    base = dict(codebook_size=64, codebook_embed_dim=8, codebook_show_usage=False, encoder_ch_mult=[1, 1, 2],
                decoder_ch_mult=[1, 1, 2], z_channels=32, ch=32)
    base.update(kw)
    return VQConfig(**base)


def test_vq16_is_llamagen_key_for_key():
    model = VQModel(vq_16())
    got = [(k, tuple(v.shape)) for k, v in model.state_dict().items()]
    assert got == list(llamagen_layout().items())  # same names, shapes and order
    assert len(got) == 344
    assert sum(p.numel() for p in model.parameters()) == 71_883_403  # "72M" in LlamaGen's table
    assert model.config.downsample == 16
    shapes = dict(got)
    # a few literal keys of vq_ds16_c2i.pt
    assert shapes["encoder.conv_blocks.4.res.0.nin_shortcut.weight"] == (512, 256, 1, 1)
    assert shapes["encoder.conv_blocks.3.downsample.conv.weight"] == (256, 256, 3, 3)
    assert shapes["decoder.conv_blocks.0.attn.2.proj_out.weight"] == (512, 512, 1, 1)
    assert shapes["decoder.conv_blocks.1.res.0.nin_shortcut.weight"] == (256, 512, 1, 1)
    assert shapes["decoder.conv_blocks.3.upsample.conv.weight"] == (128, 128, 3, 3)
    assert "decoder.conv_blocks.4.upsample.conv.weight" not in shapes
    assert shapes["quantize.embedding.weight"] == (16384, 8) and shapes["quant_conv.weight"] == (8, 256, 1, 1)


def test_vq8_and_small_configs_follow_the_same_rules():
    m8 = VQModel(vq_8())
    assert [(k, tuple(v.shape)) for k, v in m8.state_dict().items()] == list(llamagen_layout(ch_mult=(1, 2, 2, 4)).items())
    assert sum(p.numel() for p in m8.parameters()) == 70_109_835 and m8.config.downsample == 8
    small = VQModel(small_cfg())
    assert [(k, tuple(v.shape)) for k, v in small.state_dict().items()] == list(
        llamagen_layout(ch=32, ch_mult=(1, 1, 2), z=32, codes=64, usage=False).items())


def test_quantizer_is_nearest_l2_normalised_code():
    torch.manual_seed(0)
    model = random_vq(small_cfg())
    h = torch.randn(2, 8, 3, 5)
    codes = model.quantize.codes(h)
    z = h.permute(0, 2, 3, 1).reshape(-1, 8).double()
    z = z / z.norm(dim=1, keepdim=True)
    e = model.quantize.embedding.weight.double()
    e = e / e.norm(dim=1, keepdim=True)
    assert torch.equal(codes.reshape(-1), torch.argmax(z @ e.t(), dim=1))  # unit vectors: max cosine
    # decode looks the normalised codes up
    vec = model.quantize.lookup(codes)
    assert vec.shape == (2, 8, 3, 5)
    assert torch.allclose(vec.norm(dim=1), torch.ones(2, 3, 5), atol=1e-6)


def test_shapes_through_the_model():
    model = random_vq(small_cfg())
    with torch.no_grad():
        codes = model.encode(torch.rand(3, 3, 16, 24) * 2 - 1)
        assert codes.shape == (3, 4, 6) and codes.dtype == torch.int64
        assert model.decode(codes).shape == (3, 3, 16, 24)


def _dims(v):
    return [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim]


def test_export_graphs_manifest_and_weights(tmp_path):
    model = random_vq(small_cfg(), seed=1)
    for dtype in ("float32", "float16"):
        man = export_tokenizer(model, str(tmp_path), f"t-{dtype}", 64, dtype=dtype)
        assert man["format"] == "parlab-tokenizer/1" and man["kind"] == "vq" and man["dtype"] == dtype
        assert (man["codebookSize"], man["embedDim"], man["downsample"], man["imageSize"]) == (64, 8, 4, 64)
        assert man["grid"] == {"height": 16, "width": 16}
        for f in man["files"]:
            assert sha256_file(tmp_path / f["path"]) == f["sha256"] and os.path.getsize(tmp_path / f["path"]) == f["bytes"]
        enc = onnx.load(str(tmp_path / man["encode"]["onnx"]))
        dec = onnx.load(str(tmp_path / man["decode"]["onnx"]))
        onnx.checker.check_model(enc)
        onnx.checker.check_model(dec)
        assert enc.opset_import[0].version == 17
        (ei,), (eo,) = enc.graph.input, enc.graph.output
        assert (ei.name, _dims(ei), ei.type.tensor_type.elem_type) == ("pixels", ["batch", 3, "height", "width"], 1)
        assert (eo.name, _dims(eo), eo.type.tensor_type.elem_type) == ("codes", ["batch", "rows", "cols"], 7)
        (di,), (do,) = dec.graph.input, dec.graph.output
        assert (di.name, _dims(di), di.type.tensor_type.elem_type) == ("codes", ["batch", "rows", "cols"], 7)
        assert (do.name, _dims(do), do.type.tensor_type.elem_type) == ("pixels", ["batch", 3, "height", "width"], 1)
        biggest = max(dec.graph.initializer, key=lambda i: len(i.raw_data))
        assert biggest.data_type == (onnx.TensorProto.FLOAT16 if dtype == "float16" else onnx.TensorProto.FLOAT)
        # every LlamaGen weight is in the graphs under its own name, with the exported values
        back = load_exported_vq(str(tmp_path / f"t-{dtype}.tokenizer.json"))
        ref = round_vq_to_fp16(random_vq(small_cfg(), seed=1)) if dtype == "float16" else model
        for k, v in ref.state_dict().items():
            assert torch.equal(back.state_dict()[k], v), k


def test_external_data_files_are_listed_and_hashed(tmp_path):
    model = VQModel(small_cfg()).eval()  # untrained: equal GroupNorm weights, which torch merges
    man = export_tokenizer(model, str(tmp_path), "ext", 64, external_data=True)
    paths = [f["path"] for f in man["files"]]
    assert paths == ["ext.encode.onnx", "ext.encode.onnx.data", "ext.decode.onnx", "ext.decode.onnx.data"]
    assert graph_files(str(tmp_path / "ext.decode.onnx")) == ["ext.decode.onnx", "ext.decode.onnx.data"]
    back = load_exported_vq(str(tmp_path / "ext.tokenizer.json"))
    for k, v in model.state_dict().items():
        assert torch.equal(back.state_dict()[k], v), k
    index = write_vq_golden(str(tmp_path / "ext.tokenizer.json"), decode_shape=(1, 2, 3))
    pixels = np.load(tmp_path / "ext.golden" / "decode.pixels.npy")
    assert pixels.shape == (1, 3, 8, 12) and pixels.dtype == np.float32
    assert index["encode"]["shape"] == [1, 8, 12]
    assert np.load(tmp_path / "ext.golden" / "encode.codes.npy").shape == (1, 2, 3)


def _save(path, state):
    import argparse

    # as LlamaGen's training saves it: the args Namespace makes torch.load need full unpickling
    torch.save({"model": state, "steps": 1, "args": argparse.Namespace(vq_model="VQ-16")}, path)
    return str(path)


def _vq_cli(capsys, *argv):
    rc = vq_main(list(argv))
    return rc, capsys.readouterr().err


def test_checkpoint_loads_strictly(tmp_path, capsys):
    model = random_vq(small_cfg(codebook_show_usage=True))
    state = {"module." + k: v for k, v in model.state_dict().items()}  # DDP prefix is stripped
    loaded, info = load_vq_checkpoint(_save(tmp_path / "ok.pt", state))
    assert "full unpickling" in capsys.readouterr().err
    assert info["config"].codebook_show_usage and info["config"].encoder_ch_mult == [1, 1, 2]
    assert all(torch.equal(loaded.state_dict()[k], v) for k, v in model.state_dict().items())
    out = tmp_path / "out"
    rc, err = _vq_cli(capsys, "--checkpoint", str(tmp_path / "ok.pt"), "--out", str(out), "--image-size", "64")
    assert rc == 0, err
    man = json.load(open(out / "ok.tokenizer.json"))
    assert man["provenance"]["checkpointSha256"] == sha256_file(tmp_path / "ok.pt")
    assert man["provenance"]["parameters"]["total"] == sum(p.numel() for p in model.parameters())


def test_bad_checkpoints_get_one_message(tmp_path, capsys):
    sd = random_vq(small_cfg()).state_dict()
    cases = []
    missing = dict(sd)
    del missing["decoder.mid.1.q.weight"]
    cases.append((missing, "missing keys: decoder.mid.1.q.weight"))
    odd = dict(sd)
    odd["decoder.conv_out.bias"] = torch.zeros(4)
    odd["encoder.extra.weight"] = torch.zeros(1)
    cases.append((odd, "unexpected keys: encoder.extra.weight"))
    cases.append((odd, "decoder.conv_out.bias: checkpoint (4,) vs model (3,)"))
    no_codebook = {k: v for k, v in sd.items() if not k.startswith("quantize.")}
    cases.append((no_codebook, "missing key 'quantize.embedding.weight'"))
    gpt = {"tok_embeddings.weight": torch.zeros(4, 8), "layers.0.attention.wqkv.weight": torch.zeros(24, 8)}
    cases.append((gpt, "is a GPT checkpoint"))
    for i, (state, want) in enumerate(cases):
        rc, err = _vq_cli(capsys, "--checkpoint", _save(tmp_path / f"c{i}.pt", state), "--out", str(tmp_path / "o"))
        err = err.replace(err.split("\n")[0] + "\n", "") if err.startswith("note:") else err
        assert rc == 1 and want in err and "Traceback" not in err and err.count("\n") == 1, (want, err)
    good = _save(tmp_path / "good.pt", sd)
    raw = open(good, "rb").read()
    with open(tmp_path / "cut.pt", "wb") as f:
        f.write(raw[: len(raw) // 2])
    rc, err = _vq_cli(capsys, "--checkpoint", str(tmp_path / "cut.pt"), "--out", str(tmp_path / "o"))
    assert rc == 1 and "truncated" in err and "download it again" in err
    rc, err = _vq_cli(capsys, "--checkpoint", good, "--out", str(tmp_path / "o"), "--vq-model", "VQ-16")
    assert rc == 1 and "but VQ-16 has ch 128" in err
    rc, err = _vq_cli(capsys, "--checkpoint", str(tmp_path / "nope.pt"), "--out", str(tmp_path / "o"))
    assert rc == 1 and "does not exist" in err
    rc, err = _vq_cli(capsys, "--checkpoint", good, "--out", str(tmp_path / "o"), "--image-size", "30")
    assert rc == 1 and "not a multiple" in err


def test_committed_fixture_replays_in_torch():
    tok_dir = os.path.join(ROOT, "fixtures", "tokenizers")
    man_path = os.path.join(tok_dir, "vq-tiny16.tokenizer.json")
    man = json.load(open(man_path))
    golden = os.path.join(tok_dir, "vq-tiny16.golden")
    sizes = [f["bytes"] for f in man["files"]] + [os.path.getsize(man_path)]
    sizes += [os.path.getsize(os.path.join(golden, f)) for f in os.listdir(golden)]
    assert sum(sizes) <= 2_000_000
    assert (man["codebookSize"], man["downsample"], man["imageSize"], man["grid"]["height"]) == (1024, 16, 384, 24)
    model = load_exported_vq(man_path)  # checks every file's sha256
    index = json.load(open(os.path.join(golden, "index.json")))
    assert index["format"] == "parlab-vq-golden/1"
    assert os.path.normpath(os.path.join(golden, index["tokenizer"])) == os.path.normpath(man_path)
    load = lambda n: np.load(os.path.join(golden, n))  # noqa: E731
    with torch.no_grad():
        pixels = model.decode(torch.from_numpy(load(index["decode"]["codes"]))).numpy()
        codes = model.encode(torch.from_numpy(load(index["encode"]["pixels"]))).numpy()
    assert np.abs(pixels - load(index["decode"]["pixels"])).max() <= 1e-5
    margins = load(index["encode"]["margins"])
    assert np.array_equal(codes[margins > 1e-5], load(index["encode"]["codes"])[margins > 1e-5])
    # the demo model decodes through it
    gpt = json.load(open(os.path.join(ROOT, "fixtures", "models", "random-par4-vq.json")))
    ref = gpt["tokenizer"]
    assert ref == {"kind": "vq", "manifest": "../tokenizers/vq-tiny16.tokenizer.json"}
    assert gpt["vocabSize"] == man["codebookSize"] and gpt["grid"]["height"] * man["downsample"] == man["imageSize"]
    assert gpt["sha256"] == sha256_file(os.path.join(ROOT, "fixtures", "models", gpt["onnx"]))
    assert os.path.getsize(os.path.join(ROOT, "fixtures", "models", gpt["onnx"])) <= 1_500_000
    assert gpt["numClasses"] == 1000 and gpt["classNames"][0] == "tench, Tinca tinca"


def test_decode_accepts_any_grid():
    """The decoder is convolutional: the graph's rows/cols are free, as in LlamaGen (16x16 ... 32x32)."""
    model = random_vq(small_cfg())
    with torch.no_grad():
        for h, w in ((1, 1), (2, 5), (6, 6)):
            assert model.decode(torch.zeros(1, h, w, dtype=torch.long)).shape == (1, 3, 4 * h, 4 * w)


def test_official_file_name_implies_its_config(tmp_path, capsys):
    path = _save(tmp_path / "vq_ds16_c2i.pt", random_vq(small_cfg()).state_dict())
    rc, err = _vq_cli(capsys, "--checkpoint", path, "--out", str(tmp_path / "o"))
    assert rc == 1 and "ch 32 and ch_mult [1, 1, 2] but VQ-16 has ch 128" in err
