import numpy as np
import torch

from python.export import round_to_fp16
from python.layout import Layout
from python.model import GPT, find_multiple, swiglu_hidden
from python.sampler import step_inputs
from python.schedule import make_grid, schedule_by_name, step_slots

from .helpers import random_model, tiny_config


def test_swiglu_hidden_rounding():
    assert find_multiple(2730, 256) == 2816
    assert swiglu_hidden(1280) == 3584  # XL
    assert swiglu_hidden(3200) == 8704  # 3B
    assert swiglu_hidden(768) == 2048  # B


def test_parameter_names_and_shapes():
    m = GPT(tiny_config())
    shapes = {k: tuple(v.shape) for k, v in m.state_dict().items()}
    assert shapes["tok_embeddings.weight"] == (64, 32)
    assert shapes["cls_embedding.embedding_table.weight"] == (6, 32)
    assert shapes["spe_tok_embeddings.special_embeddings.weight"] == (3, 32)
    assert shapes["layers.1.attention.wqkv.weight"] == ((4 + 2 * 2) * 8, 32)
    assert shapes["layers.0.feed_forward.w2.weight"] == (32, 96)
    assert "rope" not in shapes
    assert "spe_tok_embeddings.special_embeddings.weight" not in GPT(tiny_config(transition_tokens=0)).state_dict()


def _cached_decode_matches_training(name: str, **kw):
    model = random_model(**kw)
    cfg = model.config
    sched = schedule_by_name(make_grid(4, 4), name)
    lay = Layout(sched, cfg.vocab_size, cfg.num_classes)
    g = torch.Generator().manual_seed(1)
    tokens = torch.randint(0, cfg.vocab_size, (2, 16), generator=g)
    labels = torch.tensor([1, cfg.num_classes])
    ids, pos, tgt, mask = lay.tensors(tokens, labels)
    with torch.no_grad():
        full, _ = model(ids, pos, mask)
    rows = labels.tolist()
    tok_np = tokens.numpy()
    past, p, offset = None, 0, 0
    for s, slots in enumerate(step_slots(sched)):
        i, po, ma = step_inputs(slots, sched["steps"][s]["attention"], tok_np, rows, cfg.vocab_size, cfg.num_classes, p)
        with torch.no_grad():
            logits, past = model(torch.from_numpy(i), torch.from_numpy(po), torch.from_numpy(ma), past)
        t = i.shape[1]
        assert torch.equal(torch.from_numpy(i), ids[:, offset : offset + t])
        assert torch.allclose(logits, full[:, offset : offset + t], atol=1e-5), (name, s)
        p += t
        offset += t
    assert offset == lay.length


def test_cached_decode_equals_training_forward():
    for name in ("raster", "par4", "par4-causal", "par4-noinit", "raster4"):
        _cached_decode_matches_training(name, transition_tokens=0 if name == "raster" else 3)
    _cached_decode_matches_training("par16", transition_tokens=15, n_kv_head=None)


def test_transition_and_class_slots_have_no_rotation():
    model = random_model()
    ids = torch.tensor([[64 + 1, 64 + 5 + 1]])
    mask = torch.ones(1, 1, 2, 2, dtype=torch.bool)
    a, _ = model(ids, torch.tensor([[-1, -1]]), mask)
    # moving a position-less slot cannot change anything; a cell slot at position 5 vs 6 does
    ids2 = torch.tensor([[3, 4]])
    b1, _ = model(ids2, torch.tensor([[5, 6]]), mask)
    b2, _ = model(ids2, torch.tensor([[5, 7]]), mask)
    assert not torch.allclose(b1, b2)
    assert torch.isfinite(a).all()


def test_fp16_rounding_is_idempotent():
    m = round_to_fp16(random_model())
    for p in m.parameters():
        assert torch.equal(p, p.half().float())
