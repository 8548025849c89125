import numpy as np

from python.sampler import pick_token


def test_inverse_cdf_over_ascending_ids():
    logits = np.log(np.array([0.1, 0.2, 0.3, 0.4]))
    assert pick_token(logits, 0.0) == 0
    assert pick_token(logits, 0.099) == 0
    assert pick_token(logits, 0.101) == 1
    assert pick_token(logits, 0.61) == 3
    assert pick_token(logits, 0.999999) == 3


def test_top_k_ties_prefer_lower_ids():
    logits = np.zeros(5)
    for u in np.linspace(0, 0.99, 7):
        assert pick_token(logits, u, top_k=2) in (0, 1)
    assert pick_token(logits, 0.6, top_k=2) == 1


def test_top_p_smallest_prefix():
    logits = np.log(np.array([0.05, 0.5, 0.3, 0.15]))
    # descending: 1 (0.5), 2 (0.3) -> 0.8 >= 0.7 stops: kept {1, 2}
    picks = {pick_token(logits, u, top_p=0.7) for u in np.linspace(0, 0.999, 50)}
    assert picks == {1, 2}
    assert pick_token(logits, 0.62, top_p=0.7) == 1  # 0.5 / 0.8 = 0.625
    assert pick_token(logits, 0.63, top_p=0.7) == 2


def test_temperature_sharpens():
    logits = np.array([0.0, 1.0])
    assert pick_token(logits, 0.5, temperature=0.01) == 1


# --- guidance: scales below 1 are refused; the official cfg_interval rule ----------------------

import pytest  # noqa: E402

from python.sampler import Sampling, guidance_active, sample  # noqa: E402
from python.schedule import make_grid, schedule_by_name  # noqa: E402


def test_cfg_scale_below_one_is_refused():
    for bad in (0.5, 0.0, -1.0, float("nan")):
        with pytest.raises(ValueError, match="below 1"):
            Sampling(cfg_scale=bad)
    with pytest.raises(ValueError, match="below 1"):
        Sampling.from_manifest({"cfgScale": 0.9, "cfgInterval": None, "temperature": 1, "topK": 0, "topP": 1})
    assert not Sampling(cfg_scale=1.0).guided and Sampling(cfg_scale=1.01).guided
    with pytest.raises(ValueError, match="cfgIntervalRule"):
        Sampling(cfg_rule="tokens")


def official_cfg_flags(n_cells: int, ar_token_num: int, cfg_interval: float):
    """The guidance decision of each model call in PAR's generate() (LlamaGen's when ar_token_num
    is 1), restated from its control flow: prefill (guided whenever the scale is above 1), then
    decode_n_tokens over ar_token_num - 1 single tokens, then decode_n_tokens_multi over the rest
    in strides of ar_token_num, each loop with its own flag that starts True and turns False for
    good once its counter i (tokens generated so far in that loop) exceeds cfg_interval > -1."""
    flags = [True]
    single = n_cells - 1 if ar_token_num == 1 else ar_token_num - 1
    flag = True
    for i in range(single):
        if cfg_interval > -1 and i > cfg_interval:
            flag = False
        flags.append(flag)
    if ar_token_num > 1:
        flag = True
        for i in range(0, n_cells - ar_token_num, ar_token_num):
            if cfg_interval > -1 and i > cfg_interval:
                flag = False
            flags.append(flag)
    return flags


def test_official_rule_matches_the_official_control_flow():
    for name, n, grid in (("par4", 4, 24), ("par16", 16, 24), ("raster", 1, 8), ("par4", 4, 8)):
        sched = schedule_by_name(make_grid(grid, grid), name)
        for interval in (-1, -0.5, 0, 0.5, 1, 2, 3, 4, 7.5, 15, 16, 100, 575, 10_000):
            got = guidance_active(sched, Sampling(cfg_scale=1.5, cfg_interval=interval, cfg_rule="official"))
            assert got == official_cfg_flags(grid * grid, n, interval), (name, grid, interval)
        assert guidance_active(sched, Sampling(cfg_scale=1.5, cfg_rule="official")) == [True] * len(sched["steps"])
        assert guidance_active(sched, Sampling(cfg_scale=1.0, cfg_interval=3, cfg_rule="official")) == [False] * len(
            sched["steps"])


def test_official_interval_one_on_par4_is_no_steps_interval():
    sched = schedule_by_name(make_grid(24, 24), "par4")
    official = guidance_active(sched, Sampling(cfg_scale=1.5, cfg_interval=1, cfg_rule="official"))
    assert [s for s, on in enumerate(official) if on] == [0, 1, 2, 4]  # prefill, 2 tokens, first parallel step
    for k in range(0, 150):  # no "guided while step < k" gives that set
        assert guidance_active(sched, Sampling(cfg_scale=1.5, cfg_interval=k)) != official
    # parlab's rule: steps
    assert guidance_active(sched, Sampling(cfg_scale=1.5, cfg_interval=5)) == [s < 5 for s in range(147)]


def test_sampler_applies_the_rule_per_step():
    """A fake model whose guided distribution picks id 0 and unguided one id 1 shows which steps guided."""
    sched = schedule_by_name(make_grid(4, 4), "par4")
    vocab, classes = 4, 2

    def step(ids, pos, mask):
        b, t = ids.shape
        logits = np.full((b, t, vocab), -5.0, dtype=np.float32)
        logits[: b // 2, :, :2] = [0.5, 1.0]  # conditional rows favour 1
        logits[b // 2 :, :, :2] = [0.0, 3.0]  # unconditional rows favour 1 more: 2c - u favours 0
        return logits

    uniforms = np.full((1, 16), 0.5)
    for interval, want_steps in ((None, {0, 1, 2, 3, 4, 5, 6}), (1, {0, 1, 2, 4}), (-0.5, {0}), (4, {0, 1, 2, 3, 4, 5})):
        s = Sampling(cfg_scale=2.0, cfg_interval=interval, temperature=0.01, cfg_rule="official")
        tokens = sample(step, sched, [0], uniforms, vocab, classes, s)[0]
        guided_cells = {c for st, x in enumerate(sched["steps"]) if st in want_steps for c in x["cells"]}
        assert all((tokens[c] == 0) == (c in guided_cells) for c in range(16)), (interval, tokens)
