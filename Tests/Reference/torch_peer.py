#!/usr/bin/python3
"""secnn's network in PyTorch: reference values for the tests, and the peer of `secnn bench`.

    /usr/bin/python3 Tests/Reference/torch_peer.py reference --spec 32x2,32x1,32x1 --out DIR [--size 32] [--seed 0]
    /usr/bin/python3 Tests/Reference/torch_peer.py bench --spec 16x1,16x1,16x1 --batch 512 --steps 20 --threads 2
    /usr/bin/python3 Tests/Reference/torch_peer.py eval --spec 16x1,16x1,16x1 --weights CHECKPOINT --input FILE

Needs only Debian's python3-torch (1.13; functorch for the per-example
gradients of the score timing). The network for SPEC ("C0xL0,C1xL1,...")
has state-dict names equal to secnn's checkpoint names.

`reference` makes every number a test can check non-trivial: batch-norm
scales and shifts are drawn at random, and the running statistics come from
a training-mode pass over other images (so eval mode does not normalise by 0
and 1). It writes three safetensors files to DIR:

  weights.safetensors   the state (parameters and running statistics)
  input.safetensors     images (float32, N×C×H×W) and labels (int64)
  expected.safetensors  eval_logits; diag_eta, the diagonal natural score of
                        the images (ε 1e-8, as `bench` times it); then, from one training-mode pass with
                        dropout off: train_logits, loss (mean cross-entropy),
                        grad.<path> for every parameter, and running.<path>
                        for every running statistic after the pass

The safetensors files are written here by hand (the format is a JSON header
and raw little-endian data), so no PyPI package is needed.

`eval` prints, as one JSON line {"logits": [...]}, the eval-mode logits of
a checkpoint secnn wrote, on the images (float32 "images") of a safetensors
file: a checkpoint loads in PyTorch unchanged.

`bench` times what `secnn bench` times, with its keys, on random 32×32×3
images: train_images_per_s (batch / median time of a training step: forward
with dropout, cross-entropy, backward, Adam), eval_images_per_s (batch /
median time of an eval-mode forward without gradients), diag_fisher_score_s
(median time to score the model with the diagonal empirical Fisher over
--score-images images from per-example gradients in eval mode,
Σ ḡ²/(mean g² + 1e-8); 0 images skips it) and peak_rss_mib. One key=value
per line, then all of them as one JSON line.
"""

import argparse
import json
import os
import resource
import statistics
import struct
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

SLOPE = 0.2
HIDDEN = 20
CLASSES = 10


class Block(nn.Module):
    """`layers` convs of `channels`: the first with a bias (and Dropout2d after it), then batch norm and LeakyReLU."""

    def __init__(self, inputs, channels, layers):
        super().__init__()
        self.layers = nn.ModuleList()
        for index in range(layers):
            layer = nn.Module()
            layer.conv = nn.Conv2d(inputs if index == 0 else channels, channels, 3, padding=1, bias=index == 0)
            layer.bn = nn.BatchNorm2d(channels)
            self.layers.append(layer)

    def forward(self, x, dropout):
        for index, layer in enumerate(self.layers):
            x = layer.conv(x)
            if index == 0 and dropout:
                x = F.dropout2d(x, 0.1, training=True)
            x = F.leaky_relu(layer.bn(x), SLOPE)
        return F.max_pool2d(x, 2)


class Head(nn.Module):
    def __init__(self, channels, pixels):
        super().__init__()
        self.mix = nn.Conv2d(channels, CLASSES, 1)
        self.fc1 = nn.Linear(CLASSES * pixels, HIDDEN)
        self.bn1 = nn.BatchNorm1d(HIDDEN)
        self.bn2 = nn.BatchNorm1d(HIDDEN)
        self.fc2 = nn.Linear(HIDDEN, CLASSES)

    def forward(self, x, dropout):
        x = torch.flatten(F.leaky_relu(self.mix(x), SLOPE), 1)
        x = F.leaky_relu(self.bn1(self.fc1(x)), SLOPE)
        if dropout:
            x = F.dropout(x, 0.05, training=True)
        return self.fc2(self.bn2(x))


