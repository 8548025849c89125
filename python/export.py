"""Export a GPT to ONNX under parlab's step contract, plus its manifest.

Graph I/O (one graph = one decoding step with a KV cache):
  inputs:  input_ids int64 [B, T]; position_ids int64 [B, T] (-1 = no position);
           attention_mask bool [B, 1, T, P+T]; past.<i>.key / past.<i>.value float32 [B, Hkv, P, D]
  outputs: logits float32 [B, T, V]; present.<i>.key / present.<i>.value float32 [B, Hkv, P+T, D]
B, T and P are dynamic (P may be 0: pass [B, Hkv, 0, D] tensors at the first step).

``dtype="float16"`` stores the weights as fp16 initializers and casts them to fp32 inside the
graph, so every input and output stays float32 and the file is half the size (the casts act on
constants, which onnxruntime's graph optimizer may fold at session creation), and the numbers
equal a float32 model whose weights are rounded to fp16 (``round_to_fp16``). The RoPE table stays
the exact fp32 table. Opset 17, torch.onnx.export (torch 1.13 and 2.x).
"""
from __future__ import annotations

import argparse
import copy
import os
import time
from typing import Dict, List, Optional

import torch
import torch.nn as nn

from .manifest import build_manifest, external_locations, write_json_atomic
from .model import GPT


