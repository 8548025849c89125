"""Video models: 3D RoPE, clip data, training, export, reference sampling; image models unchanged."""
import gzip
import io
import json
import math
import os

import numpy as np
import pytest
import torch

from python.data import load_emoji, synthetic
from python.export import export_onnx, export_with_manifest, round_to_fp16
from python.layout import Layout
from python.manifest import build_manifest
from python.model import GPT, GPTConfig
from python.onnx_weights import load_exported
from python.rope import rope_split_3d, rope_table, rope_table_3d
from python.sampler import Sampling, sample, step_inputs, torch_step_fn
from python.schedule import make_grid, schedule_by_name, step_slots, to_json
from python.train import main as train_main

from .helpers import random_model

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
IMAGE_TINY = ["raster", "par4", "par16", "raster4", "par4-causal", "par4-noinit"]


# --- 3D RoPE -------------------------------------------------------------------------------------

def test_split_gives_space_three_eighths_each_and_time_the_rest():
    assert rope_split_3d(128) == (16, 24, 24)  # Qwen2-VL's M-RoPE sections for head_dim 128
    assert rope_split_3d(12) == (2, 2, 2)  # the tiny video model
    assert rope_split_3d(48) == (6, 9, 9)
    for d in range(6, 130, 2):
        t, r, c = rope_split_3d(d)
        assert t + r + c == d // 2 and r == c >= 1 and t >= 1 and 4 * t >= d // 2
    with pytest.raises(ValueError, match="too small for 3D RoPE"):
        rope_split_3d(4)


