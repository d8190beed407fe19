#!/usr/bin/env python3
"""Batch-of-one inference latency of an ONNX model under onnxruntime, the
peer of `secnn bench --latency CHECKPOINT`: export the same checkpoint with
`secnn export CHECKPOINT --format onnx --out model.onnx`, then run both in one
sitting with the same thread count and compare the percentiles.

    secnn bench --latency best.safetensors --threads 1
    python Tests/Reference/ort_latency.py model.onnx --threads 1

Prints key=value lines with the keys secnn prints (latency_p50_us, …): the
times of run_with_iobinding, whose input is bound before the clock starts, as
a C++ program would call onnxruntime; and run_latency_* for session.run, which
adds the Python binding's conversions of every call.
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
    # Timed: run_with_iobinding on an input bound before the clock starts, which leaves out most of
    # the Python binding's per-call work (a C or C++ program calls the same C API); session.run,
    # which converts its arguments on every call, is reported beside it as run_*.
    binding = session.io_binding()
    output = session.get_outputs()[0].name

    def bound_run(image):
        binding.bind_cpu_input(name, image)
        binding.bind_output(output)
        start = time.perf_counter()
        session.run_with_iobinding(binding)
        return time.perf_counter() - start

    def plain_run(image):
        start = time.perf_counter()
        session.run(None, {name: image})
        return time.perf_counter() - start

    for i in range(args.warmup):
        bound_run(images[i % len(images)])
        plain_run(images[i % len(images)])
    times = sorted(bound_run(image) for image in images)
    run_times = sorted(plain_run(image) for image in images)

    def percentile(p, times=times):
        return times[min(len(times) - 1, math.ceil(p * len(times)) - 1)]

    print(f"onnxruntime={ort.__version__}")
    print(f"threads={args.threads}")
    print(f"latency_images={args.images}")
    print(f"latency_p50_us={percentile(0.5) * 1e6:.1f}")
    print(f"latency_p99_us={percentile(0.99) * 1e6:.1f}")
    print(f"latency_mean_us={sum(times) / len(times) * 1e6:.1f}")
    print(f"run_latency_p50_us={percentile(0.5, run_times) * 1e6:.1f}")
    print(f"run_latency_p99_us={percentile(0.99, run_times) * 1e6:.1f}")


if __name__ == "__main__":
    main()
