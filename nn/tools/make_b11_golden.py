"""Golden fixture for B11 RetNet retention from flash-linear-attention's plain-torch references.

Run by hand (not in CI), from the repository root:
    ~/venvs/peers/bin/python nn/tools/make_b11_golden.py
Writes nn/src/test/resources/golden/b11_retention/fixture.safetensors (F32, our layout (B, H, T, D)),
read by RetentionGoldenTest:
  q, k, v            the inputs
  out_weight         w, each form's loss is L = sum(out * w)
  out.parallel       fla.ops.retention.naive:naive_retention(q, k, v)  (gamma_h = 1 - 2^(-5-h), q scaled by D^-1/2)
  out.recurrent      fla.ops.simple_gla.naive:naive_recurrent_simple_gla with g = log gamma_h
  out.chunk          fla.ops.simple_gla.naive:naive_chunk_simple_gla with g = log gamma_h, chunk_size = 4 (T = 9: a partial last chunk)
  grad.<form>.q, grad.<form>.k, grad.<form>.v   dL/d(q, k, v) through that form
No named difference from the paper's retention: fla scales q by D^-1/2, the paper's first score
normalisation, as Tessera does; the GroupNorm, swish gate and xPos of the full layer are not in
these functions (nor in Tessera's kernel). The simple_gla functions take (B, T, H, D): the script
transposes. fla's package __init__ imports triton kernels, so the naive modules are loaded from
their files alone (make_b3_golden.load_naive); they need only torch and einops.
"""
import math, os, sys
import torch
from safetensors.torch import save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_b3_golden import GOLDEN, load_naive  # noqa: E402  (fla's naive.py files loaded by path)


def main():
    retention = load_naive("retention")
    gla = load_naive("simple_gla")
    B, H, T, D, DV, CHUNK = 2, 3, 9, 4, 5, 4
    g = torch.Generator().manual_seed(20230717)
    q0 = torch.randn(B, H, T, D, generator=g)
    k0 = torch.randn(B, H, T, D, generator=g)
    v0 = torch.randn(B, H, T, DV, generator=g)
    w = torch.randn(B, H, T, DV, generator=g)
    log_gamma = torch.tensor([math.log(1 - 2.0 ** (-5 - h)) for h in range(H)])
    gate = log_gamma.view(1, 1, H).expand(B, T, H).contiguous()  # (B, T, H)

    def bthd(x):
        return x.transpose(1, 2)

    forms = {
        "parallel": lambda q, k, v: retention.naive_retention(q, k, v),
        "recurrent": lambda q, k, v: bthd(gla.naive_recurrent_simple_gla(bthd(q), bthd(k), bthd(v), gate)[0]),
        "chunk": lambda q, k, v: bthd(gla.naive_chunk_simple_gla(bthd(q), bthd(k), bthd(v), gate, chunk_size=CHUNK)[0]),
    }
    tensors = {"q": q0, "k": k0, "v": v0, "out_weight": w}
    for name, form in forms.items():
        q, k, v = (x.clone().requires_grad_() for x in (q0, k0, v0))
        out = form(q, k, v)
        (out * w).sum().backward()
        tensors.update({"out." + name: out, "grad." + name + ".q": q.grad, "grad." + name + ".k": k.grad,
                        "grad." + name + ".v": v.grad})
    dest = os.path.join(GOLDEN, "b11_retention")
    os.makedirs(dest, exist_ok=True)
    save_file({n: t.detach().contiguous().float() for n, t in tensors.items()}, os.path.join(dest, "fixture.safetensors"),
              metadata={"source": "fla.ops.retention.naive:naive_retention; fla.ops.simple_gla.naive:naive_recurrent_simple_gla, "
                                  "naive_chunk_simple_gla (g = log gamma_h)", "chunk": str(CHUNK)})


if __name__ == "__main__":
    main()