def test_3d_table_layout():
    f, h, w, d = 3, 4, 5, 16
    t = rope_table_3d(f, h, w, d)
    assert t.shape == (1 + f * h * w, d // 2, 2)
    assert torch.all(t[0] == 0)  # the zero row: class and transition slots
    nt, nr, nc = rope_split_3d(d)
    groups = [(0, nt, "f"), (nt, nr, "r"), (nt + nr, nc, "c")]
    for fi in range(f):
        for r in range(h):
            for c in range(w):
                row = t[1 + fi * h * w + r * w + c]  # flat cell index + 1
                coord = {"f": fi, "r": r, "c": c}
                for start, n, which in groups:
                    for i in range(n):
                        angle = coord[which] * 10000.0 ** (-2 * i / (2 * n))
                        assert math.isclose(row[start + i, 0].item(), math.cos(angle), abs_tol=1e-6)
                        assert math.isclose(row[start + i, 1].item(), math.sin(angle), abs_tol=1e-6)


def test_same_cell_in_other_frames_differs_only_in_the_time_pairs():
    f, h, w, d = 4, 3, 3, 24
    t = rope_table_3d(f, h, w, d)
    nt = rope_split_3d(d)[0]
    for r in range(h):
        for c in range(w):
            rows = t[1 + torch.arange(f) * h * w + r * w + c]  # [F, pairs, 2]
            assert torch.equal(rows[:, nt:], rows[:1, nt:].expand(f, -1, -1))  # row and column pairs agree
            for a in range(f):
                for b in range(a + 1, f):
                    assert not torch.allclose(rows[a, :nt], rows[b, :nt])  # the time pairs tell frames apart
    # and within a frame, the spatial pairs are the 2D table's ladders over the same coordinates
    assert torch.all(t[1 : 1 + h * w, :nt, 0] == 1) and torch.all(t[1 : 1 + h * w, :nt, 1] == 0)


def test_one_frame_models_keep_the_2d_table():
    for h, w, d in ((4, 4, 8), (24, 24, 12), (16, 16, 48)):
        cfg = GPTConfig(vocab_size=16, num_classes=2, dim=d * 2, n_layer=1, n_head=2, height=h, width=w)
        assert cfg.frames == 1 and cfg.rope_spec() == {"kind": "2d", "split": [d // 4, d // 4]}
        assert torch.equal(GPT(cfg).rope, rope_table(h, w, d))
    video = GPTConfig(vocab_size=16, num_classes=2, dim=24, n_layer=1, n_head=2, height=4, width=4, frames=3)
    assert torch.equal(GPT(video).rope, rope_table_3d(3, 4, 4, 12))
    assert video.rope_spec() == {"kind": "3d", "split": [2, 2, 2]}
    with pytest.raises(ValueError, match="frames 0"):
        GPTConfig(vocab_size=16, num_classes=2, dim=16, n_layer=1, n_head=2, frames=0).validate()


@pytest.mark.parametrize("config", IMAGE_TINY)
def test_image_models_export_byte_identical(config, tmp_path):
    # The committed tiny image models, exported before video support, come out of today's code
    # byte for byte: same graph, same 2D table, same weights.
    man = os.path.join(ROOT, "fixtures", "models", f"tiny-{config}.json")
    model = load_exported(man)
    assert model.config.frames == 1
    out = export_onnx(model, str(tmp_path / "again.onnx"), dtype="float16")
    committed = os.path.join(ROOT, "fixtures", "models", f"tiny-{config}.onnx")
    assert open(out, "rb").read() == open(committed, "rb").read()


# --- the model on a clip -------------------------------------------------------------------------

def _video_model(seed=0):
    return random_model(seed, frames=3, height=4, width=4, dim=48, n_head=4, n_kv_head=2)


def test_cached_video_decode_equals_the_training_forward():
    model = _video_model()
    cfg = model.config
    for name in ("par4", "raster", "par4-noinit"):
        sched = schedule_by_name(make_grid(4, 4, 3), name)
        lay = Layout(sched, cfg.vocab_size, cfg.num_classes)
        tokens = torch.randint(0, cfg.vocab_size, (2, 48), generator=torch.Generator().manual_seed(1))
        labels = torch.tensor([1, cfg.num_classes])
        ids, pos, _, mask = lay.tensors(tokens, labels)
        with torch.no_grad():
            full, _ = model(ids, pos, mask)
        past, p, offset = None, 0, 0
        for s, slots in enumerate(step_slots(sched)):
            i, po, ma = step_inputs(slots, sched["steps"][s]["attention"], tokens.numpy(), labels.tolist(),
                                    cfg.vocab_size, cfg.num_classes, p)
            with torch.no_grad():
                logits, past = model(torch.from_numpy(i), torch.from_numpy(po), torch.from_numpy(ma), past)
            assert torch.allclose(logits, full[:, offset : offset + i.shape[1]], atol=1e-5), (name, s)
            p += i.shape[1]
            offset += i.shape[1]
        assert offset == lay.length


def test_frames_reach_the_logits():
    # The same spatial cell in frame 0 and frame 2 must be told apart (the time pairs rotate it).
    model = _video_model()
    ids = torch.tensor([[3, 4]])
    mask = torch.ones(1, 1, 2, 2, dtype=torch.bool)
    with torch.no_grad():
        a, _ = model(ids, torch.tensor([[0, 5]]), mask)
        b, _ = model(ids, torch.tensor([[0, 2 * 16 + 5]]), mask)
    assert not torch.allclose(a, b)


def test_reference_sampler_fills_every_cell_of_a_clip_once():
    model = _video_model()
    sched = schedule_by_name(make_grid(4, 4, 3), "par4")
    cells = [c for st in sched["steps"] for c in st["cells"]]
    assert sorted(cells) == list(range(48))
    uniforms = np.random.default_rng(0).random((2, 48))
    seen = []
    tokens = sample(torch_step_fn(model), sched, [0, 2], uniforms, 64, 5, Sampling(cfg_scale=2.0),
                    record=lambda s, a: seen.extend(a["cells"].tolist()))
    assert tokens.shape == (2, 48) and tokens.min() >= 0 and tokens.max() < 64
    assert sorted(seen) == list(range(48))


# --- data ------------------------------------------------------------------------------------------

def _write_npy_gz(path, arr):
    buf = io.BytesIO()
    np.save(buf, arr)
    with gzip.open(path, "wb") as f:
        f.write(buf.getvalue())


def _video_folder(tmp_path, n=6, frames=3, h=4, w=4, k=16, grid_frames=None):
    """A folder in the parlab-video-tokens/1 layout whose codebook lies in a sibling folder."""
    rng = np.random.default_rng(0)
    (tmp_path / "cb").mkdir(exist_ok=True)
    codebook = rng.uniform(0, 255, (k, 3, 3, 3)).astype(np.float32)
    _write_npy_gz(tmp_path / "cb" / "codebook.npy.gz", codebook)
    folder = tmp_path / "video"
    folder.mkdir(exist_ok=True)
    for split in ("train", "val"):
        _write_npy_gz(folder / f"{split}.tokens.npy.gz", rng.integers(0, k, (n, frames, h, w)).astype(np.uint16))
        _write_npy_gz(folder / f"{split}.labels.npy.gz", rng.integers(0, 4, n).astype(np.uint8))
    man = {"format": "parlab-video-tokens/1", "classNames": ["slide", "bounce", "zoom", "spin"], "K": k,
           "frames": frames, "grid": {"frames": grid_frames or frames, "height": h, "width": w}, "imageSize": 3 * w,
           "patch": 3, "tokenizer": {"kind": "patch-kmeans", "codebook": "../cb/codebook.npy.gz"}}
    (folder / "manifest.json").write_text(json.dumps(man))
    return str(folder), codebook


def test_video_fixtures_load_frame_major_and_flip_every_frame_alike(tmp_path):
    from python.data import flip_map, load_npy_gz

    folder, codebook = _video_folder(tmp_path)
    data = load_emoji(folder)
    assert (data.frames, data.height, data.width) == (3, 4, 4)
    raw = load_npy_gz(os.path.join(folder, "train.tokens.npy.gz")).astype(np.int64)
    assert np.array_equal(data.train_tokens, raw.reshape(6, -1))  # flat cell f*H*W + r*W + c
    fm = flip_map(codebook)
    flipped = data.train_flipped.reshape(6, 3, 4, 4)
    for f in range(3):
        assert np.array_equal(flipped[:, f], fm[raw[:, f, :, ::-1]])
    assert data.codebook_path == os.path.normpath(os.path.join(tmp_path, "cb", "codebook.npy.gz"))
    assert data.class_names == ["slide", "bounce", "zoom", "spin"] and data.vocab_size == 16


def test_video_fixtures_whose_grid_disagrees_are_refused(tmp_path):
    folder, _ = _video_folder(tmp_path, grid_frames=5)
    with pytest.raises(ValueError, match=r"train.tokens.npy.gz has shape \[6, 3, 4, 4\] but manifest.json's grid"):
        load_emoji(folder)


def test_synthetic_clips_move_and_flip_per_frame():
    data = synthetic(8, 4, 6, vocab=64, seed=3, frames=3)
    assert data.frames == 3 and data.train_tokens.shape == (8, 72) and data.train_tokens.max() < 64
    clips = data.train_tokens.reshape(8, 3, 4, 6)
    assert np.array_equal(data.train_flipped.reshape(8, 3, 4, 6), clips[..., ::-1])
    moving = data.train_labels != 0
    assert moving.any() and all((clips[i, 0] != clips[i, 2]).mean() > 0.2 for i in np.nonzero(moving)[0])


# --- training, export, round trip --------------------------------------------------------------------

def _clip_run(out, extra, steps=3, grid="3x4x4"):
    return ["--synthetic", "16", "--synthetic-grid", grid, "--synthetic-vocab", "64", "--out", str(out),
            "--dim", "24", "--layers", "1", "--heads", "2", "--multiple-of", "16", "--batch", "2",
            "--steps", str(steps), "--warmup", "1", "--lr", "1e-2", "--eval-every", str(steps), "--eval-limit", "4",
            "--threads", "1"] + extra


def test_video_training_exports_a_video_model_that_round_trips(tmp_path):
    out = tmp_path / "run"
    assert train_main(_clip_run(out, ["--config", "par4", "--export", str(tmp_path / "m"), "--name", "v",
                                      "--dtype", "float16"])) == 0
    log = json.load(open(out / "log.json"))
    assert len(log["valPerCell"]) == 48 and len(log["valPerStep"]) == 15  # 4 initial steps + 44 / 4 groups
    assert all(np.isfinite(x["loss"]) for x in log["train"])
    man = json.load(open(tmp_path / "m" / "v.json"))
    assert man["grid"] == {"frames": 3, "height": 4, "width": 4}
    assert man["schedule"]["grid"] == man["grid"] and man["schedule"]["name"] == "par4"
    assert man["rope"] == {"kind": "3d", "split": [2, 2, 2]}
    assert man["provenance"]["modelConfig"]["frames"] == 3
    # the graph's weights read back give the trained model (rounded to fp16): same logits
    ck = torch.load(out / "ckpt.pt")  # the weights before export rounded them to fp16
    trained = GPT(GPTConfig(**ck["model_config"]))
    trained.load_state_dict(ck["model"])
    round_to_fp16(trained).eval()
    back = load_exported(str(tmp_path / "m" / "v.json"))
    assert torch.equal(back.rope, trained.rope)
    sched = man["schedule"]
    u = np.random.default_rng(1).random((2, 48))
    a = sample(torch_step_fn(trained), sched, [0, 1], u, 64, 4, Sampling(cfg_scale=2.0))
    b = sample(torch_step_fn(back), sched, [0, 1], u, 64, 4, Sampling(cfg_scale=2.0))
    assert np.array_equal(a, b)
    # and python.export rebuilds the named video schedule from the checkpoint
    from python.export import main as export_main

    assert export_main(["--checkpoint", str(out / "ckpt.pt"), "--out", str(tmp_path / "e"), "--name", "w"]) == 0
    again = json.load(open(tmp_path / "e" / "w.json"))
    assert again["schedule"] == sched and again["rope"]["kind"] == "3d"


def test_schedule_grid_that_is_not_the_datas_is_refused_naming_the_fix(tmp_path, capsys):
    video = tmp_path / "video.json"
    video.write_text(to_json(schedule_by_name(make_grid(4, 4, 3), "par4")))
    image = tmp_path / "image.json"
    image.write_text(to_json(schedule_by_name(make_grid(4, 4), "par4")))
    other = tmp_path / "other.json"
    other.write_text(to_json(schedule_by_name(make_grid(4, 4, 2), "par4")))
    cases = [
        (["--synthetic-grid", "4x4"], video, "schedule.grid is 3x4x4 (frames x height x width) but the data's token grid"
         " is 4x4: write the schedule for frames 1, height 4, width 4, or train this video schedule on clips"
         " (--data fixtures/video)"),
        (["--synthetic-grid", "3x4x4"], image, "schedule.grid is 1x4x4 (frames x height x width) but the data's token"
         " grid is 3x4x4 (frames x height x width, clips): write the schedule for frames 3, height 4, width 4"),
        (["--synthetic-grid", "3x4x4"], other, "schedule.grid is 2x4x4"),
    ]
    for grid_flag, path, expected in cases:
        args = ["--synthetic", "8", *grid_flag, "--out", str(tmp_path / "r"), "--dim", "24", "--heads", "2",
                "--layers", "1", "--steps", "1", "--schedule", str(path)]
        assert train_main(args) == 1
        err = capsys.readouterr().err
        assert expected in err and err.count("\n") == 1 and "Traceback" not in err, err
    assert train_main(["--synthetic", "8", "--synthetic-grid", "4by4", "--out", str(tmp_path / "r"), "--config",
                       "par4"]) == 1
    assert "--synthetic-grid '4by4' is not a grid: write HxW" in capsys.readouterr().err
    assert not os.path.exists(tmp_path / "r" / "ckpt.pt")


def test_manifest_refuses_a_schedule_of_the_other_kind():
    video = _video_model()
    with pytest.raises(ValueError, match=r"the video model's RoPE grid is 3x4x4: build the schedule on make_grid\(4, 4, 3\)"):
        build_manifest(name="v", onnx_path=__file__, cfg=video.config, schedule=schedule_by_name(make_grid(4, 4), "par4"),
                       dtype="float32")
    image = random_model()
    with pytest.raises(ValueError, match=r"the image model's RoPE grid is 1x4x4: build the schedule on make_grid\(4, 4, 1\)"):
        build_manifest(name="i", onnx_path=__file__, cfg=image.config,
                       schedule=schedule_by_name(make_grid(4, 4, 3), "par4"), dtype="float32")


def test_checkpoints_from_before_frames_still_resume(tmp_path):
    out = tmp_path / "run"
    args = ["--synthetic", "16", "--synthetic-grid", "4x4", "--out", str(out), "--dim", "16", "--layers", "1",
            "--heads", "1", "--multiple-of", "16", "--batch", "2", "--eval-every", "1", "--eval-limit", "2",
            "--threads", "1", "--config", "raster"]
    assert train_main(args + ["--steps", "1"]) == 0
    ck = torch.load(out / "ckpt.pt")
    del ck["model_config"]["frames"]  # as train.py wrote it before video support
    torch.save(ck, out / "ckpt.pt")
    assert train_main(args + ["--steps", "2"]) == 0
    assert torch.load(out / "ckpt.pt")["step"] == 2


# --- the committed tiny video model ----------------------------------------------------------------

def test_tiny_video_fixture():
    base = os.path.join(ROOT, "fixtures", "models", "tiny-video-par4")
    golden = os.path.join(ROOT, "fixtures", "golden", "tiny-video-par4")
    man = json.load(open(base + ".json"))
    assert man["grid"] == {"frames": 3, "height": 4, "width": 4} and man["rope"]["kind"] == "3d"
    assert man["schedule"] == schedule_by_name(make_grid(4, 4, 3), "par4")
    total = os.path.getsize(base + ".onnx") + os.path.getsize(base + ".json")
    total += sum(os.path.getsize(os.path.join(golden, n)) for n in os.listdir(golden))
    assert total < 300_000, total
    index = json.load(open(os.path.join(golden, "index.json")))
    sizes = [len(s["cells"]) for s in index["steps"]]
    assert sizes[:4] == [1, 1, 1, 1] and sizes[4:] == [4, 4, 4]  # prefill, single steps, parallel steps
