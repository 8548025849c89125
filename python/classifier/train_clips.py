#!/usr/bin/python3
"""Step 2 of the clip classifier recipe: train a small conv net on the 5-frame 24x24 moving-emoji
clips and export it to ONNX with a feature manifest (fixtures/classifier/clip-cnn.onnx + .json).

Step 1 (`deno run -A --frozen main/classifier_clips.ts --out DIR`) writes the clips this script
reads from DIR: {train,val}.clips.npy (real clips, uint8 [N,F,H,W,3]), {train,val}.recon.npy (the
same clips decoded from the committed fixtures/video tokens), {train,val}.labels.npy (motion
class), classes.json.

Input: a clip [B, F, 3, H, W] float32, (pixel/255 - mean[c]) / std[c] per channel ("NCHW per
frame", manifest input.layout NCHW with input.frames F). Network: every frame and its difference
to the previous frame (zero for the first) go through one conv trunk shared over frames
(24 -> 12 -> 6 pixels); a 3-d convolution over (frame, row, column) mixes the frames; global
average pooling gives the features, a linear layer the logits over the motion classes. The
frame differences hand the trunk the pixel-level motion that pooling would otherwise blur; the
3-d convolution relates positions across frames (direction, rebound, scale, rotation).

The network sees real clips and their token reconstructions (half each, per sample), so it works
on decoded token clips (what a video generator produces) as well as on originals. Augmentation
keeps the motion class: a horizontal flip of the whole clip, time reversal (a slide, zoom or
spin played backwards is one of the same kind, and a ballistic bounce reversed is a bounce), and
a translation of the whole clip by up to 2 pixels.

CPU only, seeded, deterministic algorithms, 1 thread (at most 2); about 2.5 minutes. Run from the
project root:
  /usr/bin/python3 python/classifier/train_clips.py --data /tmp/parlab-clips --out fixtures/classifier
"""
import argparse
import hashlib
import json
import os
import platform
import sys
import time

import numpy as np
import torch
import torch.nn as nn

FORMAT = "parlab-image-features/1"


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", default="/tmp/parlab-clips", help="folder written by classifier_clips.ts")
    p.add_argument("--out", default="fixtures/classifier", help="folder for the .onnx and .json")
    p.add_argument("--name", default="clip-cnn", help="file stem of the exported model")
    p.add_argument("--epochs", type=int, default=6)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--lr", type=float, default=4e-3)
    p.add_argument("--weight-decay", type=float, default=5e-4)
    p.add_argument("--recon-fraction", type=float, default=0.5,
                   help="probability that a training sample is the token reconstruction")
    p.add_argument("--shift", type=int, default=2, help="max random translation in pixels")
    p.add_argument("--width", type=int, default=16, help="channels of the first trunk stage")
    p.add_argument("--limit", type=int, default=0, help="use only the first N train clips (tests)")
    p.add_argument("--seed", type=int, default=0)
    # One thread by default: on the shared 2-core machine it trained faster than two (the other
    # core is busy), and a fixed thread count keeps the float sums, so the weights, the same.
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args(argv)
    if not 1 <= args.threads <= 2:
        fail(f"--threads {args.threads}: use 1 or 2 (the machine is shared)")
    if args.epochs < 1 or args.batch < 2 or args.width < 4:
        fail("--epochs >= 1, --batch >= 2 and --width >= 4 please")
    return args


def fail(message):
    print(f"train_clips.py: {message}", file=sys.stderr)
    sys.exit(1)


def load_split(data, split):
    def load(kind):
        path = os.path.join(data, f"{split}.{kind}.npy")
        if not os.path.exists(path):
            fail(f"{path} is missing; run `deno run -A --frozen main/classifier_clips.ts "
                 f"--out {data}` first")
        return np.load(path)

    clips, recon, labels = load("clips"), load("recon"), load("labels")
    if clips.dtype != np.uint8 or clips.ndim != 5 or clips.shape[4] != 3:
        fail(f"{split}.clips.npy must be uint8 [N,F,H,W,3], got {clips.dtype} {clips.shape}")
    if recon.shape != clips.shape or labels.shape != (clips.shape[0],):
        fail(f"{split}: clips {clips.shape}, recon {recon.shape}, labels {labels.shape} disagree")
    return clips, recon, labels.astype(np.int64)


def block2d(cin, cout):
    return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout),
            nn.ReLU(inplace=True)]


