import json
import os

import onnx

from python.export import export_with_manifest
from python.manifest import sha256_file
from python.schedule import make_grid, schedule_by_name

from .helpers import random_model


def _dims(value_info):
    return [d.dim_param or d.dim_value for d in value_info.type.tensor_type.shape.dim]


def test_export_contract(tmp_path):
    model = random_model()
    sched = schedule_by_name(make_grid(4, 4), "par4")
    for dtype in ("float32", "float16"):
        man = export_with_manifest(model, str(tmp_path), f"m-{dtype}", sched, dtype=dtype)
        path = os.path.join(tmp_path, man["onnx"])
        g = onnx.load(path)
        onnx.checker.check_model(g)
        ins = {i.name: i for i in g.graph.input}
        outs = {o.name: o for o in g.graph.output}
        assert list(ins)[:3] == ["input_ids", "position_ids", "attention_mask"]
        assert _dims(ins["input_ids"]) == ["batch", "step"]
        assert _dims(ins["attention_mask"]) == ["batch", 1, "step", "total"]
        assert ins["attention_mask"].type.tensor_type.elem_type == onnx.TensorProto.BOOL
        assert _dims(ins["past.1.value"]) == ["batch", 2, "past", 8]
        assert ins["past.0.key"].type.tensor_type.elem_type == onnx.TensorProto.FLOAT
        assert _dims(outs["logits"]) == ["batch", "step", 64]
        assert _dims(outs["present.1.key"]) == ["batch", 2, "total", 8]
        biggest = max(g.graph.initializer, key=lambda i: len(i.raw_data))  # tok_embeddings / output
        assert biggest.data_type == (onnx.TensorProto.FLOAT16 if dtype == "float16" else onnx.TensorProto.FLOAT)
        on_disk = json.load(open(os.path.join(tmp_path, f"m-{dtype}.json")))
        assert on_disk["sha256"] == sha256_file(path)
        assert on_disk["format"] == "parlab-model/1" and on_disk["dtype"] == dtype
        assert on_disk["kvHeads"] == 2 and on_disk["headDim"] == 8 and on_disk["transitionTokens"] == 3
        assert on_disk["schedule"]["name"] == "par4"


def test_fp16_export_keeps_the_fp32_rope_table(tmp_path):
    import numpy as np
    from onnx import numpy_helper

    model = random_model()
    export_with_manifest(model, str(tmp_path), "h", schedule_by_name(make_grid(4, 4), "par4"), dtype="float16")
    g = onnx.load(os.path.join(tmp_path, "h.onnx"))
    want = model.rope.flatten(1).numpy()
    tables = [numpy_helper.to_array(a.t) for n in g.graph.node if n.op_type == "Constant" for a in n.attribute
              if a.t.dims and list(a.t.dims) == list(want.shape)]
    tables += [numpy_helper.to_array(i) for i in g.graph.initializer if list(i.dims) == list(want.shape)]
    assert tables and all(t.dtype == np.float32 and np.array_equal(t, want) for t in tables)
