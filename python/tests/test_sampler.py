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
