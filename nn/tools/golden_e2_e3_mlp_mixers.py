"""Golden fixtures for E2 gMLP's spatial gating unit and E3 MLP-Mixer's token mixing (run by hand, never in CI).

References (timm):
- E2: timm.layers.GatedMlp(C, 2F, gate_layer=SpatialGatingUnit(seq_len=n)), the gMLP block without its
  norm and residual: fc1 -> GELU -> gate (split, LayerNorm, Linear over time, multiply) -> fc2.
- E3: timm.models.mlp_mixer.MixerBlock(C, n).mlp_tokens, the token-mixing MLP over time, applied as
  MixerBlock does: mlp_tokens(x.transpose(1, 2)).transpose(1, 2).
Every weight is drawn N(0, 0.3) (LayerNorm weights around 1) so the comparison sees each of them.
Writes, in float64, the weights by timm name, x (B, n, C), a fixed output gradient, the output,
and the gradients of x and of every weight to nn/src/test/resources/golden/e2/gmlp.safetensors and
nn/src/test/resources/golden/e3/mixer.safetensors.

    ~/venvs/peers/bin/python nn/tools/golden_e2_e3_mlp_mixers.py
"""
import sys
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import torchvision_stub  # noqa: F401,E402  (timm loads without torchvision: see that module)

import torch  # noqa: E402
from safetensors.torch import save_file  # noqa: E402
from timm.layers import GatedMlp  # noqa: E402
from timm.models.mlp_mixer import MixerBlock, SpatialGatingUnit  # noqa: E402

B, N, C, F = 2, 6, 4, 3
OUT = Path(__file__).resolve().parents[1] / "src/test/resources/golden"


def randomise(module):
    with torch.no_grad():
        for name, p in module.named_parameters():
            p.normal_(0, 0.3)
            if name.endswith("norm.weight"):
                p.add_(1)


def write(module, apply, path, meta):
    module = module.double()
    randomise(module)
    x = torch.randn(B, N, C, dtype=torch.float64, requires_grad=True)
    grad_output = torch.randn(B, N, C, dtype=torch.float64)
    out = apply(module, x)
    out.backward(grad_output)
    tensors = {name: p.detach() for name, p in module.named_parameters()}
    tensors.update({"grad." + name: p.grad for name, p in module.named_parameters()})
    tensors.update({"x": x.detach(), "grad_output": grad_output, "out": out.detach(), "grad.x": x.grad})
    save_file({k: v.contiguous() for k, v in tensors.items()}, str(path), metadata=meta)
    print("wrote", path)


torch.manual_seed(0)
write(GatedMlp(C, 2 * F, gate_layer=partial(SpatialGatingUnit, seq_len=N)), lambda m, x: m(x), OUT / "e2/gmlp.safetensors",
      {"reference": "timm GatedMlp + SpatialGatingUnit", "length": str(N), "hidden": str(F)})
block = MixerBlock(C, N, mlp_ratio=(1.25, 4.0))  # tokens_dim = int(1.25 * C) = 5
write(block.mlp_tokens, lambda m, x: m(x.transpose(1, 2)).transpose(1, 2), OUT / "e3/mixer.safetensors",
      {"reference": "timm MixerBlock.mlp_tokens", "length": str(N), "hidden": str(block.mlp_tokens.fc1.out_features)})
