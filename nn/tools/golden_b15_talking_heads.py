"""Golden fixture for B15 talking-heads attention (TalkingHeadsAttention) from timm's CaiT.

Run by hand (never in CI), from the repository root:
    ~/venvs/peers/bin/python nn/tools/golden_b15_talking_heads.py
writes nn/src/test/resources/golden/B15/talking_heads.safetensors, read by
nn/src/test/java/dev/tessera/nn/attention/TalkingHeadsAttentionTest.java (matchesTimmGolden).

Reference: timm models.cait:TalkingHeadAttn, in float64, B=2 sequences of N=5 tokens, dim 12,
3 heads (head size 4), qkv_bias=True, no dropout. It has no attention mask, so only the unmasked
case is compared here; masks are checked against the Java double-precision reference.

What is compared: the whole module,
    q, k, v = split(qkv(x));  J = q/sqrt(D) @ k^T                       (B, H, N, N)
    L = proj_l(J over heads);  W = softmax(L);  U = proj_w(W over heads)
    out = proj((U @ v) heads merged)                                      -> "output" (B, N, C)
and the gradients of sum(out * grad_output) for x, qkv.weight, qkv.bias, proj.weight, proj.bias,
proj_l.weight and proj_w.weight.

Paper vs timm: the paper's P_l and P_w have no bias; timm's proj_l/proj_w are nn.Linear with one.
The script zeroes both biases (and does not store them), so the reference computes the paper's
equation. proj_l/proj_w weights are set to identity + N(0, 0.4^2) so that the heads really mix.
"""

import importlib.abc
import importlib.machinery
import os
import sys
import types

# timm imports torchvision, and the venv's torchvision build does not load beside the CPU torch
# (REFERENCES.md, "Pitfalls"). CaiT's attention needs none of it: every torchvision module is a stub
# package whose every name is a placeholder class (imported by timm's data and layer code, never called).
class _Placeholder(type):
    """A class whose every attribute is another placeholder class (InterpolationMode.NEAREST, ...)."""

    def __getattr__(cls, attr):
        return _placeholder(attr)


def _placeholder(attr):
    if attr.startswith("__"):
        raise AttributeError(attr)
    return _Placeholder(attr, (), {})


class _TorchvisionStubs(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] != "torchvision":
            return None
        return importlib.machinery.ModuleSpec(name, self, is_package=True)

    def create_module(self, spec):
        module = types.ModuleType(spec.name)
        module.__path__ = []
        module.__getattr__ = _placeholder
        return module

    def exec_module(self, module):
        pass


sys.meta_path.insert(0, _TorchvisionStubs())

import torch  # noqa: E402
from safetensors.torch import save_file  # noqa: E402

import timm  # noqa: E402
from timm.models.cait import TalkingHeadAttn  # noqa: E402

torch.manual_seed(15)
B, N, DIM, HEADS = 2, 5, 12, 3

attn = TalkingHeadAttn(DIM, num_heads=HEADS, qkv_bias=True).double().eval()
with torch.no_grad():
    for lin in (attn.qkv, attn.proj):
        lin.weight.normal_(0, 0.5)
        lin.bias.normal_(0, 0.2)
    for lin in (attn.proj_l, attn.proj_w):
        lin.weight.copy_(torch.eye(HEADS, dtype=torch.float64) + 0.4 * torch.randn(HEADS, HEADS, dtype=torch.float64))
        lin.bias.zero_()  # the paper's maps have no bias

compared = {
    "qkv.weight": attn.qkv.weight,
    "qkv.bias": attn.qkv.bias,
    "proj.weight": attn.proj.weight,
    "proj.bias": attn.proj.bias,
    "proj_l.weight": attn.proj_l.weight,
    "proj_w.weight": attn.proj_w.weight,
}
x = torch.randn(B, N, DIM, dtype=torch.float64, requires_grad=True)
grad_output = torch.randn(B, N, DIM, dtype=torch.float64)
out = attn(x)  # (B, N, C)
(out * grad_output).sum().backward()

tensors = {"hidden_states": x.detach().clone(), "grad_output": grad_output, "output": out.detach().clone(),
           "grad.hidden_states": x.grad.detach().clone()}
for name, p in compared.items():
    tensors[name] = p.detach().clone()
    tensors["grad." + name] = p.grad.detach().clone()

# sanity: the paper's equation written out gives the same output
with torch.no_grad():
    q, k, v = attn.qkv(x).reshape(B, N, 3, HEADS, DIM // HEADS).permute(2, 0, 3, 1, 4)
    logits = q @ k.transpose(-2, -1) / (DIM // HEADS) ** 0.5
    w = torch.einsum("gh,bhts->bgts", attn.proj_l.weight, logits).softmax(-1)
    u = torch.einsum("gh,bhts->bgts", attn.proj_w.weight, w)
    ref = attn.proj((u @ v).transpose(1, 2).reshape(B, N, DIM))
    assert torch.allclose(ref, out, rtol=0, atol=1e-13)

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "test", "resources", "golden", "B15")
os.makedirs(root, exist_ok=True)
path = os.path.join(root, "talking_heads.safetensors")
save_file({k: t.contiguous() for k, t in tensors.items()}, path, metadata={
    "reference": "timm.models.cait.TalkingHeadAttn",
    "script": "nn/tools/golden_b15_talking_heads.py",
    "torch": torch.__version__,
    "timm": timm.__version__,
})
print("wrote", os.path.normpath(path), len(tensors), "tensors")
