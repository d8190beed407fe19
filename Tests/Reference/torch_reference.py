#!/usr/bin/python3
"""PyTorch reference values for secnn's network, written at test time.

    /usr/bin/python3 Tests/Reference/torch_reference.py --spec 32x2,32x1,32x1 --out DIR [--size 32] [--seed 0]

Needs only Debian's python3-torch. Builds the SECNN network for SPEC in
PyTorch, with state-dict names equal to secnn's checkpoint names, and makes
every number a test can check non-trivial: batch-norm scales and shifts are
drawn at random, and the running statistics come from a training-mode pass
over other images (so eval mode does not normalise by 0 and 1). It then
writes three safetensors files to DIR:

  weights.safetensors   the state (parameters and running statistics)
  input.safetensors     images (float32, N×C×H×W) and labels (int64)
  expected.safetensors  eval_logits; then, from one training-mode pass with
                        dropout off: train_logits, loss (mean cross-entropy),
                        grad.<path> for every parameter, and running.<path>
                        for every running statistic after the pass

The safetensors files are written here by hand (the format is a JSON header
and raw little-endian data), so no PyPI package is needed.
"""

import argparse
import json
import os
import struct

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


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--size", type=int, default=32, help="image height and width")
    parser.add_argument("--channels", type=int, default=3, help="image channels")
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    spec = parse_spec(args.spec)
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


if __name__ == "__main__":
    main()
