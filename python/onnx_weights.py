"""Load an exported step graph's weights back into a PyTorch GPT (for checks without onnxruntime).

Works for graphs exported with ``dtype="float16"`` (weights keep their parameter names, as
``model.<name>``) and for float32 graphs whose weights were not folded into other constants.
"""
from __future__ import annotations

import json
import os

import onnx
import torch
from onnx import numpy_helper

from .model import GPT, GPTConfig, load_state_dict_strict


def load_exported(manifest_path: str) -> GPT:
    man = json.load(open(manifest_path))
    graph = onnx.load(os.path.join(os.path.dirname(manifest_path), man["onnx"]))
    state = {}
    for init in graph.graph.initializer:
        if init.name.startswith("model."):
            state[init.name[len("model."):]] = torch.from_numpy(numpy_helper.to_array(init).astype("float32"))
    cfg_dict = man.get("provenance", {}).get("modelConfig")
    if cfg_dict:
        cfg = GPTConfig(**cfg_dict)
    else:
        cfg = GPTConfig(vocab_size=man["vocabSize"], num_classes=man["numClasses"], dim=man["dim"],
                        n_layer=man["layers"], n_head=man["heads"], n_kv_head=man["kvHeads"],
                        transition_tokens=man["transitionTokens"], height=man["grid"]["height"],
                        width=man["grid"]["width"], ffn_hidden=state["layers.0.feed_forward.w1.weight"].shape[0],
                        frames=man["grid"].get("frames", 1))
    model = GPT(cfg)
    load_state_dict_strict(model, state)
    return model.eval()
