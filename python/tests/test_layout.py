import numpy as np
import torch

from python.layout import Layout
from python.schedule import make_grid, schedule_by_name


def par_group_mask(length: int, n: int) -> np.ndarray:
    """PAR's training mask as its paper describes it: causal, class column visible, full n-blocks from slot n."""
    m = np.tril(np.ones((length, length), dtype=bool))
    m[:, 0] = True
    for start in range(n, length, n):
        m[start : start + n, : start + n] = True
    return m


def test_par_layouts_match_par_training():
    g = make_grid(8, 8)
    for name, n in (("par4", 4), ("par16", 16)):
        lay = Layout(schedule_by_name(g, name), 100, 3)
        assert lay.length == 64
        assert np.array_equal(lay.mask_np, par_group_mask(64, n))
        assert lay.kind[0] == 0 and list(lay.kind[n + 1 : 2 * n]) == [2] * (n - 1)


def test_raster_is_causal_and_shifted():
    lay = Layout(schedule_by_name(make_grid(4, 4), "raster"), 100, 3)
    assert np.array_equal(lay.mask_np, np.tril(np.ones((16, 16), dtype=bool)))
    assert list(lay.cell) == [-1] + list(range(15))
    assert list(lay.target) == list(range(16))


def test_causal_and_noinit_variants():
    g = make_grid(4, 4)
    causal = Layout(schedule_by_name(g, "par4-causal"), 100, 3)
    assert np.array_equal(causal.mask_np, np.tril(np.ones((16, 16), dtype=bool)))
    noinit = Layout(schedule_by_name(g, "par4-noinit"), 100, 3)
    assert list(noinit.kind[:4]) == [0, 2, 2, 2]  # [cls, T1, T2, T3] predicts the first group
    assert noinit.mask_np[0, 3] and noinit.mask_np[3, 0] and not noinit.mask_np[3, 4]


def test_tensors():
    lay = Layout(schedule_by_name(make_grid(4, 4), "par4"), 100, 3)
    tokens = torch.arange(16).unsqueeze(0) + 10
    ids, pos, tgt, mask = lay.tensors(tokens, torch.tensor([2]))
    assert ids[0, 0] == 102  # class 2
    assert list(ids[0, 5:8]) == [104, 105, 106]  # T1..T3 = V + C + k
    assert pos[0, 0] == -1 and pos[0, 1] == 0
    assert torch.equal(tgt[0], tokens[0, torch.from_numpy(lay.target)])
    assert mask.shape == (1, 1, 16, 16)