class Network(nn.Module):
    """Blocks halve the maps; block 0's pooled output, pooled again once per later block, joins the last block's."""

    def __init__(self, spec, in_channels, size):
        super().__init__()
        self.blocks = nn.ModuleList()
        inputs = in_channels
        for channels, layers in spec:
            self.blocks.append(Block(inputs, channels, layers))
            inputs = channels
        pixels = (size >> len(spec)) ** 2
        self.head = Head(spec[-1][0] + spec[0][0], pixels)

    def forward(self, x, dropout=False):
        skip = None
        for index, block in enumerate(self.blocks):
            x = block(x, dropout)
            skip = x if index == 0 else F.max_pool2d(skip, 2)
        return self.head(torch.cat([x, skip], 1), dropout)


def parse_spec(text):
    try:
        spec = [tuple(int(n) for n in block.split("x")) for block in text.split(",")]
    except ValueError:
        raise SystemExit(f"--spec {text!r}: expected blocks as CHANNELSxLAYERS, e.g. 16x1,16x1,16x1")
    if not spec or any(len(b) != 2 or min(b) < 1 for b in spec):
        raise SystemExit(f"--spec {text!r}: expected blocks as CHANNELSxLAYERS, e.g. 16x1,16x1,16x1")
    return spec


def write_safetensors(path, tensors):
    """The safetensors layout: an 8-byte header length, the JSON header, the tensors' bytes in order."""
    names = {torch.float32: "F32", torch.int64: "I64"}
    header, blobs, offset = {}, [], 0
    for name, tensor in tensors.items():
        data = tensor.detach().contiguous().cpu().numpy().tobytes()
        header[name] = {"dtype": names[tensor.dtype], "shape": list(tensor.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def read_safetensors(path):
    """The tensors of a safetensors file (F32 and I64), by name; metadata and other types are skipped."""
    import numpy as np

    with open(path, "rb") as f:
        data = f.read()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + length])
    types = {"F32": np.float32, "I64": np.int64}
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__" or entry["dtype"] not in types:
            continue
        start, end = (8 + length + offset for offset in entry["data_offsets"])
        array = np.frombuffer(data[start:end], dtype=types[entry["dtype"]]).reshape(entry["shape"])
        tensors[name] = torch.from_numpy(array.copy())
    return tensors


def evaluate(args, spec):
    """Eval-mode logits of a secnn checkpoint's weights on the images of --input, as one JSON line."""
    torch.set_num_threads(1)
    weights = read_safetensors(args.weights)
    images = read_safetensors(args.input)["images"]
    model = Network(spec, images.shape[1], images.shape[2])
    state = model.state_dict()
    missing = [name for name in state if not name.endswith("num_batches_tracked") and name not in weights]
    if missing:
        raise SystemExit(f"{args.weights}: no tensor {missing[0]} (is it a checkpoint of {args.spec}?)")
    model.load_state_dict({name: weights.get(name, value) for name, value in state.items()})
    model.eval()
    with torch.no_grad():
        logits = model(images)
    print(json.dumps({"logits": logits.flatten().tolist()}))


def reference(args, spec):
    torch.manual_seed(args.seed)
    torch.set_num_threads(1)
    model = Network(spec, args.channels, args.size)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)):
                module.weight.uniform_(0.5, 1.5)
                module.bias.normal_(0, 0.3)
        model.train()
        model(torch.randn(args.batch * 2, args.channels, args.size, args.size) * 1.5 + 0.2)
    state = {name: value.clone() for name, value in model.state_dict().items()
             if not name.endswith("num_batches_tracked")}

    images = torch.randn(args.batch, args.channels, args.size, args.size)
    labels = torch.randint(0, CLASSES, (args.batch,))
    model.eval()
    with torch.no_grad():
        expected = {"eval_logits": model(images)}
    expected["diag_eta"] = torch.tensor([diagonal_score(model, images, labels)])
    model.train()
    model.zero_grad()
    logits = model(images, dropout=False)
    loss = F.cross_entropy(logits, labels)
    loss.backward()
    expected["train_logits"] = logits
    expected["loss"] = loss.reshape(1)
    for name, parameter in model.named_parameters():
        expected[f"grad.{name}"] = parameter.grad
    for name, value in model.state_dict().items():
        if "running_" in name:
            expected[f"running.{name}"] = value

    os.makedirs(args.out, exist_ok=True)
    write_safetensors(os.path.join(args.out, "weights.safetensors"), state)
    write_safetensors(os.path.join(args.out, "input.safetensors"), {"images": images, "labels": labels})
    write_safetensors(os.path.join(args.out, "expected.safetensors"), expected)


