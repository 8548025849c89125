"""The JSON manifest written beside every exported .onnx (format ``parlab-model/1``)."""
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
) -> Dict:
    """The manifest dict for an exported model (paths relative to the manifest's folder)."""
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
    if grid["frames"] != 1 or grid["height"] != cfg.height or grid["width"] != cfg.width:
        raise ValueError(f"schedule grid {grid} does not match the model's {cfg.height}x{cfg.width} RoPE grid")
    return {
        "format": "parlab-model/1",
        "name": name,
        "onnx": os.path.basename(onnx_path),
        "sha256": sha256_file(onnx_path),
        "dtype": dtype,
        "vocabSize": cfg.vocab_size,
        "numClasses": cfg.num_classes,
        "classNames": list(class_names),
        "transitionTokens": cfg.transition_tokens,
        "grid": dict(grid),
        "layers": cfg.n_layer,
        "heads": cfg.n_head,
        "kvHeads": cfg.kv_heads,
        "headDim": cfg.head_dim,
        "dim": cfg.dim,
        "schedule": schedule,
        "sampling": dict(sampling or DEFAULT_SAMPLING),
        "tokenizer": {"kind": "patch-kmeans", "codebook": codebook} if codebook else None,
        "provenance": dict(provenance or {}),
    }
