"""Golden fixture for B3 DeltaNet from flash-linear-attention's plain-torch reference
fla.ops.delta_rule.naive:delta_rule_recurrence, read by DeltaNetGoldenTest.

Run by hand (not in CI), from the repository root:
    ~/venvs/peers/bin/python nn/tools/make_deltanet_golden.py
Writes nn/src/test/resources/golden/b3_deltanet/fixture.safetensors (F32, layout (B, H, T, D)):
  q, k, v                 the raw inputs
  beta_weight, beta_bias  w (H, D), b (H): beta = sigmoid(w . k + b), Tessera's beta from the raw key
  out_weight              w_out, the loss is L = sum(out * w_out)
  out                     fla's output for L2-normalised q, k (x / sqrt(|x|^2 + 1e-6), applied here as
                          fla's DeltaNet layer does before the kernel) and that beta
  grad.q, grad.k, grad.v, grad.beta_weight, grad.beta_bias   dL/d(...) through all of it
Named difference from the papers (Schlag et al. 2021, Yang et al. 2024: out_t = S_t q_t), which
Tessera follows: fla multiplies q by scale = D^-1/2 inside the kernel, so fla's out and every
gradient of L are scale times Tessera's; the Java test divides them by the recorded scale.

fla's package __init__ imports its triton kernels (absent on CPU machines) and transformers, so the
naive module is loaded from its file alone; it needs only torch and einops.
"""
import importlib.util, os
import torch
from safetensors.torch import save_file

FLA = importlib.util.find_spec("fla").submodule_search_locations[0]  # finds the package without running its __init__
spec = importlib.util.spec_from_file_location("fla_delta_rule_naive", os.path.join(FLA, "ops", "delta_rule", "naive.py"))
naive = importlib.util.module_from_spec(spec)
spec.loader.exec_module(naive)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "test", "resources", "golden", "b3_deltanet")
B, H, T, D, DV = 2, 3, 9, 4, 5
EPS = 1e-6

g = torch.Generator().manual_seed(20240610)
q = torch.randn(B, H, T, D, generator=g).requires_grad_()
k = torch.randn(B, H, T, D, generator=g).requires_grad_()
v = torch.randn(B, H, T, DV, generator=g).requires_grad_()
bw = torch.randn(H, D, generator=g).requires_grad_()
bb = torch.randn(H, generator=g).requires_grad_()
w = torch.randn(B, H, T, DV, generator=g)


def l2(x):
    return x / torch.sqrt((x * x).sum(-1, keepdim=True) + EPS)


beta = torch.sigmoid((k * bw[None, :, None, :]).sum(-1) + bb[None, :, None])  # (B, H, T)
out, _ = naive.delta_rule_recurrence(l2(q), l2(k), v, beta)
(out * w).sum().backward()

tensors = {"q": q, "k": k, "v": v, "beta_weight": bw, "beta_bias": bb, "out_weight": w, "out": out,
           "grad.q": q.grad, "grad.k": k.grad, "grad.v": v.grad, "grad.beta_weight": bw.grad, "grad.beta_bias": bb.grad}
os.makedirs(OUT, exist_ok=True)
save_file({n: t.detach().contiguous().float() for n, t in tensors.items()}, os.path.join(OUT, "fixture.safetensors"),
          metadata={"source": "fla.ops.delta_rule.naive:delta_rule_recurrence", "scale": repr(D ** -0.5), "eps": repr(EPS)})
