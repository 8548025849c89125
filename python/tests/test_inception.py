"""The FID Inception exporter: pytorch-fid's key layout, strict loading and its errors, the reference
preprocessing, the three outputs, the ONNX graph and its feature manifest."""
import json
import os

import numpy as np
import onnx
import pytest
import torch
import torch.nn.functional as F

from python.inception.cli import main as inception_main
from python.inception.export import FidFeatureGraph, export_features, parse_size
from python.inception.golden import golden_pictures
from python.inception.model import (FIDInceptionV3, InceptionError, check_state_dict, load_fid_inception,
                                    random_fid_inception)
from python.inception.preprocess import preprocess, tf1_bilinear
from python.manifest import sha256_file


def pytorch_fid_layout():
    """Key -> shape of pytorch-fid's ``fid_inception_v3()`` state dict (torchvision's ``Inception3`` with
    ``num_classes=1008, aux_logits=False``, Mixed_5b-d/6b-e/7b-c replaced by the FIDInception blocks of
    the same parameters), written from that public module tree independently of python/inception/model.py,
    in registration order; ``num_batches_tracked`` left out (the TF port has none)."""
    out = {}

    def conv(p, cin, cout, kh, kw=None):
        out[p + ".conv.weight"] = (cout, cin, kh, kw if kw is not None else kh)
        for s in ("weight", "bias", "running_mean", "running_var"):
            out[f"{p}.bn.{s}"] = (cout,)

    conv("Conv2d_1a_3x3", 3, 32, 3)
    conv("Conv2d_2a_3x3", 32, 32, 3)
    conv("Conv2d_2b_3x3", 32, 64, 3)
    conv("Conv2d_3b_1x1", 64, 80, 1)
    conv("Conv2d_4a_3x3", 80, 192, 3)
    for name, cin, pf in (("Mixed_5b", 192, 32), ("Mixed_5c", 256, 64), ("Mixed_5d", 288, 64)):
        conv(f"{name}.branch1x1", cin, 64, 1)
        conv(f"{name}.branch5x5_1", cin, 48, 1)
        conv(f"{name}.branch5x5_2", 48, 64, 5)
        conv(f"{name}.branch3x3dbl_1", cin, 64, 1)
        conv(f"{name}.branch3x3dbl_2", 64, 96, 3)
        conv(f"{name}.branch3x3dbl_3", 96, 96, 3)
        conv(f"{name}.branch_pool", cin, pf, 1)
    conv("Mixed_6a.branch3x3", 288, 384, 3)
    conv("Mixed_6a.branch3x3dbl_1", 288, 64, 1)
    conv("Mixed_6a.branch3x3dbl_2", 64, 96, 3)
    conv("Mixed_6a.branch3x3dbl_3", 96, 96, 3)
    for name, c7 in (("Mixed_6b", 128), ("Mixed_6c", 160), ("Mixed_6d", 160), ("Mixed_6e", 192)):
        conv(f"{name}.branch1x1", 768, 192, 1)
        conv(f"{name}.branch7x7_1", 768, c7, 1)
        conv(f"{name}.branch7x7_2", c7, c7, 1, 7)
        conv(f"{name}.branch7x7_3", c7, 192, 7, 1)
        conv(f"{name}.branch7x7dbl_1", 768, c7, 1)
        conv(f"{name}.branch7x7dbl_2", c7, c7, 7, 1)
        conv(f"{name}.branch7x7dbl_3", c7, c7, 1, 7)
        conv(f"{name}.branch7x7dbl_4", c7, c7, 7, 1)
        conv(f"{name}.branch7x7dbl_5", c7, 192, 1, 7)
        conv(f"{name}.branch_pool", 768, 192, 1)
    conv("Mixed_7a.branch3x3_1", 768, 192, 1)
    conv("Mixed_7a.branch3x3_2", 192, 320, 3)
    conv("Mixed_7a.branch7x7x3_1", 768, 192, 1)
    conv("Mixed_7a.branch7x7x3_2", 192, 192, 1, 7)
    conv("Mixed_7a.branch7x7x3_3", 192, 192, 7, 1)
    conv("Mixed_7a.branch7x7x3_4", 192, 192, 3)
    for name, cin in (("Mixed_7b", 1280), ("Mixed_7c", 2048)):
        conv(f"{name}.branch1x1", cin, 320, 1)
        conv(f"{name}.branch3x3_1", cin, 384, 1)
        conv(f"{name}.branch3x3_2a", 384, 384, 1, 3)
        conv(f"{name}.branch3x3_2b", 384, 384, 3, 1)
        conv(f"{name}.branch3x3dbl_1", cin, 448, 1)
        conv(f"{name}.branch3x3dbl_2", 448, 384, 3)
        conv(f"{name}.branch3x3dbl_3a", 384, 384, 1, 3)
        conv(f"{name}.branch3x3dbl_3b", 384, 384, 3, 1)
        conv(f"{name}.branch_pool", cin, 192, 1)
    out["fc.weight"] = (1008, 2048)
    out["fc.bias"] = (1008,)
    return out


