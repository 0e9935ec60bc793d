"""Golden fixture for B6's GPT-3 alternation of dense and locally banded layers (run by hand, never in CI).

Reference: transformers' GPTNeoSelfAttention, the public GPT-3 replication, built once with
attention_type "global" (layer 0, dense) and once with "local" (layer 1, banded, window_size W: its
mask keeps key j for query i when i - W < j <= i). Its _attn is called on per-head q, k, v (B, H, T, D),
which is the part the Tessera kernel replaces; the projections are plain linears and not compared.
Two named departures, both outside the pattern:
  * GPT-Neo does not scale scores by 1/sqrt(D); Tessera (as GPT-3) does, so _attn is given q / sqrt(D);
  * GPT-Neo's _attn casts q and k to float32; the module's `torch` is shadowed by a proxy whose
    float32 is float64, so the whole fixture is float64 and the reference code is otherwise untouched.
Writes q, k, v, a fixed output gradient, and per layer the output, the gradients of q, k, v and the
allowed-key matrix, to nn/src/test/resources/golden/b6/alternating.safetensors.

    ~/venvs/peers/bin/python nn/tools/golden_b6_alternating.py
"""
import sys
import types
from pathlib import Path

sys.modules["torchvision"] = None  # the venv's torchvision is built for another torch; transformers does not need it here

import torch  # noqa: E402
from safetensors.torch import save_file  # noqa: E402
import transformers  # noqa: E402
from transformers.models.gpt_neo import modeling_gpt_neo  # noqa: E402
from transformers.models.gpt_neo.modeling_gpt_neo import GPTNeoConfig, GPTNeoSelfAttention  # noqa: E402

B, H, T, D, WINDOW = 2, 3, 11, 4, 3


class Float64Torch(types.ModuleType):
    """torch, except that float32 means float64 (GPT-Neo's _attn upcasts q and k to float32)."""

    def __getattr__(self, name):
        return torch.float64 if name == "float32" else getattr(torch, name)


modeling_gpt_neo.torch = Float64Torch("torch")

torch.manual_seed(0)
config = GPTNeoConfig(hidden_size=H * D, num_heads=H, num_layers=2, attention_types=[[["global", "local"], 1]],
                      window_size=WINDOW, max_position_embeddings=32, attention_dropout=0.0, resid_dropout=0.0, vocab_size=8)
assert config.attention_layers == ["global", "local"]
q = torch.randn(B, H, T, D, dtype=torch.float64, requires_grad=True)
k = torch.randn(B, H, T, D, dtype=torch.float64, requires_grad=True)
v = torch.randn(B, H, T, D, dtype=torch.float64, requires_grad=True)
grad_output = torch.randn(B, H, T, D, dtype=torch.float64)
tensors = {"q": q.detach(), "k": k.detach(), "v": v.detach(), "grad_output": grad_output}
for layer, kind in enumerate(config.attention_layers):
    attn = GPTNeoSelfAttention(config, kind, layer_id=layer).double().eval()
    for t in (q, k, v):
        t.grad = None
    out, weights = attn._attn(q / D ** 0.5, k, v)
    assert out.dtype == torch.float64 and weights.dtype == torch.float64
    out.backward(grad_output)
    allowed = attn.bias[0, 0, :T, :T].to(torch.int64)
    if kind == "local":
        assert int(allowed[-1].sum()) == WINDOW and int(allowed[-1, -1]) == 1, "the window counts the query itself"
    tensors.update({f"layer{layer}.out": out.detach(), f"layer{layer}.grad.q": q.grad.clone(), f"layer{layer}.grad.k": k.grad.clone(),
                    f"layer{layer}.grad.v": v.grad.clone(), f"layer{layer}.allowed": allowed})
meta = {"window": str(WINDOW), "attention_layers": ",".join(config.attention_layers), "torch": torch.__version__,
        "transformers": transformers.__version__,
        "reference": "transformers GPTNeoSelfAttention._attn (global, local) in float64 on q / sqrt(D)"}
target = Path(__file__).resolve().parents[1] / "src/test/resources/golden/b6"
target.mkdir(parents=True, exist_ok=True)
save_file({name: t.contiguous() for name, t in tensors.items()}, str(target / "alternating.safetensors"), metadata=meta)
print("wrote", target / "alternating.safetensors", sorted(tensors))