class ClipCNN(nn.Module):
    """Shared per-frame trunk on (frame, frame difference), 3-d conv over frames, pool, linear."""

    def __init__(self, classes, frames, width=32):
        super().__init__()
        w = width
        self.frames = frames
        self.trunk = nn.Sequential(
            *block2d(6, w), nn.MaxPool2d(2),           # 12x12
            *block2d(w, 2 * w), nn.MaxPool2d(2),       # 6x6
            *block2d(2 * w, 2 * w),
        )
        self.mix = nn.Sequential(
            nn.Conv3d(2 * w, 4 * w, 3, padding=1, bias=False), nn.BatchNorm3d(4 * w),
            nn.ReLU(inplace=True),
            nn.MaxPool3d((1, 2, 2)),                   # 3x3, every frame kept
            nn.Conv3d(4 * w, 4 * w, (3, 3, 3), padding=1, bias=False), nn.BatchNorm3d(4 * w),
            nn.ReLU(inplace=True),
        )
        self.feature_dim = 4 * w
        self.dropout = nn.Dropout(0.2)
        self.head = nn.Linear(4 * w, classes)

    def forward(self, x):
        b, f, c, h, w = x.shape
        # The difference to the previous frame, zero for the first: what moved where.
        diff = torch.cat([torch.zeros_like(x[:, :1]), x[:, 1:] - x[:, :-1]], dim=1)
        frames = torch.cat([x, diff], dim=2).reshape(b * f, 2 * c, h, w)
        maps = self.trunk(frames)
        _, ch, mh, mw = maps.shape
        maps = maps.reshape(b, f, ch, mh, mw).permute(0, 2, 1, 3, 4)  # [B, C, F, h, w]
        features = self.mix(maps).mean(dim=(2, 3, 4))
        return features, self.head(self.dropout(features))


def to_input(clips, mean, std):
    """uint8 [N,F,H,W,3] numpy -> float32 [N,F,3,H,W] tensor, (x/255 - mean) / std per channel."""
    x = torch.from_numpy(np.ascontiguousarray(clips)).permute(0, 1, 4, 2, 3).float().div_(255.0)
    return (x - mean.view(1, 1, 3, 1, 1)) / std.view(1, 1, 3, 1, 1)


def augment(batch, rng, shift):
    """Per clip: horizontal flip, time reversal, translation (white fill); uint8 [N,F,H,W,3]."""
    n, _, h, w, _ = batch.shape
    out = np.full_like(batch, 255)
    flips = rng.random(n) < 0.5
    reverse = rng.random(n) < 0.5
    dys = rng.integers(-shift, shift + 1, n)
    dxs = rng.integers(-shift, shift + 1, n)
    for i in range(n):
        clip = batch[i]
        if flips[i]:
            clip = clip[:, :, ::-1]
        if reverse[i]:
            clip = clip[::-1]
        dy, dx = dys[i], dxs[i]
        ys, yd = (0, dy) if dy >= 0 else (-dy, 0)
        xs, xd = (0, dx) if dx >= 0 else (-dx, 0)
        hh, ww = h - abs(dy), w - abs(dx)
        out[i, :, yd:yd + hh, xd:xd + ww] = clip[:, ys:ys + hh, xs:xs + ww]
    return out


@torch.no_grad()
def evaluate(model, clips, labels, mean, std, classes, batch=128):
    model.eval()
    preds = []
    for i in range(0, len(clips), batch):
        _, logits = model(to_input(clips[i:i + batch], mean, std))
        preds.append(logits.argmax(1).numpy())
    preds = np.concatenate(preds)
    correct = preds == labels
    per_class = [float(correct[labels == c].mean()) if (labels == c).any() else None
                 for c in range(classes)]
    present = [a for a in per_class if a is not None]
    confusion = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(confusion, (labels, preds), 1)
    return {"accuracy": float(correct.mean()), "balancedAccuracy": float(np.mean(present)),
            "perClass": per_class, "confusion": confusion.tolist()}


