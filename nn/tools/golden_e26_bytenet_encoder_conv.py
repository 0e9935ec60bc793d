"""Golden fixture for E26 ByteNet's encoder convolution (non-masked, centred): torch.nn.Conv1d(H, H, k,
dilation=r, padding=(k - 1) / 2 * r), read by ByteNetTranslatorTest. ByteNet itself is paper only
(Kalchbrenner et al. 2016, REFERENCES.md); this checks the convolution its source network is built on.

Run by hand (not in CI), from the repository root:
    ~/venvs/peers/bin/python nn/tools/golden_e26_bytenet_encoder_conv.py
Writes nn/src/test/resources/golden/e26/encoder_conv.safetensors (F64, layout (B, S, H)), for each
dilation r in 1, 2, 4 (prefix "r<r>."):
  weight (H, H, k), bias (H)   the Conv1d's parameters, k = 3
  x            the input (B, S, H)
  out_weight   w, the loss is L = sum(out * w)
  out          Conv1d(x^T)^T with zero padding (k - 1) / 2 * r on both sides      (B, S, H)
  grad.x, grad.weight, grad.bias   dL/d(...)
"""
import os
import torch
from safetensors.torch import save_file

GOLDEN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "test", "resources", "golden")


def main():
    torch.manual_seed(2626)
    B, S, H, K = 2, 9, 3, 3
    tensors = {}
    for r in (1, 2, 4):
        conv = torch.nn.Conv1d(H, H, K, dilation=r, padding=(K - 1) // 2 * r).double()
        x = torch.randn(B, S, H, dtype=torch.float64, requires_grad=True)
        w = torch.randn(B, S, H, dtype=torch.float64)
        out = conv(x.transpose(1, 2)).transpose(1, 2)
        (out * w).sum().backward()
        for name, t in {"weight": conv.weight, "bias": conv.bias, "x": x, "out_weight": w, "out": out, "grad.x": x.grad,
                        "grad.weight": conv.weight.grad, "grad.bias": conv.bias.grad}.items():
            tensors["r%d.%s" % (r, name)] = t.detach().contiguous()
    target = os.path.join(GOLDEN, "e26")
    os.makedirs(target, exist_ok=True)
    save_file(tensors, os.path.join(target, "encoder_conv.safetensors"),
              metadata={"source": "torch.nn.Conv1d(dilation=r, padding=(k-1)/2*r)"})


if __name__ == "__main__":
    main()
