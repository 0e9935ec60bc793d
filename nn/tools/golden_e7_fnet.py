"""Golden fixture for E7 FNet Fourier mixing (run by hand, never in CI).

Reference: transformers' FNetBasicFourierTransform with use_tpu_fourier_optimizations=False, i.e.
torch.fft.fftn(x, dim=(1, 2)).real. Writes, in float64, the input x (B, T, C), a fixed output
gradient, the output, and the input's gradient to nn/src/test/resources/golden/e7/fnet.safetensors.

    ~/venvs/peers/bin/python nn/tools/golden_e7_fnet.py
"""
import sys
from pathlib import Path

sys.modules["torchvision"] = None  # the venv's torchvision is built for another torch; transformers does not need it here

import torch  # noqa: E402
from safetensors.torch import save_file  # noqa: E402
from transformers import FNetConfig  # noqa: E402
from transformers.models.fnet.modeling_fnet import FNetBasicFourierTransform  # noqa: E402

B, T, C = 2, 7, 6

torch.manual_seed(0)
config = FNetConfig(hidden_size=C, use_tpu_fourier_optimizations=False)
fourier = FNetBasicFourierTransform(config)
x = torch.randn(B, T, C, dtype=torch.float64, requires_grad=True)
grad_output = torch.randn(B, T, C, dtype=torch.float64)
(out,) = fourier(x)
out.backward(grad_output)
tensors = {"x": x.detach(), "grad_output": grad_output, "out": out.detach(), "grad.x": x.grad}
path = Path(__file__).resolve().parents[1] / "src/test/resources/golden/e7/fnet.safetensors"
save_file({k: v.contiguous() for k, v in tensors.items()}, str(path), metadata={"reference": "transformers FNetBasicFourierTransform"})
print("wrote", path)
