import torch

from python.model import GPT, GPTConfig


def tiny_config(**kw) -> GPTConfig:
    base = dict(vocab_size=64, num_classes=5, dim=32, n_layer=2, n_head=4, n_kv_head=2, transition_tokens=3,
                height=4, width=4, multiple_of=16)
    base.update(kw)
    return GPTConfig(**base)


def random_model(seed: int = 0, **kw) -> GPT:
    torch.manual_seed(seed)
    m = GPT(tiny_config(**kw)).eval()
    with torch.no_grad():
        for p in m.parameters():
            p.normal_(0, 0.2)
    return m
