"""A small, real training run for the simulated Ascend host.

Fits a two-layer network to a fixed synthetic regression task with plain numpy and SGD,
so the loss genuinely decreases. ``--precision`` chooses the float type the forward and
backward passes run in (fp32, fp16, bf16 emulated by truncating the mantissa), so a GPU
reference run (fp32) and an "NPU" run (fp16/bf16) give curves that differ for real.
Prints MindSpeed-LLM / Megatron style iteration lines and writes checkpoints.
"""

import argparse
import os
import sys
import time

import numpy as np


def to_bf16(x):
    as_int = np.asarray(x, dtype=np.float32).view(np.uint32)
    return (as_int & np.uint32(0xFFFF0000)).view(np.float32)


def cast(x, precision):
    if precision == "fp16":
        return x.astype(np.float16).astype(np.float32)
    if precision == "bf16":
        return to_bf16(x)
    return x.astype(np.float32)


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--precision", choices=["fp32", "fp16", "bf16"], default="fp32")
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--log-interval", type=int, default=1)
    parser.add_argument("--sleep", type=float, default=0.0, help="seconds to wait per step (long runs)")
    parser.add_argument("--save-dir", default="checkpoints")
    parser.add_argument("--save-interval", type=int, default=100)
    args = parser.parse_args(argv)

    rng = np.random.default_rng(args.seed)
    x = rng.normal(size=(512, 16)).astype(np.float32)
    true_w = rng.normal(size=(16, 1)).astype(np.float32)
    y = np.tanh(x @ true_w) + 0.05 * rng.normal(size=(512, 1)).astype(np.float32)
    w1 = rng.normal(scale=0.3, size=(16, 32)).astype(np.float32)
    w2 = rng.normal(scale=0.3, size=(32, 1)).astype(np.float32)
    batch = 64
    started = time.time()
    for step in range(1, args.steps + 1):
        idx = rng.integers(0, len(x), size=batch)
        xb, yb = cast(x[idx], args.precision), y[idx]
        h = np.tanh(cast(xb @ cast(w1, args.precision), args.precision))
        pred = cast(h @ cast(w2, args.precision), args.precision)
        err = pred - yb
        loss = float(np.mean(err ** 2))
        grad_pred = cast(2 * err / batch, args.precision)
        grad_w2 = h.T @ grad_pred
        grad_h = (grad_pred @ w2.T) * (1 - h ** 2)
        grad_w1 = xb.T @ grad_h
        w1 -= args.lr * cast(grad_w1, args.precision)
        w2 -= args.lr * cast(grad_w2, args.precision)
        if step % args.log_interval == 0:
            elapsed_ms = (time.time() - started) * 1000 / step
            print(f" iteration {step:>8}/{args.steps:>8} | consumed samples: {step * batch:>12} | "
                  f"elapsed time per iteration (ms): {elapsed_ms:.1f} | throughput per GPU (TFLOP/s/GPU): 0.0 | "
                  f"learning rate: {args.lr:.6E} | global batch size: {batch:>5} | lm loss: {loss:.6E} | "
                  f"loss scale: 1.0 | grad norm: {float(np.linalg.norm(grad_w1)):.3f} | "
                  f"number of skipped iterations:   0 | number of nan iterations:   0 |", flush=True)
        if step % args.save_interval == 0 or step == args.steps:
            os.makedirs(args.save_dir, exist_ok=True)
            np.savez(os.path.join(args.save_dir, f"iter_{step:07d}.npz"), w1=w1, w2=w2)
            print(f"saving checkpoint at iteration {step:>7} to {args.save_dir}", flush=True)
        if args.sleep:
            time.sleep(args.sleep)
    print(f"[after training is done] datetime: {time.strftime('%Y-%m-%d %H:%M:%S')}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
