#!/usr/bin/python3
"""Step 2 of the emoji classifier recipe: train a small CNN on the 48x48 emoji pictures and export
it to ONNX with a feature manifest (fixtures/classifier/emoji-cnn.onnx + emoji-cnn.json).

Step 1 (`deno run -A --frozen main/classifier_pictures.ts --out DIR`) writes the pictures this
script reads from DIR: {train,val}.images.npy (real pictures), {train,val}.recon.npy (the same
pictures decoded from the committed token fixtures), {train,val}.labels.npy, classes.json.

The network sees real pictures and their token reconstructions (half each, per sample), so its
features and predictions work on decoded token grids (what a generator produces) as well as on
originals. Its 128-d global-average-pooled features are the "emoji Frechet distance" features;
its logits measure class consistency of class-conditional samples.

CPU only, seeded, deterministic; about 5 minutes on 2 shared cores with the defaults.
Run from the project root:
  /usr/bin/python3 python/classifier/train.py --data /tmp/parlab-classifier --out fixtures/classifier
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
import torch.nn.functional as F

FORMAT = "parlab-image-features/1"


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", default="/tmp/parlab-classifier", help="folder written by pictures.ts")
    p.add_argument("--out", default="fixtures/classifier", help="folder for the .onnx and .json")
    p.add_argument("--name", default="emoji-cnn", help="file stem of the exported model")
    p.add_argument("--epochs", type=int, default=6)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--lr", type=float, default=4e-3)
    p.add_argument("--weight-decay", type=float, default=5e-4)
    p.add_argument("--recon-fraction", type=float, default=0.5,
                   help="probability that a training sample is the token reconstruction")
    p.add_argument("--shift", type=int, default=3, help="max random translation in pixels")
    p.add_argument("--width", type=int, default=32, help="channels of the first stage")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    return p.parse_args(argv)


def fail(message):
    print(f"train.py: {message}", file=sys.stderr)
    sys.exit(1)


def load_split(data, split):
    def load(kind):
        path = os.path.join(data, f"{split}.{kind}.npy")
        if not os.path.exists(path):
            fail(f"{path} is missing; run `deno run -A --frozen main/classifier_pictures.ts "
                 f"--out {data}` first")
        return np.load(path)

    images, recon, labels = load("images"), load("recon"), load("labels")
    if images.dtype != np.uint8 or images.ndim != 4 or images.shape[3] != 3:
        fail(f"{split}.images.npy must be uint8 [N,H,W,3], got {images.dtype} {images.shape}")
    if recon.shape != images.shape or labels.shape != (images.shape[0],):
        fail(f"{split}: images {images.shape}, recon {recon.shape}, labels {labels.shape} disagree")
    return images, recon, labels.astype(np.int64)


class EmojiCNN(nn.Module):
    """Four conv stages (48 -> 24 -> 12 -> 6), global average pool -> features, linear -> logits."""

    def __init__(self, classes, width=32):
        super().__init__()
        w = width

        def block(cin, cout):
            return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout),
                    nn.ReLU(inplace=True)]

        self.body = nn.Sequential(
            *block(3, w // 2), nn.MaxPool2d(2),                       # 24x24
            *block(w // 2, w), *block(w, w), nn.MaxPool2d(2),         # 12x12
            *block(w, 2 * w), *block(2 * w, 2 * w), nn.MaxPool2d(2),  # 6x6
            *block(2 * w, 4 * w),
        )
        self.feature_dim = 4 * w
        self.dropout = nn.Dropout(0.2)
        self.head = nn.Linear(4 * w, classes)

    def forward(self, x):
        features = self.body(x).mean(dim=(2, 3))
        return features, self.head(self.dropout(features))


def to_input(pixels, mean, std):
    """uint8 NHWC numpy -> float32 NCHW tensor, (x/255 - mean) / std per channel."""
    x = torch.from_numpy(pixels).permute(0, 3, 1, 2).float().div_(255.0)
    return (x - mean.view(1, 3, 1, 1)) / std.view(1, 3, 1, 1)


def augment(batch, rng, shift):
    """Random horizontal flip and translation by up to `shift` pixels (white fill), uint8 NHWC."""
    n, h, w, _ = batch.shape
    out = np.full_like(batch, 255)
    flips = rng.random(n) < 0.5
    dys = rng.integers(-shift, shift + 1, n)
    dxs = rng.integers(-shift, shift + 1, n)
    for i in range(n):
        img = batch[i, :, ::-1] if flips[i] else batch[i]
        dy, dx = dys[i], dxs[i]
        ys, yd = (0, dy) if dy >= 0 else (-dy, 0)
        xs, xd = (0, dx) if dx >= 0 else (-dx, 0)
        hh, ww = h - abs(dy), w - abs(dx)
        out[i, yd:yd + hh, xd:xd + ww] = img[ys:ys + hh, xs:xs + ww]
    return out


@torch.no_grad()
def evaluate(model, pixels, labels, mean, std, classes, batch=256):
    model.eval()
    preds = []
    for i in range(0, len(pixels), batch):
        _, logits = model(to_input(pixels[i:i + batch], mean, std))
        preds.append(logits.argmax(1).numpy())
    preds = np.concatenate(preds)
    correct = preds == labels
    per_class = [float(correct[labels == c].mean()) if (labels == c).any() else None
                 for c in range(classes)]
    present = [a for a in per_class if a is not None]
    return {"accuracy": float(correct.mean()), "balancedAccuracy": float(np.mean(present)),
            "perClass": per_class}


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
    tr_img, tr_rec, tr_lab = load_split(args.data, "train")
    va_img, va_rec, va_lab = load_split(args.data, "val")
    height, width = tr_img.shape[1:3]

    # Per-channel statistics of the real training pictures (in 0..1 units), stored in the
    # manifest so the Deno side normalises exactly the same way.
    flat = tr_img.reshape(-1, 3).astype(np.float64) / 255.0
    mean = torch.tensor(flat.mean(0), dtype=torch.float32)
    std = torch.tensor(flat.std(0), dtype=torch.float32)

    # Class-weighted loss (inverse square-root frequency, mean weight 1): "People & Body" is
    # about 60% of the data (skin-tone variants); the weights keep the rare classes learnt
    # without ignoring the base rates entirely.
    counts = np.bincount(tr_lab, minlength=classes).astype(np.float64)
    weights = 1.0 / np.sqrt(np.maximum(counts, 1.0))
    weights = weights * classes / weights.sum()
    criterion = nn.CrossEntropyLoss(weight=torch.tensor(weights, dtype=torch.float32))

    model = EmojiCNN(classes, args.width)
    params = sum(p.numel() for p in model.parameters())
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    steps_per_epoch = (len(tr_lab) + args.batch - 1) // args.batch
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=args.lr, total_steps=args.epochs * steps_per_epoch, pct_start=0.2)
    print(f"{len(tr_lab)} train / {len(va_lab)} val pictures, {classes} classes, "
          f"{params} parameters, {args.epochs} epochs", flush=True)

    history = []
    for epoch in range(args.epochs):
        model.train()
        t0 = time.time()
        order = rng.permutation(len(tr_lab))
        total, seen, correct = 0.0, 0, 0
        for b in range(steps_per_epoch):
            idx = np.sort(order[b * args.batch:(b + 1) * args.batch])
            use_recon = rng.random(len(idx)) < args.recon_fraction
            pixels = np.where(use_recon[:, None, None, None], tr_rec[idx], tr_img[idx])
            pixels = augment(pixels, rng, args.shift)
            x = to_input(pixels, mean, std)
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
    val_real = evaluate(model, va_img, va_lab, mean, std, classes)
    val_recon = evaluate(model, va_rec, va_lab, mean, std, classes)
    train_recon = evaluate(model, tr_rec, tr_lab, mean, std, classes)
    train_seconds = time.time() - t_start
    print(f"val accuracy: real {val_real['accuracy']:.4f} (balanced "
          f"{val_real['balancedAccuracy']:.4f}), token reconstructions {val_recon['accuracy']:.4f} "
          f"(balanced {val_recon['balancedAccuracy']:.4f}); {train_seconds:.0f} s", flush=True)

    os.makedirs(args.out, exist_ok=True)
    onnx_path = os.path.join(args.out, f"{args.name}.onnx")
    tmp = onnx_path + ".tmp"
    example = to_input(va_rec[:2], mean, std)
    torch.onnx.export(model, (example,), tmp, input_names=["pictures"],
                      output_names=["features", "logits"], opset_version=17,
                      dynamic_axes={"pictures": {0: "batch"}, "features": {0: "batch"},
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
        "input": {"name": "pictures", "layout": "NCHW", "height": int(height),
                  "width": int(width), "mean": r(mean.tolist(), 6), "std": r(std.tolist(), 6)},
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
            "trainAccuracyRecon": round(train_recon["accuracy"], 4),
        },
        "provenance": {
            "recipe": "main/classifier_pictures.ts then python/classifier/train.py",
            "data": "fixtures/emoji (items.json order): real 48x48 pictures rendered from "
                    "emoji-datasource-twitter/google 16.0.0, and their patch k-means token "
                    "reconstructions; train split only for training, val for the metrics",
            "config": {k: v for k, v in vars(args).items() if k not in ("data", "out")},
            "parameters": params,
            "classWeights": r(weights.tolist()),
            "history": history,
            "trainSeconds": round(train_seconds, 1),
            "machine": f"{platform.machine()} {platform.system()}, {args.threads} torch threads, CPU",
            "torch": torch.__version__,
            "python": platform.python_version(),
        },
        "golden": {"note": "torch outputs of val.recon[0:8] (decoded val token grids 0..7)",
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
