"""Golden fixtures for B3 from flash-linear-attention's plain-torch references.

1. B3 linear attention (elu+1) from flash-linear-attention's plain-torch reference
fla.ops.linear_attn.naive:naive_recurrent_linear_attn (normalize=True), read by LinearAttentionGoldenTest.

Run by hand (not in CI), from the repository root:
    ~/venvs/peers/bin/python nn/tools/make_b3_golden.py
Writes nn/src/test/resources/golden/b3_linear_attention/fixture.safetensors (F32, our layout (B, H, T, D)):
  q, k, v          the raw inputs (the caller applies elu+1, as fla's LinearAttention(feature_map='elu') does)
  out_weight       w, the loss is L = sum(out * w)
  out              fla's causal output
  fla_denominator  fla's normaliser without its eps: scale * phi(q_t) . sum_{s<=t} phi(k_s)   (B, H, T, 1)
  grad.q, grad.k, grad.v   dL/d(q, k, v) through elu+1 and fla's recurrence
Named differences from the paper (Katharopoulos et al. 2020), which Tessera follows: fla multiplies
phi(q) by scale = D^-0.5 (it cancels between numerator and denominator) and adds eps = 1e-10 to the
denominator; the Java test undoes the eps with fla_denominator, out_paper = out * (den + eps) / den.

2. B3 DeltaNet from flash-linear-attention's plain-torch reference
fla.ops.delta_rule.naive:delta_rule_recurrence, read by DeltaNetGoldenTest.

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
naive modules are loaded from their files alone; they need only torch and einops.
"""
import importlib.util, os
import torch
import torch.nn.functional as F
from safetensors.torch import save_file

FLA = importlib.util.find_spec("fla").submodule_search_locations[0]  # finds the package without running its __init__
GOLDEN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "test", "resources", "golden")


def load_naive(*path):
    spec = importlib.util.spec_from_file_location("fla_naive_" + path[0], os.path.join(FLA, "ops", *path, "naive.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write(fixture, tensors, metadata):
    out = os.path.join(GOLDEN, fixture)
    os.makedirs(out, exist_ok=True)
    save_file({n: t.detach().contiguous().float() for n, t in tensors.items()}, os.path.join(out, "fixture.safetensors"),
              metadata=metadata)


def linear_attention():
    naive = load_naive("linear_attn")
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
    write("b3_linear_attention", tensors, {"source": "fla.ops.linear_attn.naive:naive_recurrent_linear_attn(normalize=True)",
                                           "scale": str(scale), "eps": str(EPS)})


def deltanet():
    naive = load_naive("delta_rule")
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
    write("b3_deltanet", tensors, {"source": "fla.ops.delta_rule.naive:delta_rule_recurrence", "scale": repr(D ** -0.5),
                                   "eps": repr(EPS)})


if __name__ == "__main__":
    linear_attention()
    deltanet()
