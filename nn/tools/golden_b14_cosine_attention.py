"""Golden fixture for B14 scaled cosine attention (CosineAttention) from Hugging Face's Swin V2.

Run by hand (never in CI), from the repository root:
    ~/venvs/peers/bin/python nn/tools/golden_b14_cosine_attention.py
writes nn/src/test/resources/golden/B14/cosine_attention.safetensors, read by
nn/src/test/java/dev/tessera/nn/attention/CosineAttentionTest.java (matchesSwinV2Golden).

Reference: transformers models.swinv2.modeling_swinv2:Swinv2SelfAttention, in float64, one window
of 3x3 = 9 tokens, dim 12, 3 heads (head size 4), qkv_bias=True, no dropout.

What is compared: the cosine-attention core of Swinv2SelfAttention.forward, i.e.
    q, k, v = query(x), key(x), value(x)                         (key has no bias in Swin V2)
    scores  = normalize(q) @ normalize(k)^T * exp(clamp(logit_scale, max=ln 100))
    out     = softmax(scores + mask) @ v, heads merged            -> "<case>.output" (B, N, C)
and the gradients of sum(out * grad_output) with respect to x, query.weight, query.bias,
key.weight, value.weight, value.bias and logit_scale.

Not compared: Swin V2's continuous relative-position bias (the CPB MLP), which is not part of B14's
attention equation. It is neutralised, not removed: the MLP's last Linear (no bias) is zeroed, so its
table is 0 and the bias is 16*sigmoid(0) = 8 for every head and pair; a constant added to every
logit of a row leaves the softmax unchanged (exactly in real arithmetic, to ~1e-15 in float64). The
CPB MLP's own gradients are not stored.

logit_scale is set per head to [ln 10 (the init), ln 3, 5.0]: the third head sits above the clamp
ln 100 = 4.605, so its scale is 100 and its gradient is zero (torch.clamp passes none above max).

Cases: "none" (attention_mask=None) and "causal": an additive (1, N, N) mask of 0 on and below the
diagonal and -inf above it, which is how Swinv2SelfAttention takes masks (it adds attention_mask
twice, a quirk of the reference that is harmless for a 0/-inf mask). The Java side passes
AttentionMask.causalOnly() for it.
"""

import importlib.util
import math
import os
import sys

# The venv's torchvision is a CUDA build that fails to import beside the CPU torch (REFERENCES.md,
# "Pitfalls"), and transformers' image utilities import it when find_spec sees it. Swin V2's
# attention needs no vision code, so hide torchvision from this process before transformers loads.
_find_spec = importlib.util.find_spec
importlib.util.find_spec = lambda name, *a, **k: None if name.split(".")[0] == "torchvision" else _find_spec(name, *a, **k)
sys.modules["torchvision"] = None

import torch  # noqa: E402
import transformers  # noqa: E402
from safetensors.torch import save_file  # noqa: E402
from transformers import Swinv2Config  # noqa: E402
from transformers.models.swinv2.modeling_swinv2 import Swinv2SelfAttention  # noqa: E402

torch.manual_seed(14)
B, WINDOW, DIM, HEADS = 2, 3, 12, 3
N = WINDOW * WINDOW

config = Swinv2Config(qkv_bias=True, attention_probs_dropout_prob=0.0)
attn = Swinv2SelfAttention(config, dim=DIM, num_heads=HEADS, window_size=WINDOW).double().eval()
with torch.no_grad():
    for lin in (attn.query, attn.key, attn.value):
        lin.weight.normal_(0, 0.5)
        if lin.bias is not None:
            lin.bias.normal_(0, 0.2)
    attn.continuous_position_bias_mlp[2].weight.zero_()  # CPB bias becomes the constant 8: softmax-invariant
    attn.logit_scale.copy_(torch.tensor([math.log(10), math.log(3), 5.0], dtype=torch.float64).view(HEADS, 1, 1))

x0 = torch.randn(B, N, DIM, dtype=torch.float64)
grad_output = torch.randn(B, N, DIM, dtype=torch.float64)
causal = torch.full((N, N), float("-inf"), dtype=torch.float64).triu(1).unsqueeze(0)  # (1, N, N)

compared = {
    "query.weight": attn.query.weight,
    "query.bias": attn.query.bias,
    "key.weight": attn.key.weight,
    "value.weight": attn.value.weight,
    "value.bias": attn.value.bias,
    "logit_scale": attn.logit_scale,
}
tensors = {"hidden_states": x0, "grad_output": grad_output}
tensors.update({name: p.detach().clone() for name, p in compared.items()})

for case, mask in (("none", None), ("causal", causal)):
    attn.zero_grad()
    x = x0.clone().requires_grad_(True)
    out = attn(x, mask)[0]  # (B, N, C)
    (out * grad_output).sum().backward()
    tensors[case + ".output"] = out.detach().clone()
    tensors[case + ".grad.hidden_states"] = x.grad.detach().clone()
    for name, p in compared.items():
        tensors[case + ".grad." + name] = p.grad.detach().clone()

# sanity: with the CPB neutralised, the reference equals the bare cosine-attention core
with torch.no_grad():
    def split(t):
        return t.view(B, N, HEADS, DIM // HEADS).transpose(1, 2)
    q, k, v = split(attn.query(x0)), split(attn.key(x0)), split(attn.value(x0))
    scale = torch.clamp(attn.logit_scale, max=math.log(100)).exp()
    for case, mask in (("none", 0), ("causal", causal)):
        s = torch.nn.functional.normalize(q, dim=-1) @ torch.nn.functional.normalize(k, dim=-1).transpose(-2, -1) * scale
        core = (torch.softmax(s + mask, -1) @ v).transpose(1, 2).reshape(B, N, DIM)
        assert torch.allclose(core, tensors[case + ".output"], rtol=0, atol=1e-13), case
assert tensors["none.grad.logit_scale"][2].abs().max() == 0, "head 2 is above the clamp"

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "test", "resources", "golden", "B14")
os.makedirs(root, exist_ok=True)
path = os.path.join(root, "cosine_attention.safetensors")
save_file({k: v.contiguous() for k, v in tensors.items()}, path, metadata={
    "reference": "transformers.models.swinv2.modeling_swinv2.Swinv2SelfAttention",
    "script": "nn/tools/golden_b14_cosine_attention.py",
    "torch": torch.__version__,
    "transformers": transformers.__version__,
})
print("wrote", os.path.normpath(path), len(tensors), "tensors")
