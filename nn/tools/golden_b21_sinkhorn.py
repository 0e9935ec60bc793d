"""Golden fixture for B21 Sinkformer (SinkformerAttention): the Sinkhorn step against transformers'
SuperGlue log_sinkhorn_iterations, the only CPU reference REFERENCES.md names for B21.

Run by hand (never in CI), from the repository root:
    ~/venvs/peers/bin/python nn/tools/golden_b21_sinkhorn.py
writes nn/src/test/resources/golden/b21/sinkhorn.safetensors, read by
nn/src/test/java/dev/tessera/nn/attention/SinkformerGoldenTest.java.

Reference: transformers models.superglue.modeling_superglue:log_sinkhorn_iterations(scores, log_mu,
log_nu, n) with uniform marginals log_mu = log_nu = 0 (each row and column sums to 1): one of its
iterations is a row then a column normalisation, so n = 3 there is 6 normalisations in the Java
kernel. In float64, q, k (B 2, H 2, T 5, D 4), v (Dv 3):
    scores = q k^T / sqrt(D);  P = exp(log_sinkhorn_iterations(scores, 0, 0, 3));  out = P v
stored: q, k, v, grad_output, "log_p" (B, H, T, T), "out", and the gradients of sum(out * grad_output)
with respect to q, k and v.
"""

import importlib.util
import math
import os
import sys

_find_spec = importlib.util.find_spec
importlib.util.find_spec = lambda name, *a, **k: None if name.split(".")[0] == "torchvision" else _find_spec(name, *a, **k)
sys.modules["torchvision"] = None

import torch  # noqa: E402
import transformers  # noqa: E402
from safetensors.torch import save_file  # noqa: E402
from transformers.models.superglue.modeling_superglue import log_sinkhorn_iterations  # noqa: E402

torch.manual_seed(21)
B, H, T, D, DV, ITERS = 2, 2, 5, 4, 3, 3
q = torch.randn(B, H, T, D, dtype=torch.float64, requires_grad=True)
k = torch.randn(B, H, T, D, dtype=torch.float64, requires_grad=True)
v = torch.randn(B, H, T, DV, dtype=torch.float64, requires_grad=True)
grad_output = torch.randn(B, H, T, DV, dtype=torch.float64)

scores = (q @ k.transpose(-1, -2) / math.sqrt(D)).reshape(B * H, T, T)
zeros = torch.zeros(B * H, T, dtype=torch.float64)
log_p = log_sinkhorn_iterations(scores, zeros, zeros, ITERS).reshape(B, H, T, T)
out = log_p.exp() @ v
(out * grad_output).sum().backward()
p = log_p.exp()
assert torch.allclose(p.sum(-2), torch.ones(B, H, T, dtype=torch.float64), atol=1e-12), "columns sum to 1"

tensors = {"q": q.detach(), "k": k.detach(), "v": v.detach(), "grad_output": grad_output, "log_p": log_p.detach(),
           "out": out.detach(), "grad.q": q.grad, "grad.k": k.grad, "grad.v": v.grad}
root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "test", "resources", "golden", "b21")
os.makedirs(root, exist_ok=True)
path = os.path.join(root, "sinkhorn.safetensors")
save_file({k: v.contiguous() for k, v in tensors.items()}, path, metadata={
    "reference": "transformers.models.superglue.modeling_superglue.log_sinkhorn_iterations",
    "script": "nn/tools/golden_b21_sinkhorn.py",
    "torch": torch.__version__,
    "transformers": transformers.__version__,
    "superglue_iterations": str(ITERS),
})
print("wrote", os.path.normpath(path), len(tensors), "tensors")
