"""PyTorch's GEMM on given shapes, the peer of `GemmTiming shapes=...`: best of 5 rounds of 5 products.
Usage: ~/venvs/peers/bin/python bench/gemm_shapes_peer.py THREADS MxNxK:LAYOUT[,...]   (LAYOUT NN, NT, TN or TT)"""
import sys
import time

import torch

torch.set_num_threads(int(sys.argv[1]))
for s in sys.argv[2].split(','):
    d, l = s.split(':')
    m, n, k = map(int, d.split('x'))
    a = torch.randn(k, m) if l[0] == 'T' else torch.randn(m, k)
    b = torch.randn(n, k) if l[1] == 'T' else torch.randn(k, n)
    A = a.t() if l[0] == 'T' else a
    B = b.t() if l[1] == 'T' else b
    for _ in range(3):
        A @ B
    best = 1e9
    for r in range(5):
        t = time.perf_counter()
        for _ in range(5):
            A @ B
        best = min(best, (time.perf_counter() - t) / 5)
    print(f"torch threads={sys.argv[1]} shape={s} gflops={2 * m * n * k / best / 1e9:.1f}")
