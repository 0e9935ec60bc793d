"""Golden fixture for the delta-rule part of E25 (recurrent fast weight programmers) from
flash-linear-attention's plain-torch reference fla.ops.delta_rule.naive:delta_rule_recurrence.

Run by hand (never in CI), from the repository root:
    ~/venvs/peers/bin/python nn/tools/golden_e25_delta_rule.py
writes nn/src/test/resources/golden/e25/delta_rule.safetensors, read by
nn/src/test/java/dev/tessera/nn/mixer/RfwpTest.java (deltaRuleMatchesFla).

The recurrent part of E25 (q, k, v, beta reading y_{t-1}) is paper only (REFERENCES.md); the
delta rule it drives is fla's: S_t = S_{t-1} + beta_t k_t (v_t - S_{t-1}^T k_t)^T, o_t = S_t^T (scale q_t).
Inputs as the Java mixer makes them: q, k already feature-mapped (softmax over D), v, beta in (0, 1).
Named difference: fla multiplies q by scale = D^-1/2 inside; this script feeds it q * D^1/2 (inside the
graph), so fla's o and every gradient are the unscaled rule's. fla computes in float32 (x.float()), so
the Java test allows 1e-5.

Stored (float64, layout (B, H, T, D), beta (B, H, T)): q, k, v, beta, grad_output (w, L = sum(o * w)),
out, grad.q, grad.k, grad.v, grad.beta.
"""
import importlib.util
import os

import torch
from safetensors.torch import save_file

FLA = importlib.util.find_spec("fla").submodule_search_locations[0]  # the package path, without running its __init__
spec = importlib.util.spec_from_file_location("fla_naive_delta_rule", os.path.join(FLA, "ops", "delta_rule", "naive.py"))
naive = importlib.util.module_from_spec(spec)
spec.loader.exec_module(naive)

torch.manual_seed(25)
B, H, T, D = 2, 2, 6, 4
q = torch.randn(B, H, T, D, dtype=torch.float64).softmax(-1).requires_grad_(True)
k = torch.randn(B, H, T, D, dtype=torch.float64).softmax(-1).requires_grad_(True)
v = torch.randn(B, H, T, D, dtype=torch.float64).requires_grad_(True)
beta = torch.rand(B, H, T, dtype=torch.float64).requires_grad_(True)
w = torch.randn(B, H, T, D, dtype=torch.float64)
out, _ = naive.delta_rule_recurrence(q * D ** 0.5, k, v, beta)
(out * w).sum().backward()
tensors = {"q": q, "k": k, "v": v, "beta": beta, "grad_output": w, "out": out}
tensors = {n: t.detach().clone().contiguous() for n, t in tensors.items()}
tensors.update({"grad." + n: t.grad.detach().clone().contiguous() for n, t in (("q", q), ("k", k), ("v", v), ("beta", beta))})
save_file(tensors, "nn/src/test/resources/golden/e25/delta_rule.safetensors",
          metadata={"source": "fla.ops.delta_rule.naive:delta_rule_recurrence"})
print("wrote", sorted(tensors))
