"""PyTorch's GEMM on given shapes, the peer of `GemmTiming shapes=...`: best of 5 rounds of 5 products.
Usage: ~/venvs/peers/bin/python bench/gemm_shapes_peer.py THREADS MxNxK:LAYOUT[,...] [CALLS]   (LAYOUT NN, NT, TN or TT)
With CALLS, the peer of `GemmTiming ... calls=CALLS`: percentiles of that many single products, for
PyTorch (MKL) and NumPy (OpenBLAS) alike."""
import os
import sys
import time

threads = sys.argv[1]
os.environ["OPENBLAS_NUM_THREADS"] = threads
os.environ["OMP_NUM_THREADS"] = threads
import numpy as np  # noqa: E402  (after the thread count is in the environment)
import torch  # noqa: E402

torch.set_num_threads(int(threads))
calls = int(sys.argv[3]) if len(sys.argv) > 3 else 0


def operands(m, n, k, layout, lib):
    a = lib.randn(k, m) if layout[0] == 'T' else lib.randn(m, k)
    b = lib.randn(n, k) if layout[1] == 'T' else lib.randn(k, n)
    def transpose(x):
        return x.t() if lib is torch else x.T
    return (transpose(a) if layout[0] == 'T' else a), (transpose(b) if layout[1] == 'T' else b)


class NumpyRandom:
    @staticmethod
    def randn(r, c):
        return np.random.standard_normal((r, c)).astype(np.float32)


for s in sys.argv[2].split(','):
    d, layout = s.split(':')
    m, n, k = map(int, d.split('x'))
    flops = 2 * m * n * k
    if not calls:
        A, B = operands(m, n, k, layout, torch)
        for _ in range(3):
            A @ B
        best = 1e9
        for r in range(5):
            t = time.perf_counter()
            for _ in range(5):
                A @ B
            best = min(best, (time.perf_counter() - t) / 5)
        print(f"torch threads={threads} shape={s} gflops={flops / best / 1e9:.1f}")
        continue
    for name, lib in (("torch", torch), ("numpy", NumpyRandom)):
        A, B = operands(m, n, k, layout, lib)
        for _ in range(3):
            A @ B
        rates = []
        for _ in range(calls):
            t = time.perf_counter()
            A @ B
            rates.append(flops / (time.perf_counter() - t) / 1e9)
        rates.sort()
        print(f"{name} threads={threads} shape={s} calls={calls} best={rates[-1]:.1f} p75={rates[calls * 3 // 4]:.1f} "
              f"p50={rates[calls // 2]:.1f} p25={rates[calls // 4]:.1f}")