class StepGraph(nn.Module):
    """Flat-argument wrapper that torch.onnx.export can trace."""

    def __init__(self, model: GPT):
        super().__init__()
        self.model = model

    def forward(self, input_ids, position_ids, attention_mask, *past_flat):
        past = [(past_flat[2 * i], past_flat[2 * i + 1]) for i in range(len(past_flat) // 2)]
        logits, presents = self.model(input_ids, position_ids, attention_mask, past)
        out = [logits]
        for k, v in presents:
            out += [k, v]
        return tuple(out)


def io_names(n_layer: int):
    past = [f"past.{i}.{kv}" for i in range(n_layer) for kv in ("key", "value")]
    present = [f"present.{i}.{kv}" for i in range(n_layer) for kv in ("key", "value")]
    return ["input_ids", "position_ids", "attention_mask"] + past, ["logits"] + present


def round_to_fp16(model: GPT) -> GPT:
    """Round every parameter to fp16 precision in place (keeps fp32 storage); returns the model."""
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(p.half().float())
    return model


def gather_external_data(path: str, force: bool = False) -> None:
    """Keep a graph's external weights in ONE file, ``<graph>.onnx.data``, beside it.

    Over 2 GB torch.onnx.export writes one file per tensor, named after the tensor
    (``model.layers.0.attention.wqkv.weight``, ...), so two models exported into one folder would
    overwrite each other's weights. This gathers them (and deletes the per-tensor files); a graph
    without external data is left alone unless ``force`` (then its weights move out too: for
    testing loaders on small models). Holds the weights in memory once.
    """
    import onnx

    folder = os.path.dirname(os.path.abspath(path))
    g = onnx.load(path, load_external_data=False)
    old = set(external_locations(g))  # initializers and Constant attributes alike
    if not old and not force:
        return
    onnx.load_external_data_for_model(g, folder)
    data = os.path.basename(path) + ".data"
    for name in old | {data}:  # onnx appends to an existing data file: start from none
        if os.path.exists(os.path.join(folder, name)):
            os.remove(os.path.join(folder, name))
    onnx.save_model(g, path, save_as_external_data=True, all_tensors_to_one_file=True, location=data)


def export_onnx(model: GPT, path: str, dtype: str = "float32", opset: int = 17, external_data: bool = False) -> str:
    """Write ``model`` as a step graph to ``path``. Returns the path. Weights go to one
    ``<path>.data`` file beside it when the graph exceeds 2 GB, or always with ``external_data``."""
    if dtype not in ("float32", "float16"):
        raise ValueError(f'dtype must be "float32" or "float16", got {dtype!r}')
    cfg = model.config
    m = copy.deepcopy(model).eval().float()
    if dtype == "float16":
        rope = m.rope.clone()
        m = m.half()
        m.rope = rope  # only the weights go fp16; the RoPE table stays exactly the fp32 one
    b, t, p = 2, 3, 2
    ids = torch.zeros(b, t, dtype=torch.long)
    pos = torch.tensor([[0, 1, -1]] * b, dtype=torch.long)
    mask = torch.ones(b, 1, t, p + t, dtype=torch.bool)
    past = []
    for _ in range(cfg.n_layer):
        past += [torch.zeros(b, cfg.kv_heads, p, cfg.head_dim), torch.zeros(b, cfg.kv_heads, p, cfg.head_dim)]
    inputs, outputs = io_names(cfg.n_layer)
    axes: Dict[str, Dict[int, str]] = {
        "input_ids": {0: "batch", 1: "step"},
        "position_ids": {0: "batch", 1: "step"},
        "attention_mask": {0: "batch", 2: "step", 3: "total"},
        "logits": {0: "batch", 1: "step"},
    }
    for name in inputs[3:]:
        axes[name] = {0: "batch", 2: "past"}
    for name in outputs[1:]:
        axes[name] = {0: "batch", 2: "total"}
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = path + ".tmp"
    with torch.no_grad():
        torch.onnx.export(
            StepGraph(m),
            (ids, pos, mask, *past),
            tmp,
            input_names=inputs,
            output_names=outputs,
            dynamic_axes=axes,
            opset_version=opset,
            # folding would turn the fp16 initializers' casts into fp32 initializers again
            do_constant_folding=dtype == "float32",
        )
    compact_names(tmp)
    os.replace(tmp, path)
    gather_external_data(path, force=external_data)
    return path


def compact_names(path: str, keep_weight_aliases: bool = False) -> None:
    """Drop node names and shorten intermediate tensor names (graph I/O and weights keep theirs).

    torch.onnx names every node and value after its module path; on a tiny model those strings
    are a fifth of the file. The names carry no meaning for onnxruntime. ``keep_weight_aliases``
    also keeps the outputs of ``Identity`` nodes fed by a weight: torch merges equal weights into
    one initializer and names such nodes after the others (the VQ tokenizer's export keeps them,
    so every checkpoint key can be found in the graph again).
    """
    import onnx

    model = onnx.load(path, load_external_data=False)  # >2 GB models keep their external data files
    g = model.graph
    inits = {i.name for i in g.initializer}
    keep = {v.name for v in g.input} | {v.name for v in g.output} | inits
    if keep_weight_aliases:
        keep |= {n.output[0] for n in g.node if n.op_type == "Identity" and n.input[0] in inits}
    rename: Dict[str, str] = {}

    def short(name: str) -> str:
        if name == "" or name in keep:
            return name
        if name not in rename:
            rename[name] = f"v{len(rename)}"
        return rename[name]

    for node in g.node:
        node.name = ""
        node.doc_string = ""
        for i, n in enumerate(node.input):
            node.input[i] = short(n)
        for i, n in enumerate(node.output):
            node.output[i] = short(n)
    for vi in g.value_info:
        vi.name = short(vi.name)
    onnx.save(model, path)


def export_with_manifest(
    model: GPT,
    out_dir: str,
    name: str,
    schedule: Dict,
    dtype: str = "float32",
    class_names: Optional[List[str]] = None,
    sampling: Optional[Dict] = None,
    codebook: Optional[str] = None,
    provenance: Optional[Dict] = None,
    external_data: bool = False,
    graph: str = "traced",
    compute: str = "float32",
    quantize: Optional[int] = None,
    sampling_head: bool = False,
    attention: Optional[str] = None,
) -> Dict:
    """Export ``<out_dir>/<name>.onnx`` and write ``<out_dir>/<name>.json``; returns the manifest.

    ``graph="traced"`` (torch.onnx.export, any model) or ``"fused"`` (python/fused.py: fewer,
    fused operators, same contract; ``compute`` float16 and ``quantize`` 8 / 4 bits apply there).
    ``attention`` (fused only): ``"split"`` (default for float32: the CPU's layout, no grown-cache
    outputs, manifest ``cache: "new"``) or ``"mha"`` (default for float16: the GPU backends').
    ``sampling_head`` appends python/sampling_head.py's in-graph draw (inputs ``draw_*``, output
    ``tokens``) and writes ``samplingHead: true`` into the manifest.
    """
    if graph not in ("traced", "fused"):
        raise ValueError(f'graph must be "traced" or "fused", got {graph!r}')
    if graph == "traced" and (compute != "float32" or quantize):
        raise ValueError("compute float16 and quantize need graph='fused'")
    if graph == "traced" and attention:
        raise ValueError("attention applies to graph='fused' only")
    if graph == "fused" and attention is None:
        attention = "split" if compute == "float32" else "mha"
    onnx_path = os.path.join(out_dir, f"{name}.onnx")
    t0 = time.time()
    if graph == "traced":
        export_onnx(model, onnx_path, dtype=dtype, external_data=external_data)
    else:
        from .fused import export_fused

        # accuracy level 4: int8 activations against the int weights (MLAS's integer kernels);
        # level 0 dequantizes to fp32 and measured slower than the fp32 graph
        export_fused(model, onnx_path, compute=compute, weights=dtype, quantize=quantize, attention=attention,
                     accuracy_level=4 if quantize else 0)
        gather_external_data(onnx_path, force=external_data)
    if sampling_head:
        from .sampling_head import add_sampling_head_file

        add_sampling_head_file(onnx_path)
    prov = dict(provenance or {})
    prov.setdefault("torch", torch.__version__)
    prov.setdefault("modelConfig", model.config.to_dict())
    prov.setdefault("exportSeconds", round(time.time() - t0, 2))
    manifest = build_manifest(
        name=name,
        onnx_path=onnx_path,
        cfg=model.config,
        schedule=schedule,
        dtype=dtype,
        class_names=class_names,
        sampling=sampling,
        codebook=codebook,
        provenance=prov,
        graph=graph,
        compute=compute,
        quantize=quantize,
        sampling_head=sampling_head,
        cache="new" if attention == "split" else "present",
    )
    write_json_atomic(os.path.join(out_dir, f"{name}.json"), manifest)
    return manifest


def main(argv=None) -> int:
    """CLI: export a training checkpoint of python.train (LlamaGen/PAR checkpoints: python.convert)."""
    import json
    import sys

    from .model import GPTConfig
    from .schedule import make_grid, schedule_by_name

    p = argparse.ArgumentParser(prog="python -m python.export", description=main.__doc__)
    p.add_argument("--checkpoint", required=True, help="ckpt.pt written by python.train")
    p.add_argument("--out", required=True, help="folder for <name>.onnx and <name>.json")
    p.add_argument("--name", help="model name (default: the schedule name)")
    p.add_argument("--dtype", default="float32", choices=["float32", "float16"], help="weight storage")
    p.add_argument("--graph", default="fused", choices=["fused", "traced"],
                   help="fused: onnxruntime's fused operators (faster; no grouped kv heads); traced: torch.onnx.export")
    p.add_argument("--compute", default="float32", choices=["float32", "float16"],
                   help="float16: half-precision graph for the GPU backends (fused only)")
    p.add_argument("--quantize", type=int, choices=[8, 4], help="block-wise int weights for the CPU (fused only)")
    p.add_argument("--attention", choices=["split", "mha"],
                   help="fused only: split (CPU; default for float32) or mha (GPU backends; default for float16)")
    p.add_argument("--sampling-head", action="store_true",
                   help="draw tokens inside the graph too (python/sampling_head.py; manifest samplingHead)")
    p.add_argument("--cfg-scale", type=float, default=1.5)
    p.add_argument("--codebook", help="tokenizer codebook path, relative to --out")
    p.add_argument("--like", metavar="MANIFEST",
                   help="re-export an exported model (e.g. as --graph fused): keep this manifest's name, weight "
                        "dtype, schedule, classes, sampling, tokenizer and provenance; the checkpoint must match it")
    args = p.parse_args(argv)
    if not args.cfg_scale >= 1:
        print(f"export: --cfg-scale {args.cfg_scale} is below 1: guidance needs a scale >= 1 (1 = none)", file=sys.stderr)
        return 1
    try:
        ck = torch.load(args.checkpoint, map_location="cpu")
    except Exception as e:  # noqa: BLE001
        print(f"export: cannot read {args.checkpoint}: {e}", file=sys.stderr)
        return 1
    if not isinstance(ck, dict) or "model_config" not in ck:
        print(f"export: {args.checkpoint} is not a python.train checkpoint; for LlamaGen/PAR checkpoints use"
              " python -m python.convert", file=sys.stderr)
        return 1
    cfg = GPTConfig(**ck["model_config"])
    model = GPT(cfg)
    model.load_state_dict(ck["model"])
    if args.dtype == "float16":
        round_to_fp16(model)
    # A run trained with --schedule FILE.json stores the schedule itself; named ones are rebuilt.
    schedule = ck.get("scheduleSpec") or schedule_by_name(make_grid(cfg.height, cfg.width, cfg.frames), ck["schedule"])
    log = ck.get("log", {})
    prov = {"checkpoint": os.path.basename(args.checkpoint), "steps": ck.get("step"),
            "finalValNll": log["val"][-1]["nll"] if log.get("val") else None, "data": log.get("data")}
    sampling = {"cfgScale": args.cfg_scale, "cfgInterval": None, "temperature": 1.0, "topK": 0, "topP": 1.0}
    name, dtype, class_names, codebook = args.name or ck["schedule"], args.dtype, ck.get("class_names"), args.codebook
    if args.like:
        try:
            like = json.load(open(args.like))
        except (OSError, ValueError) as e:
            print(f"export: --like {args.like}: cannot read it as JSON ({e})", file=sys.stderr)
            return 1
        geometry = {"vocabSize": cfg.vocab_size, "numClasses": cfg.num_classes, "layers": cfg.n_layer,
                    "dim": cfg.dim, "heads": cfg.n_head, "kvHeads": cfg.kv_heads, "transitionTokens": cfg.transition_tokens}
        wrong = [f"{k} {like.get(k)} (checkpoint {v})" for k, v in geometry.items() if like.get(k) != v]
        if wrong:
            print(f"export: --like {args.like} does not describe this checkpoint: {', '.join(wrong)}. Fix: pass the "
                  "manifest exported from this checkpoint", file=sys.stderr)
            return 1
        name, dtype, class_names = args.name or like["name"], like["dtype"], like.get("classNames")
        schedule, sampling = like.get("schedule") or schedule, like.get("sampling") or sampling
        codebook = (like.get("tokenizer") or {}).get("codebook") or codebook
        prov = dict(like.get("provenance") or {})
        prov["reexportedFrom"] = {"sha256": like.get("sha256"), "graph": like.get("graph", "traced")}
        if dtype == "float16":
            round_to_fp16(model)
    man = export_with_manifest(model.eval(), args.out, name, schedule, dtype=dtype, class_names=class_names,
                               sampling=sampling, codebook=codebook, provenance=prov, graph=args.graph,
                               compute=args.compute, quantize=args.quantize, sampling_head=args.sampling_head,
                               attention=args.attention)
    print(json.dumps({k: man.get(k) for k in ("name", "onnx", "dtype", "graph", "compute", "layers", "dim", "heads")}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
