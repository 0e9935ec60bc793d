"""Golden fixture for B3 linear attention (elu+1) from flash-linear-attention's plain-torch reference
fla.ops.linear_attn.naive:naive_recurrent_linear_attn (normalize=True), read by LinearAttentionGoldenTest.

Run by hand (not in CI), from the repository root:
    ~/venvs/peers/bin/python nn/tools/make_linear_attention_golden.py
Writes nn/src/test/resources/golden/b3_linear_attention/fixture.safetensors (F32, our layout (B, H, T, D)):
  q, k, v          the raw inputs (the caller applies elu+1, as fla's LinearAttention(feature_map='elu') does)
  out_weight       w, the loss is L = sum(out * w)
  out              fla's causal output
  fla_denominator  fla's normaliser without its eps: scale * phi(q_t) . sum_{s<=t} phi(k_s)   (B, H, T, 1)
  grad.q, grad.k, grad.v   dL/d(q, k, v) through elu+1 and fla's recurrence
Named differences from the paper (Katharopoulos et al. 2020), which Tessera follows: fla multiplies
phi(q) by scale = D^-0.5 (it cancels between numerator and denominator) and adds eps = 1e-10 to the
denominator; the Java test undoes the eps with fla_denominator, out_paper = out * (den + eps) / den.

fla's package __init__ imports its triton kernels (absent on CPU machines) and transformers, so the naive module is
loaded from its file alone; it needs only torch and einops.
"""
import importlib.util, os
import torch
import torch.nn.functional as F
from safetensors.torch import save_file

FLA = importlib.util.find_spec("fla").submodule_search_locations[0]  # finds the package without running its __init__
NAIVE = os.path.join(FLA, "ops", "linear_attn", "naive.py")
spec = importlib.util.spec_from_file_location("fla_linear_attn_naive", NAIVE)
naive = importlib.util.module_from_spec(spec)
spec.loader.exec_module(naive)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "test", "resources", "golden", "b3_linear_attention")
B, H, T, D, DV = 2, 3, 9, 4, 5
EPS = 1e-10

g = torch.Generator().manual_seed(20200629)
q = (1.5 * torch.randn(B, H, T, D, generator=g)).requires_grad_()
k = (1.5 * torch.randn(B, H, T, D, generator=g)).requires_grad_()
v = torch.randn(B, H, T, DV, generator=g).requires_grad_()
w = torch.randn(B, H, T, DV, generator=g)

phi_q, phi_k = F.elu(q) + 1, F.elu(k) + 1
o, _ = naive.naive_recurrent_linear_attn(phi_q.transpose(1, 2), phi_k.transpose(1, 2), v.transpose(1, 2), normalize=True)
out = o.transpose(1, 2)  # (B, H, T, Dv)
(out * w).sum().backward()
scale = D ** -0.5
with torch.no_grad():
    den = (scale * phi_q * phi_k.cumsum(2)).sum(-1, keepdim=True)

tensors = {"q": q, "k": k, "v": v, "out_weight": w, "out": out, "fla_denominator": den,
           "grad.q": q.grad, "grad.k": k.grad, "grad.v": v.grad}
os.makedirs(OUT, exist_ok=True)
save_file({n: t.detach().contiguous().float() for n, t in tensors.items()}, os.path.join(OUT, "fixture.safetensors"),
          metadata={"source": "fla.ops.linear_attn.naive:naive_recurrent_linear_attn(normalize=True)", "scale": str(scale),
                    "eps": str(EPS)})
