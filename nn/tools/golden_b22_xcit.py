"""Golden fixture for B22 XCiT cross-covariance attention (XcitAttention) from timm's XCA.

Run by hand (never in CI), from the repository root:
    ~/venvs/peers/bin/python nn/tools/golden_b22_xcit.py
writes nn/src/test/resources/golden/b22/xca.safetensors, read by
nn/src/test/java/dev/tessera/nn/attention/XcitGoldenTest.java.

Reference: timm.models.xcit.XCA in float64, dim 12, 3 heads (head size 4), qkv_bias=True, no
dropout, the explicit (non-fused) path, B = 2, N = 7 tokens, temperature set per head to
[1.0, 0.5, 2.5] so a wrong broadcast of the temperature shows. Biases are rounded to float32
values (Tessera keeps biases and the temperature in F32), so the F64 forward agrees to rounding.

What is compared: the whole XCA forward (qkv projection, the cross-covariance kernel, proj) as
Tessera's MultiHeadAttention with bias and without RoPE, kind XCIT: timm's fused qkv Linear (3C, C)
is split into q_proj, k_proj, v_proj (rows [0, C), [C, 2C), [2C, 3C): timm reshapes qkv to
(B, N, 3, H, D)), proj is o_proj, temperature is kernel.temperature. Stored under Tessera's names:
the weights, x, grad_output, out, and the gradients of sum(out * grad_output) with respect to x and
every parameter ("grad.<name>").
"""

import os

import torchvision_stub  # noqa: F401  (timm loads without torchvision: see that module)

import timm  # noqa: E402
import torch  # noqa: E402
from safetensors.torch import save_file  # noqa: E402
from timm.models.xcit import XCA  # noqa: E402

torch.manual_seed(22)
B, N, DIM, HEADS = 2, 7, 12, 3

xca = XCA(DIM, num_heads=HEADS, qkv_bias=True).double().eval()
xca.fused_attn = False  # the paper's explicit form; the fused sdpa path computes the same
with torch.no_grad():
    xca.qkv.weight.normal_(0, 0.5)
    xca.qkv.bias.normal_(0, 0.2)
    xca.proj.weight.normal_(0, 0.3)
    xca.proj.bias.normal_(0, 0.1)
    xca.temperature.copy_(torch.tensor([1.0, 0.5, 2.5], dtype=torch.float64).view(HEADS, 1, 1))
    # Tessera keeps biases and the temperature in F32 whatever the weights' dtype: give them
    # F32-representable values so the F64 forward matches to rounding, not to F32 precision
    for p in (xca.qkv.bias, xca.proj.bias):
        p.copy_(p.float().double())

x = torch.randn(B, N, DIM, dtype=torch.float64, requires_grad=True)
grad_output = torch.randn(B, N, DIM, dtype=torch.float64)
out = xca(x)
(out * grad_output).sum().backward()


def split(t):
    """timm's qkv rows (3C, ...) -> Tessera's q, k, v."""
    return {"q": t[:DIM], "k": t[DIM:2 * DIM], "v": t[2 * DIM:]}


tensors = {"x": x.detach().clone(), "grad_output": grad_output, "out": out.detach().clone(), "grad.x": x.grad.clone()}
for kind, source in (("", lambda p: p.detach()), ("grad.", lambda p: p.grad)):
    for part in ("weight", "bias"):
        for name, t in split(source(getattr(xca.qkv, part))).items():
            tensors[kind + name + "_proj." + part] = t.clone()
        tensors[kind + "o_proj." + part] = source(getattr(xca.proj, part)).clone()
    tensors[kind + "kernel.temperature"] = source(xca.temperature).clone()

# sanity: the fused path gives the same output
xca.fused_attn = True
with torch.no_grad():
    assert torch.allclose(xca(x), tensors["out"], rtol=0, atol=1e-12)

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "test", "resources", "golden", "b22")
os.makedirs(root, exist_ok=True)
path = os.path.join(root, "xca.safetensors")
save_file({k: v.contiguous() for k, v in tensors.items()}, path, metadata={
    "reference": "timm.models.xcit.XCA",
    "script": "nn/tools/golden_b22_xcit.py",
    "heads": str(HEADS),
    "torch": torch.__version__,
    "timm": timm.__version__,
})
print("wrote", os.path.normpath(path), len(tensors), "tensors")
