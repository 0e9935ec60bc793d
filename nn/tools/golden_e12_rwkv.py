"""Golden fixture for E12 RWKV-4 time mix and channel mix from Hugging Face transformers.

Run by hand (never in CI), from the repository root:
    ~/venvs/peers/bin/python nn/tools/golden_e12_rwkv.py
writes nn/src/test/resources/golden/e12/rwkv.safetensors, read by
nn/src/test/java/dev/tessera/nn/mixer/RwkvGoldenTest.java.

Reference: transformers models.rwkv.modeling_rwkv:RwkvSelfAttention (time mix, whose WKV runs
rwkv_linear_attention_cpu on CPU: the loop with the running maximum) and RwkvFeedForward (channel
mix), in float64, hidden 8 = attention hidden 8, intermediate 12, B 2, T 7, no state (training form).
Parameters are drawn at random (not the reference's _init_weights) so every term is exercised.

Stored, by the reference's parameter names:
  time.<name>, channel.<name>         the parameters
  x                                   the input (B, T, C)
  time.grad_output, channel.grad_output  w, the loss is L = sum(out * w)
  time.out, channel.out               the outputs
  time.grad.<name>, time.grad.x, channel.grad.<name>, channel.grad.x   dL/d(...)
  time.decode.out                     the time mix run statefully (use_cache) over tokens 0-2, 3-4, 5-6 (chunks
                                      of two or more: for one token and B > 1 the reference's shift broadcasts
                                      its (B, C) state against (B, 1, C) into (B, B, C))
Named difference: rwkv_linear_attention_cpu casts the keys to float32 (key.float()), so the reference is
accurate to ~1e-7 relative, not to float64 rounding; the Java test allows 1e-6.
"""
import importlib.util
import sys

_find_spec = importlib.util.find_spec
importlib.util.find_spec = lambda name, *a, **k: None if name.split(".")[0] == "torchvision" else _find_spec(name, *a, **k)
sys.modules["torchvision"] = None

import torch  # noqa: E402
from safetensors.torch import save_file  # noqa: E402
from transformers import RwkvConfig  # noqa: E402
from transformers.models.rwkv.modeling_rwkv import RwkvFeedForward, RwkvSelfAttention  # noqa: E402

torch.manual_seed(12)
B, T, C, F = 2, 7, 8, 12
config = RwkvConfig(hidden_size=C, attention_hidden_size=C, intermediate_size=F, num_hidden_layers=1, context_length=16)
time_mix = RwkvSelfAttention(config, layer_id=0).double().eval()
channel_mix = RwkvFeedForward(config, layer_id=0).double().eval()
with torch.no_grad():
    time_mix.time_decay.uniform_(-2.0, 1.0)
    time_mix.time_first.uniform_(-1.0, 1.0)
    for m in (time_mix, channel_mix):
        for name, p in m.named_parameters():
            if name.startswith("time_mix"):
                p.uniform_(0.0, 1.0)
            elif name.endswith("weight"):
                p.normal_(0.0, 0.5)

x0 = torch.randn(B, T, C, dtype=torch.float64)
tensors = {"x": x0}
for prefix, module in (("time", time_mix), ("channel", channel_mix)):
    params = dict(module.named_parameters())
    tensors.update({prefix + "." + n: p.detach().clone() for n, p in params.items()})
    w = torch.randn(B, T, C, dtype=torch.float64)
    module.zero_grad()
    x = x0.clone().requires_grad_(True)
    out = module(x)[0]
    (out * w).sum().backward()
    tensors[prefix + ".grad_output"] = w
    tensors[prefix + ".out"] = out.detach().clone()
    tensors[prefix + ".grad.x"] = x.grad.detach().clone()
    for n, p in params.items():
        tensors[prefix + ".grad." + n] = p.grad.detach().clone()

# stateful decoding through the reference's own state layout: [shift_ffn, shift_att, num, den, max] (B, C, layers)
with torch.no_grad():
    state = [torch.zeros(B, C, 1, dtype=torch.float64) for _ in range(5)]
    state[4] -= 1e38
    parts = []
    for start, end in ((0, 3), (3, 5), (5, 7)):
        out, state = time_mix(x0[:, start:end], state=state, use_cache=True)
        parts.append(out)
    tensors["time.decode.out"] = torch.cat(parts, 1)
    assert torch.allclose(tensors["time.decode.out"], tensors["time.out"], atol=1e-6), "reference: stateful != full"

tensors = {k: v.contiguous() for k, v in tensors.items()}
save_file(tensors, "nn/src/test/resources/golden/e12/rwkv.safetensors", metadata={"hidden": str(F)})
print("wrote", len(tensors), "tensors")
