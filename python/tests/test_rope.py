import math

import torch

from python.rope import apply_rope, rope_table
from python.schedule import make_grid, region_order


def test_layout_rows_then_columns():
    h, w, d = 4, 6, 16
    t = rope_table(h, w, d)
    assert t.shape == (1 + h * w, d // 2, 2)
    assert torch.all(t[0] == 0)  # the zero row for class / transition slots
    half = d // 2
    freqs = [1.0 / (10000 ** (2 * j / half)) for j in range(half // 2)]
    for r in range(h):
        for c in range(w):
            row = t[1 + r * w + c]
            for j, f in enumerate(freqs):
                assert math.isclose(row[j, 0].item(), math.cos(r * f), abs_tol=1e-6)  # first half: row
                assert math.isclose(row[j, 1].item(), math.sin(r * f), abs_tol=1e-6)
                assert math.isclose(row[half // 2 + j, 0].item(), math.cos(c * f), abs_tol=1e-6)  # then column
                assert math.isclose(row[half // 2 + j, 1].item(), math.sin(c * f), abs_tol=1e-6)


def test_par_sequence_table_is_a_reindexing():
    # PAR indexes its table by sequence slot: [cls zero, first n cells (region order), n-1 zero rows, rest].
    g, d, m = 8, 16, 2
    n = m * m
    table = rope_table(g, g, d)
    order = region_order(make_grid(g, g), m)
    positions = [-1] + order[:n] + [-1] * (n - 1) + order[n:]
    seq = table[torch.tensor(positions) + 1]
    assert seq.shape[0] == 1 + g * g + n - 1
    assert torch.all(seq[0] == 0) and torch.all(seq[1 + n : 2 * n] == 0)
    # slot 1 + k (k < n) is region k's first cell: (row, col) = (k // m * g/m, k % m * g/m)
    for k in range(n):
        r, c = (k // m) * (g // m), (k % m) * (g // m)
        assert torch.equal(seq[1 + k], table[1 + r * g + c])


def test_zero_row_zeroes_queries():
    x = torch.randn(1, 2, 3, 8)
    cs = torch.stack([rope_table(2, 2, 8)[0], rope_table(2, 2, 8)[1]])[None]
    y = apply_rope(x, cs)
    assert torch.all(y[0, 0] == 0)
    assert torch.allclose(y[0, 1], x[0, 1])  # cell (0, 0): angle 0, identity