def timed(step, warmup, repetitions):
    """The seconds of each of `repetitions` calls of `step`, after `warmup` untimed ones."""
    for _ in range(warmup):
        step()
    times = []
    for _ in range(repetitions):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return times


def diagonal_score(model, images, labels, chunk=128):
    """Σ ḡ²/(F + 1e-8) with F the mean squared per-example gradient (eval mode, functorch's vmap)."""
    from functorch import grad, make_functional_with_buffers, vmap

    function, parameters, buffers = make_functional_with_buffers(model)

    def loss(parameters, image, label):
        return F.cross_entropy(function(parameters, buffers, image.unsqueeze(0)), label.unsqueeze(0))

    per_example = vmap(grad(loss), in_dims=(None, 0, 0))
    sums = [torch.zeros_like(p) for p in parameters]
    squares = [torch.zeros_like(p) for p in parameters]
    for start in range(0, len(images), chunk):
        for total, square, g in zip(sums, squares,
                                    per_example(parameters, images[start:start + chunk], labels[start:start + chunk])):
            total += g.sum(0)
            square += (g * g).sum(0)
    n = len(images)
    return sum(float(((t / n) ** 2 / (s / n + 1e-8)).sum()) for t, s in zip(sums, squares))


def bench(args, spec):
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    model = Network(spec, 3, 32)
    images = torch.randn(args.batch, 3, 32, 32)
    labels = torch.randint(0, CLASSES, (args.batch,))
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)

    def train_step():
        optimizer.zero_grad(set_to_none=True)
        F.cross_entropy(model(images, dropout=True), labels).backward()
        optimizer.step()

    def eval_step():
        with torch.no_grad():
            model(images)

    figures = {"spec": args.spec, "params": sum(p.numel() for p in model.parameters()), "batch": args.batch,
               "threads": args.threads, "steps": args.steps, "warmup": args.warmup}
    model.train()
    figures["train_images_per_s"] = args.batch / statistics.median(timed(train_step, args.warmup, args.steps))
    model.eval()
    figures["eval_images_per_s"] = args.batch / statistics.median(timed(eval_step, args.warmup, args.steps))
    if args.score_images > 0:
        subset = torch.randn(args.score_images, 3, 32, 32)
        subset_labels = torch.randint(0, CLASSES, (args.score_images,))
        times = timed(lambda: diagonal_score(model, subset, subset_labels), 1, args.score_reps)
        figures["diag_fisher_score_s"] = statistics.median(times)
        figures["score_images"] = args.score_images
    figures["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    for key, value in figures.items():
        print(f"{key}={value:.6g}" if isinstance(value, float) else f"{key}={value}")
    print(json.dumps(figures, sort_keys=True))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    commands = parser.add_subparsers(dest="command", required=True)
    make = commands.add_parser("reference", help="write reference values for the tests")
    make.add_argument("--spec", required=True)
    make.add_argument("--out", required=True)
    make.add_argument("--size", type=int, default=32, help="image height and width")
    make.add_argument("--channels", type=int, default=3, help="image channels")
    make.add_argument("--batch", type=int, default=4)
    make.add_argument("--seed", type=int, default=0)
    time_it = commands.add_parser("bench", help="time training, inference and scoring as `secnn bench` does")
    time_it.add_argument("--spec", default="16x1,16x1,16x1")
    time_it.add_argument("--batch", type=int, default=512)
    time_it.add_argument("--steps", type=int, default=20)
    time_it.add_argument("--warmup", type=int, default=3)
    time_it.add_argument("--threads", type=int, default=2)
    time_it.add_argument("--score-images", type=int, default=512)
    time_it.add_argument("--score-reps", type=int, default=3)
    time_it.add_argument("--seed", type=int, default=0)
    run = commands.add_parser("eval", help="print the eval-mode logits of a checkpoint on --input's images")
    run.add_argument("--spec", required=True)
    run.add_argument("--weights", required=True, help="a secnn checkpoint or weights file")
    run.add_argument("--input", required=True, help="a safetensors file with float32 images N×C×H×W")
    args = parser.parse_args()
    spec = parse_spec(args.spec)
    {"reference": reference, "bench": bench, "eval": evaluate}[args.command](args, spec)


if __name__ == "__main__":
    main()
