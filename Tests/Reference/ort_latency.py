#!/usr/bin/env python3
"""Batch-of-one inference latency of an ONNX model under onnxruntime, the
peer of `secnn bench --latency CHECKPOINT`: export the same checkpoint with
`secnn export CHECKPOINT --format onnx --out model.onnx`, then run both in one
sitting with the same thread count and compare the percentiles.

    secnn bench --latency best.safetensors --threads 1
    python Tests/Reference/ort_latency.py model.onnx --threads 1

Prints key=value lines with the keys secnn prints (latency_p50_us, …).
"""
import argparse
import math
import time

import numpy as np
import onnxruntime as ort


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("--images", type=int, default=1000, help="images, each timed alone")
    parser.add_argument("--warmup", type=int, default=30, help="untimed images first")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    options = ort.SessionOptions()
    options.intra_op_num_threads = args.threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(args.model, options, providers=["CPUExecutionProvider"])
    shape = [1 if not isinstance(d, int) else d for d in session.get_inputs()[0].shape]
    shape[0] = 1
    name = session.get_inputs()[0].name
    rng = np.random.default_rng(args.seed)
    images = [rng.standard_normal(shape).astype(np.float32) for _ in range(args.images)]
    for i in range(args.warmup):
        session.run(None, {name: images[i % len(images)]})
    times = []
    for image in images:
        start = time.perf_counter()
        session.run(None, {name: image})
        times.append(time.perf_counter() - start)
    times.sort()

    def percentile(p):
        return times[min(len(times) - 1, math.ceil(p * len(times)) - 1)]

    print(f"onnxruntime={ort.__version__}")
    print(f"threads={args.threads}")
    print(f"latency_images={args.images}")
    print(f"latency_p50_us={percentile(0.5) * 1e6:.1f}")
    print(f"latency_p99_us={percentile(0.99) * 1e6:.1f}")
    print(f"latency_mean_us={sum(times) / len(times) * 1e6:.1f}")


if __name__ == "__main__":
    main()
