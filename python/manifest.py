"""The JSON manifest written beside every exported .onnx (format ``parlab-model/1``).

``grid`` is frames x height x width (frames 1 for pictures); ``rope`` records the positional
table's layout: ``{"kind": "2d", "split": [row, col]}`` (LlamaGen/PAR) or, for a video model,
``{"kind": "3d", "split": [time, row, col]}`` (rotary pairs per coordinate, python/rope.py).
Manifests written before ``rope`` existed have none and are 2D.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from typing import Any, Dict, List, Optional

from .model import GPTConfig

DEFAULT_SAMPLING = {"cfgScale": 1.5, "cfgInterval": None, "temperature": 1.0, "topK": 0, "topP": 1.0}


def sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def external_locations(model) -> List[str]:
    """External data files an ``onnx.ModelProto`` references, in graph order: initializers and
    tensors inside node attributes (torch writes large ``Constant`` values out too), subgraphs included."""
    import onnx

    out: List[str] = []

    def tensor(t) -> None:
        if t.data_location == onnx.TensorProto.EXTERNAL:
            loc = next(e.value for e in t.external_data if e.key == "location")
            if loc not in out:
                out.append(loc)

    def graph(g) -> None:
        for t in g.initializer:
            tensor(t)
        for node in g.node:
            for a in node.attribute:
                if a.HasField("t"):
                    tensor(a.t)
                for t in a.tensors:
                    tensor(t)
                if a.HasField("g"):
                    graph(a.g)
                for sub in a.graphs:
                    graph(sub)

    graph(model.graph)
    return out


def graph_files(onnx_path: str) -> List[str]:
    """The .onnx file and every external data file it references, as paths relative to its folder
    (graph order). Reads only the graph's structure, not the weights."""
    import onnx

    return [os.path.basename(onnx_path)] + external_locations(onnx.load(onnx_path, load_external_data=False))


def file_entries(folder: str, names: List[str]) -> List[Dict]:
    """``[{"path", "bytes", "sha256"}]`` for files in ``folder`` (paths relative to it)."""
    return [{"path": n, "bytes": os.path.getsize(os.path.join(folder, n)), "sha256": sha256_file(os.path.join(folder, n))}
            for n in names]


def write_json_atomic(path: str, obj: Any, indent: Optional[int] = 1) -> None:
    """Write JSON to a temp file in the same folder, then rename over the target."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".json")
    with os.fdopen(fd, "w") as f:
        json.dump(obj, f, indent=indent)
        f.write("\n")
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def build_manifest(
    *,
    name: str,
    onnx_path: str,
    cfg: GPTConfig,
    schedule: Dict,
    dtype: str,
    class_names: Optional[List[str]] = None,
    sampling: Optional[Dict] = None,
    codebook: Optional[str] = None,
    provenance: Optional[Dict] = None,
    graph: str = "traced",
    compute: str = "float32",
    quantize: Optional[int] = None,
    sampling_head: bool = False,
    cache: str = "present",
) -> Dict:
    """The manifest dict for an exported model (paths relative to the manifest's folder).

    ``graph`` (traced / fused), ``compute`` (the graph's activation and KV-cache dtype) and
    ``quantization`` are written only when they differ from the traced fp32 default, and
    ``samplingHead`` (python/sampling_head.py) only when true, so the manifests of earlier
    exports stay byte-identical."""
    if class_names is None:
        class_names = [f"class {i}" for i in range(cfg.num_classes)]
    if len(class_names) != cfg.num_classes:
        raise ValueError(f"classNames has {len(class_names)} names but the model has {cfg.num_classes} classes")
    if schedule["transitionSlots"] > cfg.transition_tokens:
        raise ValueError(
            f"schedule {schedule['name']} needs {schedule['transitionSlots']} transition tokens,"
            f" the model has {cfg.transition_tokens}"
        )
    grid = schedule["grid"]
    if grid["frames"] != cfg.frames or grid["height"] != cfg.height or grid["width"] != cfg.width:
        kind = "video" if cfg.frames > 1 else "image"
        raise ValueError(
            f"schedule {schedule['name']} is on a {grid['frames']}x{grid['height']}x{grid['width']} grid (frames x height"
            f" x width) but the {kind} model's RoPE grid is {cfg.frames}x{cfg.height}x{cfg.width}: build the schedule on"
            f" make_grid({cfg.height}, {cfg.width}, {cfg.frames})")
    extra: Dict[str, Any] = {}
    if graph != "traced":
        extra["graph"] = graph
    if compute != "float32":
        extra["compute"] = compute
    if quantize:
        extra["quantization"] = {"bits": quantize, "blockSize": 32, "accuracyLevel": 4}
    if sampling_head:
        extra["samplingHead"] = True
    if cache != "present":
        extra["cache"] = cache  # "new": the graph returns this step's keys/values, not the grown cache
    return {
        "format": "parlab-model/1",
        "name": name,
        "onnx": os.path.basename(onnx_path),
        "sha256": sha256_file(onnx_path),
        # every file the graph needs: the .onnx, then its external data file (graphs over 2 GB)
        "files": file_entries(os.path.dirname(os.path.abspath(onnx_path)), graph_files(onnx_path)),
        "dtype": dtype,
        "vocabSize": cfg.vocab_size,
        "numClasses": cfg.num_classes,
        "classNames": list(class_names),
        "transitionTokens": cfg.transition_tokens,
        "grid": dict(grid),
        "rope": cfg.rope_spec(),
        "layers": cfg.n_layer,
        "heads": cfg.n_head,
        "kvHeads": cfg.kv_heads,
        "headDim": cfg.head_dim,
        "dim": cfg.dim,
        "schedule": schedule,
        "sampling": dict(sampling or DEFAULT_SAMPLING),
        "tokenizer": {"kind": "patch-kmeans", "codebook": codebook} if codebook else None,
        "provenance": dict(provenance or {}),
        **extra,
    }
