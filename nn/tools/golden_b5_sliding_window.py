"""Golden fixture for B5 sliding-window attention (run by hand, never in CI).

Reference: transformers' MistralAttention (sdpa) with the mask of
masking_utils.create_sliding_window_causal_mask, i.e. sliding_window_causal_mask_function:
kv_idx > q_idx - sliding_window and kv_idx <= q_idx, so a query sees W keys, itself and the
W - 1 before it (the convention Tessera follows). Writes, in float64, the module's weights, the
input, a fixed output gradient, the output, and the gradients of the input and every weight to
nn/src/test/resources/golden/b5/sliding_window.safetensors; the allowed-key matrix is saved too.
The one departure: the RoPE cos/sin table is recomputed in float64 (HF builds it in float32).

    ~/venvs/peers/bin/python nn/tools/golden_b5_sliding_window.py
"""
import sys
from pathlib import Path

sys.modules["torchvision"] = None  # the venv's torchvision is built for another torch; transformers does not need it here

import torch  # noqa: E402
from safetensors.torch import save_file  # noqa: E402
from transformers import masking_utils  # noqa: E402
from transformers.models.mistral.modeling_mistral import MistralAttention, MistralConfig, MistralRotaryEmbedding  # noqa: E402

B, T, DIM, HEADS, KV_HEADS, HEAD_DIM, WINDOW = 2, 9, 16, 4, 2, 4, 3

torch.manual_seed(0)
config = MistralConfig(hidden_size=DIM, num_attention_heads=HEADS, num_key_value_heads=KV_HEADS, head_dim=HEAD_DIM,
                       sliding_window=WINDOW, max_position_embeddings=32, rope_theta=10000.0, attention_dropout=0.0,
                       vocab_size=8, intermediate_size=8, num_hidden_layers=1)
config._attn_implementation = "sdpa"  # eager runs its softmax in float32 even for float64 inputs
attn = MistralAttention(config, layer_idx=0).double()
with torch.no_grad():
    for p in attn.parameters():
        p.normal_(0, 0.3)
x = torch.randn(B, T, DIM, dtype=torch.float64, requires_grad=True)
grad_output = torch.randn(B, T, DIM, dtype=torch.float64)
position_ids = torch.arange(T).unsqueeze(0).expand(B, T)
# HF computes the RoPE table in float32 (inv_freq is float32); the same default RoPE in float64, checked against it,
# so the fixture's float64 precision is not limited by the table
hf_cos, hf_sin = MistralRotaryEmbedding(config)(x, position_ids)
inv_freq = 1.0 / (10000.0 ** (torch.arange(0, HEAD_DIM, 2, dtype=torch.float64) / HEAD_DIM))
freqs = position_ids.to(torch.float64)[..., None] * inv_freq
emb = torch.cat((freqs, freqs), dim=-1)
cos, sin = emb.cos(), emb.sin()
assert torch.allclose(cos, hf_cos, atol=1e-6) and torch.allclose(sin, hf_sin, atol=1e-6)
mask = masking_utils.create_sliding_window_causal_mask(config=config, inputs_embeds=x, attention_mask=None, past_key_values=None,
                                                       position_ids=position_ids, allow_is_causal_skip=False)
allowed = mask if mask.dtype == torch.bool else (mask == 0)  # sdpa: boolean; eager: additive, 0 where allowed
allowed = allowed[0, 0].to(torch.int64)  # (T, T)
assert int(allowed[-1].sum()) == WINDOW and int(allowed[-1, -1]) == 1, "the window counts the query itself"
out, _ = attn(x, (cos, sin), mask)
out.backward(grad_output)

tensors = {"x": x.detach(), "grad_output": grad_output, "out": out.detach(), "grad.x": x.grad, "allowed": allowed}
for name, p in attn.named_parameters():
    tensors[name] = p.detach()
    tensors["grad." + name] = p.grad
meta = {"window": str(WINDOW), "heads": str(HEADS), "kv_heads": str(KV_HEADS), "head_dim": str(HEAD_DIM), "rope_theta": "10000",
        "reference": "transformers MistralAttention sdpa + create_sliding_window_causal_mask", "torch": torch.__version__}
import transformers  # noqa: E402
meta["transformers"] = transformers.__version__
target = Path(__file__).resolve().parents[1] / "src/test/resources/golden/b5"
target.mkdir(parents=True, exist_ok=True)
save_file({k: v.contiguous() for k, v in tensors.items()}, str(target / "sliding_window.safetensors"), metadata=meta)
print("wrote", target / "sliding_window.safetensors", sorted(tensors))