@pytest.fixture(scope="module")
def tiny():
    return random_fid_inception(width=0.0625, seed=3)


def _save(state, path):
    torch.save(state, path)
    return path


def test_layout_matches_pytorch_fid():
    model = FIDInceptionV3()
    keys = [(k, tuple(v.shape)) for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")]
    assert keys == list(pytorch_fid_layout().items())
    # torchvision's inception_v3 has 27,161,264 parameters; without its aux head (3,326,696) and with
    # 1008 instead of 1000 classes (+16,392): 23,850,960
    assert model.parameter_count() == 23_850_960
    assert model.pool_dim == 2048


def test_strict_loading_round_trip_and_errors(tmp_path, tiny):
    good = {k: v for k, v in random_fid_inception(seed=1).state_dict().items() if "num_batches" not in k}
    path = _save(good, str(tmp_path / "ok.pth"))
    net = load_fid_inception(path)
    for k, v in good.items():
        assert torch.equal(net.state_dict()[k], v), k

    bad = dict(good)
    del bad["Mixed_6d.branch1x1.bn.running_var"]
    bad["Mixed_8x.conv.weight"] = torch.zeros(1)
    bad["fc.weight"] = torch.zeros(1000, 2048)
    with pytest.raises(InceptionError) as e:
        load_fid_inception(_save(bad, str(tmp_path / "bad.pth")))
    msg = str(e.value)
    assert "\n" not in msg
    assert "missing keys: Mixed_6d.branch1x1.bn.running_var" in msg
    assert "unexpected keys: Mixed_8x.conv.weight" in msg
    assert "misshaped: fc.weight is [1000, 2048], expected [1008, 2048]" in msg
    assert "pt_inception-2015-12-05-6726825d.pth" in msg

    # torchvision's ImageNet Inception: an aux head and 1000 classes, named as such
    tv = dict(good)
    tv["AuxLogits.conv0.conv.weight"] = torch.zeros(128, 768, 1, 1)
    tv["fc.weight"], tv["fc.bias"] = torch.zeros(1000, 2048), torch.zeros(1000)
    with pytest.raises(InceptionError, match="torchvision's ImageNet Inception-v3"):
        load_fid_inception(_save(tv, str(tmp_path / "tv.pth")))

    # counters are neither required nor unexpected
    with_counters = random_fid_inception(seed=1).state_dict()
    assert any(k.endswith("num_batches_tracked") for k in with_counters)
    load_fid_inception(_save(with_counters, str(tmp_path / "counters.pth")))

    with pytest.raises(InceptionError, match="does not exist"):
        load_fid_inception(str(tmp_path / "absent.pth"))
    (tmp_path / "trunc.pth").write_bytes(open(path, "rb").read()[:1000])
    with pytest.raises(InceptionError, match="cannot be read by torch.load"):
        load_fid_inception(str(tmp_path / "trunc.pth"))
    with pytest.raises(InceptionError, match="not a plain state dict"):
        load_fid_inception(_save({"state_dict": good, "epoch": 3}, str(tmp_path / "wrapped.pth")))
    with pytest.raises(InceptionError, match="sFID needs 7"):
        FIDInceptionV3(width=0.03)
    check_state_dict({k: v for k, v in tiny.state_dict().items()}, tiny)  # a model's own state dict passes


def test_tf1_resize_matches_tf_semantics():
    x = torch.tensor([[10.0, 20.0], [30.0, 50.0]]).view(1, 1, 2, 2)
    y = tf1_bilinear(x, 4, 4)[0, 0]
    # source = dest * 2/4; the upper neighbour is clamped to the last row/column
    top = [10, 15, 20, 20]
    mid = [20, 27.5, 35, 35]  # halfway between rows 0 and 1
    bottom = [30, 40, 50, 50]
    assert torch.allclose(y, torch.tensor([top, mid, bottom, bottom], dtype=torch.float32))
    pics = torch.rand(2, 3, 17, 23) * 255
    assert torch.equal(tf1_bilinear(pics, 17, 23), pics)  # same size: identity
    # the two modes: ADM's scaling (x - 128) / 128, pytorch-fid's F.interpolate then 2x - 1
    p299 = torch.rand(1, 3, 299, 299) * 255
    assert torch.allclose(preprocess(p299, "adm"), (p299 - 128) / 128)
    p = torch.rand(1, 3, 40, 30) * 255
    want = 2 * F.interpolate(p / 255, size=(299, 299), mode="bilinear", align_corners=False) - 1
    assert torch.allclose(preprocess(p, "pytorch-fid"), want)
    assert not torch.allclose(preprocess(p, "adm"), preprocess(p, "pytorch-fid"), atol=1e-3)


def test_outputs_are_pool_unbiased_logits_and_adm_spatial(tiny):
    graph = FidFeatureGraph(tiny, "adm").eval()
    pics = torch.from_numpy(golden_pictures(3, 40, 56, 0)).permute(0, 3, 1, 2).float()
    seen = {}
    hook = tiny.Mixed_6d.branch1x1.register_forward_hook(lambda m, i, o: seen.setdefault("map", o))
    with torch.no_grad():
        pool, logits, spatial = graph(pics)
    hook.remove()
    assert pool.shape == (3, 128) and logits.shape == (3, 1008) and spatial.shape == (3, 2023)
    assert seen["map"].shape[1:] == (12, 17, 17)
    # ADM: spatial[..., :7] of the NHWC tensor mixed_6/conv, reshaped to [N, -1]
    nhwc = seen["map"].permute(0, 2, 3, 1)[..., :7]
    assert torch.equal(spatial, nhwc.reshape(3, -1))
    assert torch.allclose(logits, pool @ tiny.fc.weight.t())  # no bias (ADM's softmax graph)
    assert not torch.allclose(logits, tiny.fc(pool))
    assert float(seen["map"].min()) >= 0  # after the ReLU


def test_export_graph_and_manifest(tmp_path, tiny):
    man = export_features(tiny, str(tmp_path), name="inc", mode="adm", input_size=parse_size("48x64"))
    path = tmp_path / "inc.onnx"
    assert man["sha256"] == sha256_file(str(path)) and man["bytes"] == os.path.getsize(path)
    assert json.loads((tmp_path / "inc.json").read_text()) == man
    assert man["format"] == "parlab-image-features/1"
    assert man["input"] == {"name": "pictures", "layout": "NCHW", "height": 48, "width": 64,
                            "mean": [0.0, 0.0, 0.0], "std": [1 / 255] * 3, "resize": "cubic", "batchSize": None}
    assert man["outputs"] == {"features": "pool", "logits": "logits", "spatial": "spatial"}
    assert man["featureDim"] == 128 and len(man["classNames"]) == 1008
    g = onnx.load(str(path)).graph
    assert [i.name for i in g.input] == ["pictures"]
    dims = [d.dim_param or d.dim_value for d in g.input[0].type.tensor_type.shape.dim]
    assert dims == ["batch", 3, "height", "width"]
    assert [o.name for o in g.output] == ["pool", "logits", "spatial"]
    out_dims = [[d.dim_param or d.dim_value for d in o.type.tensor_type.shape.dim] for o in g.output]
    assert out_dims == [["batch", 128], ["batch", 1008], ["batch", 2023]]
    assert onnx.load(str(path)).opset_import[0].version == 17
    resize = [n for n in g.node if n.op_type == "Resize"]
    assert len(resize) == 1
    attrs = {a.name: a.s.decode() for a in resize[0].attribute if a.type == onnx.AttributeProto.STRING}
    assert attrs["coordinate_transformation_mode"] == "asymmetric" and attrs["mode"] == "linear"
    assert not any(n.op_type == "BatchNormalization" for n in g.node)  # folded into the convolutions


def test_cli(tmp_path, capsys):
    assert inception_main(["--random-weights", "--width", "0.0625", "--out", str(tmp_path), "--name", "t",
                           "--input-size", "32", "--preprocess", "pytorch-fid"]) == 0
    man = json.loads((tmp_path / "t.json").read_text())
    assert man["input"]["height"] == 32 and man["provenance"]["preprocess"] == "pytorch-fid"
    assert man["provenance"]["weights"].startswith("random")
    assert inception_main(["--weights", str(tmp_path / "nope.pth"), "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("inception: --weights:") and "does not exist" in err and "\n" not in err
    assert inception_main(["--weights", str(tmp_path / "x.pth"), "--width", "0.5", "--out", str(tmp_path)]) == 1
    assert "--width: only with --random-weights" in capsys.readouterr().err
    assert inception_main(["--random-weights", "--input-size", "0x3", "--out", str(tmp_path)]) == 1
    assert "is not a size" in capsys.readouterr().err
