"""A small, real training run for the simulated Ascend host (pure Python, 3.8+).

Fits a two-layer network to a fixed synthetic regression task with SGD, so the loss
genuinely decreases. ``--precision`` chooses the float type the forward and backward passes
run in (fp32, fp16 through IEEE half rounding, bf16 by truncating the mantissa), so a GPU
reference run (fp32) and an "NPU" run (fp16/bf16) give curves that differ for real.
Prints MindSpeed-LLM / Megatron style iteration lines and writes checkpoints.
"""

import argparse
import math
import os
import pickle
import random
import struct
import sys
import time


def fp16(x):
    try:
        return struct.unpack("<e", struct.pack("<e", x))[0]
    except OverflowError:
        return math.copysign(float("inf"), x)


def bf16(x):
    bits = struct.unpack("<I", struct.pack("<f", x))[0] & 0xFFFF0000
    return struct.unpack("<f", struct.pack("<I", bits))[0]


def fp32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


CASTS = {"fp32": fp32, "fp16": fp16, "bf16": bf16}


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--precision", choices=sorted(CASTS), default="fp32")
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--log-interval", type=int, default=1)
    parser.add_argument("--sleep", type=float, default=0.0, help="seconds to wait per step (long runs)")
    parser.add_argument("--save-dir", default="checkpoints")
    parser.add_argument("--save-interval", type=int, default=100)
    args = parser.parse_args(argv)
    cast = CASTS[args.precision]

    rng = random.Random(args.seed)
    n_in, n_hidden, batch = 8, 8, 32
    xs = [[rng.gauss(0, 1) for _ in range(n_in)] for _ in range(256)]
    true_w = [rng.gauss(0, 1) for _ in range(n_in)]
    ys = [math.tanh(sum(a * b for a, b in zip(x, true_w))) + 0.05 * rng.gauss(0, 1) for x in xs]
    w1 = [[rng.gauss(0, 0.3) for _ in range(n_hidden)] for _ in range(n_in)]
    w2 = [rng.gauss(0, 0.3) for _ in range(n_hidden)]
    started = time.time()
    for step in range(1, args.steps + 1):
        grad_w1 = [[0.0] * n_hidden for _ in range(n_in)]
        grad_w2 = [0.0] * n_hidden
        loss = 0.0
        for _ in range(batch):
            i = rng.randrange(len(xs))
            x = [cast(v) for v in xs[i]]
            h = [math.tanh(cast(sum(x[k] * cast(w1[k][j]) for k in range(n_in)))) for j in range(n_hidden)]
            pred = cast(sum(h[j] * cast(w2[j]) for j in range(n_hidden)))
            err = pred - ys[i]
            loss += err * err / batch
            g = cast(2 * err / batch)
            for j in range(n_hidden):
                grad_w2[j] += h[j] * g
                gh = g * w2[j] * (1 - h[j] * h[j])
                for k in range(n_in):
                    grad_w1[k][j] += x[k] * gh
        for j in range(n_hidden):
            w2[j] -= args.lr * cast(grad_w2[j])
            for k in range(n_in):
                w1[k][j] -= args.lr * cast(grad_w1[k][j])
        if step % args.log_interval == 0:
            elapsed_ms = (time.time() - started) * 1000 / step
            grad_norm = math.sqrt(sum(v * v for row in grad_w1 for v in row))
            print(f" iteration {step:>8}/{args.steps:>8} | consumed samples: {step * batch:>12} | "
                  f"elapsed time per iteration (ms): {elapsed_ms:.1f} | throughput per GPU (TFLOP/s/GPU): 0.0 | "
                  f"learning rate: {args.lr:.6E} | global batch size: {batch:>5} | lm loss: {loss:.6E} | "
                  f"loss scale: 1.0 | grad norm: {grad_norm:.3f} | "
                  f"number of skipped iterations:   0 | number of nan iterations:   0 |", flush=True)
        if step % args.save_interval == 0 or step == args.steps:
            os.makedirs(args.save_dir, exist_ok=True)
            with open(os.path.join(args.save_dir, f"iter_{step:07d}.pt"), "wb") as out:
                pickle.dump({"w1": w1, "w2": w2, "step": step}, out)
            print(f"saving checkpoint at iteration {step:>7} to {args.save_dir}", flush=True)
        if args.sleep:
            time.sleep(args.sleep)
    print(f"[after training is done] datetime: {time.strftime('%Y-%m-%d %H:%M:%S')}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
