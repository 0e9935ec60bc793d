"""Golden fixture for B23 Perceiver cross-attention (PerceiverAttention.cross) from Hugging Face's Perceiver.

Run by hand (never in CI), from the repository root:
    ~/venvs/peers/bin/python nn/tools/golden_b23_perceiver.py
writes nn/src/test/resources/golden/b23/perceiver.safetensors, read by
nn/src/test/java/dev/tessera/nn/attention/PerceiverGoldenTest.java.

Reference: transformers models.perceiver.modeling_perceiver:PerceiverSelfAttention with
is_cross_attention=True in float64: latents (B=2, N=3, q_dim=6) as hidden_states attend to inputs
(B=2, T=7, kv_dim=10), 2 heads, qk_channels 8, v_channels 12 (head sizes 4 and 6), no dropout, no
mask. LayerNorm weights and biases are randomised so they count.

Stored: every parameter by Hugging Face name (layernorm1/2, query, key, value), hidden_states,
inputs, grad_output, the output context layer (B, N, v_channels), and the gradients of
sum(out * grad_output) with respect to hidden_states, inputs and every weight ("grad.<name>").
"""

import importlib.util
import os
import sys

_find_spec = importlib.util.find_spec
importlib.util.find_spec = lambda name, *a, **k: None if name.split(".")[0] == "torchvision" else _find_spec(name, *a, **k)
sys.modules["torchvision"] = None

import torch  # noqa: E402
import transformers  # noqa: E402
from safetensors.torch import save_file  # noqa: E402
from transformers import PerceiverConfig  # noqa: E402
from transformers.models.perceiver.modeling_perceiver import PerceiverSelfAttention  # noqa: E402

torch.manual_seed(23)
torch.set_default_dtype(torch.float64)
B, N, T, QD, KVD, H, QK, V = 2, 3, 7, 6, 10, 2, 8, 12
config = PerceiverConfig(attention_probs_dropout_prob=0.0)
attn = PerceiverSelfAttention(config, is_cross_attention=True, qk_channels=QK, v_channels=V, num_heads=H, q_dim=QD,
                              kv_dim=KVD).double().eval()
with torch.no_grad():
    for name, p in attn.named_parameters():
        if name.startswith("layernorm"):
            p.copy_((1.0 if name.endswith("weight") else 0.0) + 0.3 * torch.randn_like(p))
        else:
            p.normal_(0, 0.5)
params = dict(attn.named_parameters())
latents = torch.randn(B, N, QD).requires_grad_(True)
inputs = torch.randn(B, T, KVD).requires_grad_(True)
grad_output = torch.randn(B, N, V)
out = attn(latents, inputs=inputs)[0]
(out * grad_output).sum().backward()
tensors = {
    "hidden_states": latents.detach().clone(), "inputs": inputs.detach().clone(), "grad_output": grad_output,
    "output": out.detach().clone(), "grad.hidden_states": latents.grad.detach().clone(), "grad.inputs": inputs.grad.detach().clone(),
}
for name, p in params.items():
    tensors[name] = p.detach().clone()
    tensors["grad." + name] = p.grad.detach().clone()

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "test", "resources", "golden", "b23")
os.makedirs(root, exist_ok=True)
path = os.path.join(root, "perceiver.safetensors")
save_file({k: v.contiguous() for k, v in tensors.items()}, path, metadata={
    "reference": "transformers.models.perceiver.modeling_perceiver.PerceiverSelfAttention(is_cross_attention=True)",
    "script": "nn/tools/golden_b23_perceiver.py",
    "torch": torch.__version__,
    "transformers": transformers.__version__,
    "heads": str(H), "qk_channels": str(QK), "v_channels": str(V),
})
print("wrote", os.path.normpath(path), len(tensors), "tensors")
