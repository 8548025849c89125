"""Reference sampler: any schedule x a step model (KV cache) x sampling settings -> token grids.

Pictures and clips alike: a cell is a flat index over frames x height x width (frame-major,
``f*H*W + r*W + c``), the position id the model's table is indexed by (2D RoPE for pictures, 3D
for clips), so a video model runs its video schedule through exactly this algorithm.

The TypeScript sampler implements the same algorithm (same distribution, same inverse-CDF rule);
its float64 rounding differs in the last bits (its exp is not NumPy's, and without top-k/top-p it
accumulates e_v against S instead of p_v against 1), so python/golden.py records each draw's margin
to the nearest cumulative boundary and the parity tests compare tokens up to the first draw whose
margin is below 1e-4.

Per step s of the schedule (slots from ``schedule.step_slots``):

1. Inputs. Rows are the images' conditional rows (class c -> id V + c) followed, when guidance
   is on (cfgScale > 1), by as many unconditional rows (null class, id V + C); row b + Bc shares
   the tokens of row b. Slot i of step s holds: s == 0: the class id; a cell slot: the token
   sampled for that cell; transition slot k: id V + C + k. position_ids: the cell, -1 for class
   and transition slots. attention_mask [B, 1, T, P + T]: every past slot true; among this
   step's slots all true if the step's attention is "full", else j <= i. P = slots fed so far.
2. Logits for slot i (i < |S_s|) predict cell S_s[i]. With guidance active at step s:
   l = u + cfgScale * (c - u), computed in float64 from the float32 logits c (cond row) and
   u (uncond row); otherwise l = c (float64). cfgScale must be >= 1 (the official sampler
   guides only above 1; a scale below 1 is refused). Guidance is active when cfgScale > 1 and
   the interval rule allows it (``guidance_active``):
   - rule "steps" (parlab's default): cfgInterval is None or s < cfgInterval.
   - rule "official" (PAR's / LlamaGen's ``generate``): the steps form three phases: the prefill
     (step 0), the sequential phase (the following one-cell steps) and the parallel phase (from
     the first later step with more than one cell). i = cells sampled earlier in the step's own
     phase. The prefill is always guided; a later step is unguided iff cfgInterval is not None
     and cfgInterval > -1 and i > cfgInterval. (The official "guidance off" flag is reset when
     the parallel phase begins, and it counts tokens, not steps: on PAR-4x, cfgInterval 1
     guides steps 0, 1, 2 and the first parallel step, whose i = 0, and nothing else.)
3. Probabilities (float64): z = l / temperature; e_v = exp(z_v - max(z)); p_v = e_v / S where
   S = e_0 + e_1 + ... + e_{V-1} summed sequentially in ascending id order.
4. top-k (topK > 0 and topK < V): keep the topK ids with the largest p, ties broken by the
   lower id first (sort by (-p, id)). The kept ids' p are renormalised: divided by their sum
   (sequential, in that sorted order).
5. top-p (topP < 1): sort the kept ids by (-p, id); walk that order accumulating p sequentially
   and keep ids up to and including the first one at which the running sum >= topP (all ids if
   it never reaches topP).
6. Pick with the uniform u_k in [0, 1) given for this token: over the kept ids in ascending id
   order, accumulate p sequentially (cum_j); total = the final cum; return the first id whose
   cum_j > u_k * total (the last kept id if none, which only rounding can cause).
   uniforms has shape [Bc, numCells] and is consumed in schedule order: the k-th cell sampled
   for image b (step by step, cells in step order) uses uniforms[b, k].
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence

import numpy as np
import torch

from .schedule import Schedule, cell_count, step_slots


CFG_RULES = ("steps", "official")


@dataclass
class Sampling:
    """Sampling settings. ``cfg_rule`` picks how ``cfg_interval`` is read (module docstring, step 2)."""

    cfg_scale: float = 1.5
    cfg_interval: Optional[float] = None
    temperature: float = 1.0
    top_k: int = 0
    top_p: float = 1.0
    cfg_rule: str = "steps"

    def __post_init__(self) -> None:
        if not self.cfg_scale >= 1.0:
            raise ValueError(
                f"cfgScale {self.cfg_scale} is below 1: guidance (classifier-free) is defined for scales >= 1,"
                " as in the official PAR/LlamaGen sampler, which guides only above 1."
                " Fix: use 1 for no guidance, or a scale above 1 (PAR's defaults are 1.345-1.5)"
            )
        if self.cfg_rule not in CFG_RULES:
            raise ValueError(f'cfgIntervalRule must be one of {", ".join(CFG_RULES)}, got {self.cfg_rule!r}')

    @property
    def guided(self) -> bool:
        """Whether unconditional rows are fed at all (the scale is above 1)."""
        return self.cfg_scale > 1.0

    @staticmethod
    def from_manifest(d: Dict) -> "Sampling":
        return Sampling(d["cfgScale"], d.get("cfgInterval"), d["temperature"], d["topK"], d["topP"],
                        d.get("cfgIntervalRule", "steps"))


def guidance_active(schedule: Schedule, sampling: Sampling) -> List[bool]:
    """Per step of ``schedule``: is guidance applied (module docstring, step 2)?"""
    steps = schedule["steps"]
    if not sampling.guided:
        return [False] * len(steps)
    interval = sampling.cfg_interval
    if sampling.cfg_rule == "steps":
        return [interval is None or s < interval for s in range(len(steps))]
    out, i, parallel = [], 0, False
    for s, step in enumerate(steps):
        if s == 0:
            out.append(True)  # the prefill: always guided
            continue
        if not parallel and len(step["cells"]) > 1:
            parallel, i = True, 0  # a new phase: the official flag starts True again
        out.append(not (interval is not None and interval > -1 and i > interval))
        i += len(step["cells"])
    # the official flag, once off, stays off within a phase: i only grows, so the test above is monotone
    return out


def pick_token(logits: np.ndarray, u: float, temperature: float = 1.0, top_k: int = 0, top_p: float = 1.0) -> int:
    """Steps 3-6 of the module docstring for one float64 logit row ``logits`` [V]."""
    return pick_token_with_margin(logits, u, temperature, top_k, top_p)[0]


def pick_token_with_margin(
    logits: np.ndarray, u: float, temperature: float = 1.0, top_k: int = 0, top_p: float = 1.0
):
    """(token, margin): margin = distance of u * total from the nearest edge of the chosen id's
    CDF interval, as a fraction of the total. A draw with a tiny margin may go the other way
    under logits that differ in the last digits (onnxruntime vs PyTorch)."""
    z = np.asarray(logits, dtype=np.float64) / temperature
    e = np.exp(z - z.max())
    p = e / np.cumsum(e)[-1]
    v = p.shape[0]
    kept = np.arange(v)
    if 0 < top_k < v:
        order = np.lexsort((np.arange(v), -p))  # by -p, then id
        kept = order[:top_k]
        p = p.copy()
        sel = p[kept]
        p[kept] = sel / np.cumsum(sel)[-1]
    if top_p < 1.0:
        ids = kept
        order = ids[np.lexsort((ids, -p[ids]))]
        run = np.cumsum(p[order])
        hit = np.nonzero(run >= top_p)[0]
        kept = order if hit.size == 0 else order[: hit[0] + 1]
    kept = np.sort(kept)
    cum = np.cumsum(p[kept])
    target = u * cum[-1]
    above = np.nonzero(cum > target)[0]
    j = int(above[0]) if above.size else len(kept) - 1
    lower = cum[j - 1] if j > 0 else 0.0
    margin = min(cum[j] - target, target - lower) / cum[-1]
    return int(kept[j]), float(margin)


StepFn = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]


def torch_step_fn(model) -> Callable:
    """Wrap a GPT into a stateful step function (numpy in, numpy logits out) with a KV cache."""
    state = {"past": None}

    @torch.no_grad()
    def step(input_ids: np.ndarray, position_ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        logits, presents = model(
            torch.from_numpy(input_ids), torch.from_numpy(position_ids), torch.from_numpy(mask), state["past"]
        )
        state["past"] = presents
        return logits.numpy()

    step.state = state  # type: ignore[attr-defined]
    return step


def step_inputs(
    slots: List[Dict], attention: str, tokens: np.ndarray, row_classes: Sequence[int], vocab: int, classes: int, past: int
):
    """input_ids, position_ids [B, T] int64 and attention_mask [B, 1, T, past + T] bool for one step.

    ``tokens`` [B, cells] holds sampled tokens per row (-1 unsampled); ``row_classes`` the class
    index per row (``classes`` = null class).
    """
    b, t = len(row_classes), len(slots)
    ids = np.zeros((b, t), dtype=np.int64)
    pos = np.full((b, t), -1, dtype=np.int64)
    for i, slot in enumerate(slots):
        if slot["kind"] == "class":
            ids[:, i] = vocab + np.asarray(row_classes, dtype=np.int64)
        elif slot["kind"] == "cell":
            ids[:, i] = tokens[:, slot["cell"]]
            pos[:, i] = slot["cell"]
        else:
            ids[:, i] = vocab + classes + slot["transition"]
    inner = np.ones((t, t), dtype=bool) if attention == "full" else np.tril(np.ones((t, t), dtype=bool))
    mask = np.concatenate([np.ones((t, past), dtype=bool), inner], axis=1)
    mask = np.broadcast_to(mask, (b, 1, t, past + t)).copy()
    return ids, pos, mask


def sample(
    step_fn: StepFn,
    schedule: Schedule,
    classes: Sequence[int],
    uniforms: np.ndarray,
    vocab: int,
    num_classes: int,
    sampling: Sampling,
    record: Optional[Callable[[int, Dict[str, np.ndarray]], None]] = None,
    max_steps: Optional[int] = None,
    margins: Optional[np.ndarray] = None,
) -> np.ndarray:
    """Run the schedule; returns tokens [Bc, cells] (int64; -1 for cells left when max_steps stops early).

    ``record(step, arrays)`` receives each step's inputs, logits and sampled cells (for golden files);
    ``margins`` [Bc, cells] float64, if given, receives each draw's margin (see pick_token_with_margin).
    """
    bc = len(classes)
    cfg_on = sampling.guided
    active = guidance_active(schedule, sampling)
    rows = list(classes) + ([num_classes] * bc if cfg_on else [])
    n_cells = cell_count(schedule["grid"])
    if uniforms.shape != (bc, n_cells):
        raise ValueError(f"uniforms must have shape [{bc}, {n_cells}], got {list(uniforms.shape)}")
    tokens = np.full((len(rows), n_cells), -1, dtype=np.int64)
    past, k = 0, 0
    all_slots = step_slots(schedule)
    for s, step in enumerate(schedule["steps"]):
        if max_steps is not None and s >= max_steps:
            break
        ids, pos, mask = step_inputs(all_slots[s], step["attention"], tokens, rows, vocab, num_classes, past)
        logits = step_fn(ids, pos, mask)
        past += ids.shape[1]
        guided = active[s]
        for i, cell in enumerate(step["cells"]):
            for b in range(bc):
                c = logits[b, i].astype(np.float64)
                if guided:
                    u = logits[b + bc, i].astype(np.float64)
                    c = u + sampling.cfg_scale * (c - u)
                tok, margin = pick_token_with_margin(
                    c, float(uniforms[b, k + i]), sampling.temperature, sampling.top_k, sampling.top_p
                )
                tokens[b, cell] = tok
                if margins is not None:
                    margins[b, cell] = margin
                if cfg_on:
                    tokens[b + bc, cell] = tok
        k += len(step["cells"])
        if record is not None:
            record(s, {"input_ids": ids, "position_ids": pos, "attention_mask": mask, "logits": logits,
                       "cells": np.array(step["cells"], dtype=np.int64), "past": past - ids.shape[1]})
    return tokens[:bc]
