#!/usr/bin/env python3
"""PyTorch reference for flow's benchmark harness (bench/main.go).

Runs the issue's workloads in PyTorch, float32, on --threads threads, and
prints one JSON object on stdout:

    {"torch": "1.13.1", "threads": 2, "blas": "...",
     "workloads": {"softmax_train_b100": {"median_us": ..., "p10_us": ...,
                   "p90_us": ..., "iterations": ..., "config": "eager"}, ...},
     "sgemm": {"512": {"gflops": ..., "median_us": ...}, "1024": {...}}}

The workloads mirror examples/mnist_softmax.flow, examples/mlp.flow,
examples/lenet.flow (LeNet in torch's NCHW layout) and
examples/lstm_mnist.flow (nn.LSTM, batch first). Predict workloads are
timed both eagerly and as a frozen TorchScript trace, and the faster
configuration is reported (the "best configuration" the issue compares
against). Set OMP_WAIT_POLICY=PASSIVE in the environment, as the harness
does, before starting Python: OpenMP reads it at load time.
"""

import argparse
import json
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def quantile(sorted_values, q):
    """Linear-interpolation quantile, as the Go side computes it."""
    pos = q * (len(sorted_values) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (pos - lo) * (sorted_values[hi] - sorted_values[lo])


def measure(fn, target_s, min_iters, warmup):
    """Times fn: warmup calls, then at least min_iters calls and as many as
    fit in about target_s seconds. Returns microsecond statistics."""
    for _ in range(warmup):
        fn()
    t0 = time.perf_counter()
    fn()
    per = max(time.perf_counter() - t0, 1e-6)
    iters = int(min(max(target_s / per, min_iters), 1_000_000))
    times = []
    for _ in range(iters):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e6)
    times.sort()
    return {
        "median_us": quantile(times, 0.5),
        "p10_us": quantile(times, 0.1),
        "p90_us": quantile(times, 0.9),
        "iterations": iters,
    }


class MLP(nn.Module):
    """784-512-512-10 ReLU network, as examples/mlp.flow."""

    def __init__(self):
        super().__init__()
        self.h1 = nn.Linear(784, 512)
        self.h2 = nn.Linear(512, 512)
        self.out = nn.Linear(512, 10)

    def forward(self, x):
        return self.out(F.relu(self.h2(F.relu(self.h1(x)))))


class LeNet(nn.Module):
    """The LeNet CNN of examples/lenet.flow in NCHW layout."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 5, padding=2)
        self.conv2 = nn.Conv2d(32, 64, 5, padding=2)
        self.fc3 = nn.Linear(7 * 7 * 64, 1024)
        self.fc4 = nn.Linear(1024, 10)
        self.drop = nn.Dropout(0.5)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        x = self.drop(F.relu(self.fc3(x)))
        return self.fc4(x)


class LstmMnist(nn.Module):
    """examples/lstm_mnist.flow: a 128-unit LSTM over the 28 rows of an
    image (batch first), a dense layer on its last output."""

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(28, 128, batch_first=True)
        self.out = nn.Linear(128, 10)

    def forward(self, x):
        hs, _ = self.lstm(x)
        return self.out(hs[:, -1, :])


def predict_fn(model, x, config):
    """A predict call (softmax of the logits) in eager or TorchScript form."""
    model.eval()
    if config == "eager":

        def run():
            with torch.inference_mode():
                return F.softmax(model(x), dim=1)

        return run

    class WithSoftmax(nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, x):
            return F.softmax(self.inner(x), dim=1)

    with torch.no_grad():
        traced = torch.jit.freeze(torch.jit.trace(WithSoftmax(model).eval(), x))

    def run():
        with torch.no_grad():
            return traced(x)

    return run


def train_fn(model, x, labels):
    """One Adam training step on the mean cross-entropy."""
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def run():
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), labels)
        loss.backward()
        opt.step()
        return loss

    return run


def softmax_train_fn(batch):
    """examples/mnist_softmax.flow's step: softmax regression, summed
    cross-entropy against one-hot labels, SGD lr=0.01."""
    w = torch.zeros(784, 10, requires_grad=True)
    b = torch.zeros(10, requires_grad=True)
    opt = torch.optim.SGD([w, b], lr=0.01)
    x = torch.rand(batch, 784)
    y_ = F.one_hot(torch.randint(0, 10, (batch,)), 10).float()

    def run():
        opt.zero_grad(set_to_none=True)
        loss = -(y_ * F.log_softmax(x @ w + b, dim=1)).sum()
        loss.backward()
        opt.step()
        return loss

    return run


def blas_library():
    """The BLAS library the process loaded (from /proc/self/maps), or ""."""
    try:
        with open("/proc/self/maps") as maps:
            for line in maps:
                path = line.split()[-1]
                if "blas" in path.rsplit("/", 1)[-1]:
                    return path
    except OSError:
        pass
    return ""


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--quick", action="store_true", help="short runs")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    target = 0.3 if args.quick else 2.0
    min_iters = 5 if args.quick else 10
    warmup = 3

    def timed(fn):
        return measure(fn, target, min_iters, warmup)

    def best_predict(model, x):
        best = None
        for config in ("eager", "jit"):
            try:
                res = timed(predict_fn(model, x, config))
            except Exception as err:  # a config that does not work is skipped
                print(f"torch_bench: {config} predict failed: {err}", file=sys.stderr)
                continue
            res["config"] = config
            if best is None or res["median_us"] < best["median_us"]:
                best = res
        return best

    work = {}
    res = timed(softmax_train_fn(100))
    res["config"] = "eager"
    work["softmax_train_b100"] = res

    mlp = MLP()
    for b in (1, 64):
        work[f"mlp_predict_b{b}"] = best_predict(mlp, torch.rand(b, 784))
    res = timed(train_fn(MLP(), torch.rand(64, 784), torch.randint(0, 10, (64,))))
    res["config"] = "eager"
    work["mlp_train_b64"] = res

    lenet = LeNet()
    for b in (1, 64):
        work[f"lenet_predict_b{b}"] = best_predict(lenet, torch.rand(b, 1, 28, 28))
    res = timed(train_fn(LeNet(), torch.rand(64, 1, 28, 28), torch.randint(0, 10, (64,))))
    res["config"] = "eager"
    work["lenet_train_b64"] = res
    work["lstm_predict_b64"] = best_predict(LstmMnist(), torch.rand(64, 28, 28))
    res = timed(train_fn(LstmMnist(), torch.rand(64, 28, 28), torch.randint(0, 10, (64,))))
    res["config"] = "eager"
    work["lstm_train_b64"] = res

    sgemm = {}
    for n in (512, 1024):
        a, b = torch.rand(n, n), torch.rand(n, n)
        res = timed(lambda: torch.mm(a, b))
        res["gflops"] = 2 * n**3 / (res["median_us"] * 1e3)
        sgemm[str(n)] = res

    json_blas = blas_library()
    json.dump(
        {
            "torch": torch.__version__,
            "threads": torch.get_num_threads(),
            "blas": json_blas,
            "workloads": work,
            "sgemm": sgemm,
        },
        sys.stdout,
    )
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
