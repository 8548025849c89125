"""The model slot layout of a schedule: the training sequence, its positions, targets and mask.

Step s feeds [CLASS] (s = 0) or the cells of step s-1, then transition slots up to |S_s|; the
output of slot i predicts cell S_s[i]. Slot a may attend slot b iff step(b) < step(a), or the
same step and (attention "full" or b <= a). Concatenating all steps gives the training sequence
(PAR m=2 on 24x24: [cls, v1..v4, T1..T3, group 2, ...], 576 slots), identical to the sequence
PAR's training feeds, and the same inputs the sampler feeds step by step.
"""
from __future__ import annotations

import numpy as np
import torch

from .schedule import Schedule, cell_count, step_slots

KIND_CLASS, KIND_CELL, KIND_TRANSITION = 0, 1, 2
_KIND = {"class": KIND_CLASS, "cell": KIND_CELL, "transition": KIND_TRANSITION}


class Layout:
    """Per-slot arrays of a schedule's training sequence."""

    def __init__(self, schedule: Schedule, vocab_size: int, num_classes: int):
        self.schedule = schedule
        self.vocab_size, self.num_classes = vocab_size, num_classes
        kind, cell, trans, step_of, target = [], [], [], [], []
        for s, slots in enumerate(step_slots(schedule)):
            cells = schedule["steps"][s]["cells"]
            for i, slot in enumerate(slots):
                kind.append(_KIND[slot["kind"]])
                cell.append(slot["cell"])
                trans.append(slot["transition"])
                step_of.append(s)
                target.append(cells[i] if i < len(cells) else -1)
        self.kind = np.array(kind, dtype=np.int64)
        self.cell = np.array(cell, dtype=np.int64)
        self.transition = np.array(trans, dtype=np.int64)
        self.step = np.array(step_of, dtype=np.int64)
        self.target = np.array(target, dtype=np.int64)
        self.length = len(kind)
        self.num_cells = cell_count(schedule["grid"])
        full = np.array([st["attention"] == "full" for st in schedule["steps"]])
        sa, sb = self.step[:, None], self.step[None, :]
        idx = np.arange(self.length)
        same_ok = (sa == sb) & (full[self.step][:, None] | (idx[None, :] <= idx[:, None]))
        self.mask_np = (sb < sa) | same_ok
        self.mask = torch.from_numpy(self.mask_np)

    def tensors(self, tokens: torch.Tensor, labels: torch.Tensor):
        """Training inputs for token grids [B, cells] (int64) and labels [B] (C = null class).

        Returns input_ids [B, L], position_ids [B, L], targets [B, L] (-100 where none),
        attention_mask [1, 1, L, L].
        """
        b = tokens.shape[0]
        kind = torch.from_numpy(self.kind)
        cell = torch.from_numpy(self.cell)
        gathered = tokens[:, cell.clamp(min=0)]
        cls_ids = (self.vocab_size + labels).unsqueeze(1).expand(b, self.length)
        trans_ids = torch.from_numpy(self.vocab_size + self.num_classes + self.transition).expand(b, -1)
        input_ids = torch.where(kind == KIND_CELL, gathered, torch.where(kind == KIND_CLASS, cls_ids, trans_ids))
        position_ids = cell.unsqueeze(0).expand(b, -1)
        tgt = torch.from_numpy(self.target)
        targets = torch.where(tgt >= 0, tokens[:, tgt.clamp(min=0)], torch.full_like(gathered, -100))
        return input_ids, position_ids.contiguous(), targets, self.mask[None, None]