def main(argv):
    args = parse_args(argv)
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True)
    rng = np.random.default_rng(args.seed)
    t_start = time.time()

    with open(os.path.join(args.data, "classes.json")) as f:
        class_names = json.load(f)["classNames"]
    classes = len(class_names)
    tr_clip, tr_rec, tr_lab = load_split(args.data, "train")
    va_clip, va_rec, va_lab = load_split(args.data, "val")
    if args.limit > 0:
        tr_clip, tr_rec, tr_lab = tr_clip[:args.limit], tr_rec[:args.limit], tr_lab[:args.limit]
    frames, height, width = tr_clip.shape[1:4]

    # Per-channel statistics of the real training clips (0..1 units), stored in the manifest so
    # the Deno side normalises exactly the same way.
    flat = tr_clip.reshape(-1, 3).astype(np.float64) / 255.0
    mean = torch.tensor(flat.mean(0), dtype=torch.float32)
    std = torch.tensor(flat.std(0), dtype=torch.float32)

    model = ClipCNN(classes, frames, args.width)
    params = sum(p.numel() for p in model.parameters())
    criterion = nn.CrossEntropyLoss()  # the clip set is class-balanced
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    steps_per_epoch = (len(tr_lab) + args.batch - 1) // args.batch
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=args.lr, total_steps=args.epochs * steps_per_epoch, pct_start=0.2)
    print(f"{len(tr_lab)} train / {len(va_lab)} val clips of {frames}x{height}x{width}, "
          f"{classes} classes, {params} parameters, {args.epochs} epochs", flush=True)

    history = []
    for epoch in range(args.epochs):
        model.train()
        t0 = time.time()
        order = rng.permutation(len(tr_lab))
        total, seen, correct = 0.0, 0, 0
        for b in range(steps_per_epoch):
            idx = np.sort(order[b * args.batch:(b + 1) * args.batch])
            use_recon = rng.random(len(idx)) < args.recon_fraction
            clips = np.where(use_recon[:, None, None, None, None], tr_rec[idx], tr_clip[idx])
            clips = augment(clips, rng, args.shift)
            x = to_input(clips, mean, std)
            y = torch.from_numpy(tr_lab[idx])
            _, logits = model(x)
            loss = criterion(logits, y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
            total += loss.item() * len(idx)
            seen += len(idx)
            correct += int((logits.argmax(1) == y).sum())
        val = evaluate(model, va_rec, va_lab, mean, std, classes)
        history.append({"epoch": epoch + 1, "loss": round(total / seen, 4),
                        "trainAccuracy": round(correct / seen, 4),
                        "valAccuracyRecon": round(val["accuracy"], 4),
                        "seconds": round(time.time() - t0, 1)})
        print(json.dumps(history[-1]), flush=True)

    model.eval()
    val_real = evaluate(model, va_clip, va_lab, mean, std, classes)
    val_recon = evaluate(model, va_rec, va_lab, mean, std, classes)
    train_recon = evaluate(model, tr_rec, tr_lab, mean, std, classes)
    train_seconds = time.time() - t_start
    print(f"val accuracy: real {val_real['accuracy']:.4f}, token reconstructions "
          f"{val_recon['accuracy']:.4f} (per class {val_recon['perClass']}); "
          f"{train_seconds:.0f} s", flush=True)

    os.makedirs(args.out, exist_ok=True)
    onnx_path = os.path.join(args.out, f"{args.name}.onnx")
    tmp = onnx_path + ".tmp"
    example = to_input(va_rec[:2], mean, std)
    torch.onnx.export(model, (example,), tmp, input_names=["clips"],
                      output_names=["features", "logits"], opset_version=17,
                      dynamic_axes={"clips": {0: "batch"}, "features": {0: "batch"},
                                    "logits": {0: "batch"}})
    os.replace(tmp, onnx_path)
    onnx_bytes = open(onnx_path, "rb").read()
    try:
        import onnx
        onnx.checker.check_model(onnx.load(onnx_path))
    except ImportError:
        pass

    # Golden outputs: the first 8 val token reconstructions through torch, for the Deno test that
    # checks onnxruntime + the manifest's normalisation reproduce them.
    with torch.no_grad():
        gold_features, gold_logits = model(to_input(va_rec[:8], mean, std))

    def r(values, digits=4):
        return [round(float(v), digits) for v in values]

    manifest = {
        "format": FORMAT,
        "name": args.name,
        "onnx": f"{args.name}.onnx",
        "sha256": hashlib.sha256(onnx_bytes).hexdigest(),
        "input": {"name": "clips", "layout": "NCHW", "frames": int(frames),
                  "height": int(height), "width": int(width),
                  "mean": r(mean.tolist(), 6), "std": r(std.tolist(), 6)},
        "outputs": {"features": "features", "logits": "logits"},
        "featureDim": model.feature_dim,
        "classNames": class_names,
        "metrics": {
            "valAccuracyReal": round(val_real["accuracy"], 4),
            "valBalancedAccuracyReal": round(val_real["balancedAccuracy"], 4),
            "valAccuracyRecon": round(val_recon["accuracy"], 4),
            "valBalancedAccuracyRecon": round(val_recon["balancedAccuracy"], 4),
            "valPerClassRecon": [None if a is None else round(a, 4)
                                 for a in val_recon["perClass"]],
            "valConfusionRecon": val_recon["confusion"],
            "trainAccuracyRecon": round(train_recon["accuracy"], 4),
        },
        "provenance": {
            "recipe": "main/classifier_clips.ts then python/classifier/train_clips.py "
                      "(deno task classifier:clips)",
            "data": "fixtures/video (clips.json order): real 5-frame 24x24 moving-emoji clips "
                    "re-rendered by src/data's clip builder, and their patch k-means token "
                    "reconstructions (fixtures/emoji16 codebook); train split only for training, "
                    "val for the metrics",
            "config": {k: v for k, v in vars(args).items() if k not in ("data", "out")},
            "parameters": params,
            "history": history,
            "trainSeconds": round(train_seconds, 1),
            "machine": f"{platform.machine()} {platform.system()}, {args.threads} torch threads, CPU",
            "torch": torch.__version__,
            "python": platform.python_version(),
        },
        "golden": {"note": "torch outputs of val.recon[0:8] (decoded val token clips 0..7)",
                   "count": 8, "logits": [r(row) for row in gold_logits.tolist()],
                   "featuresHead": [r(row[:8]) for row in gold_features.tolist()]},
    }
    json_path = os.path.join(args.out, f"{args.name}.json")
    with open(json_path + ".tmp", "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    os.replace(json_path + ".tmp", json_path)
    print(f"wrote {onnx_path} ({len(onnx_bytes)} bytes) and {json_path}")


if __name__ == "__main__":
    main(sys.argv[1:])
