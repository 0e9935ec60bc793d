"""Golden fixture for E18 PoolFormer pooling (run by hand, never in CI).

Reference: timm.models.metaformer.Pooling(pool_size=5): AvgPool2d(5, stride 1, padding 2,
count_include_pad=False)(x) - x. A sequence x (B, T, C) enters as an image (B, C, 1, T): with one
row, count_include_pad=False makes the vertical padding count for nothing, so the pool is the 1-D
average over the 5-position window around t, cut at the ends. Writes, in float64, x (B, T, C), a
fixed output gradient, the output and x's gradient to
nn/src/test/resources/golden/e18/pooling.safetensors.

    ~/venvs/peers/bin/python nn/tools/golden_e18_pooling.py
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import torchvision_stub  # noqa: F401,E402  (timm loads without torchvision: see that module)

import torch  # noqa: E402
from safetensors.torch import save_file  # noqa: E402
from timm.models.metaformer import Pooling  # noqa: E402

B, T, C, POOL = 2, 9, 3, 5

torch.manual_seed(0)
pool = Pooling(pool_size=POOL)
x = torch.randn(B, T, C, dtype=torch.float64, requires_grad=True)
grad_output = torch.randn(B, T, C, dtype=torch.float64)
out = pool(x.permute(0, 2, 1).unsqueeze(2)).squeeze(2).permute(0, 2, 1)  # (B, T, C)
out.backward(grad_output)
tensors = {"x": x.detach(), "grad_output": grad_output, "out": out.detach(), "grad.x": x.grad}
path = Path(__file__).resolve().parents[1] / "src/test/resources/golden/e18/pooling.safetensors"
save_file({k: v.contiguous() for k, v in tensors.items()}, str(path), metadata={"reference": "timm metaformer.Pooling", "pool_size": str(POOL)})
print("wrote", path)
