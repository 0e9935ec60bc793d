"""Golden fixture for E26 ByteNet's masked dilated convolution: torch.nn.Conv1d(H, H, k, dilation=r)
on the input left-padded by (k - 1) * r (causal), read by ByteNetGoldenTest. ByteNet itself is paper
only (Kalchbrenner et al. 2016, REFERENCES.md); this checks the convolution it is built on.

Run by hand (not in CI), from the repository root:
    ~/venvs/peers/bin/python nn/tools/golden_e26_bytenet_conv.py
Writes nn/src/test/resources/golden/e26/dilated_conv.safetensors (F64, layout (B, T, H)), for each
dilation r in 1, 2, 4 (prefix "r<r>."):
  weight (H, H, k), bias (H)   the Conv1d's parameters
  x            the input (B, T, H)
  out_weight   w, the loss is L = sum(out * w)
  out          Conv1d(F.pad(x^T, ((k-1) r, 0)))^T          (B, T, H)
  grad.x, grad.weight, grad.bias   dL/d(...)
"""
import os
import torch
import torch.nn.functional as F
from safetensors.torch import save_file

GOLDEN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "test", "resources", "golden")


def write(file, seed, T, centred, source):
    """r = 1, 2, 4 convolutions of a seeded (B, T, H) input, causal (left padding) or centred, with the
    gradients of sum(out * out_weight); shared with golden_e26_bytenet_encoder_conv.py."""
    torch.manual_seed(seed)
    B, H, K = 2, 3, 3
    tensors = {}
    for r in (1, 2, 4):
        conv = torch.nn.Conv1d(H, H, K, dilation=r, padding=(K - 1) // 2 * r if centred else 0).double()
        x = torch.randn(B, T, H, dtype=torch.float64, requires_grad=True)
        w = torch.randn(B, T, H, dtype=torch.float64)
        xt = x.transpose(1, 2)
        out = conv(xt if centred else F.pad(xt, ((K - 1) * r, 0))).transpose(1, 2)
        (out * w).sum().backward()
        for name, t in {"weight": conv.weight, "bias": conv.bias, "x": x, "out_weight": w, "out": out, "grad.x": x.grad,
                        "grad.weight": conv.weight.grad, "grad.bias": conv.bias.grad}.items():
            tensors["r%d.%s" % (r, name)] = t.detach().contiguous()
    target = os.path.join(GOLDEN, "e26")
    os.makedirs(target, exist_ok=True)
    save_file(tensors, os.path.join(target, file), metadata={"source": source})


def main():
    write("dilated_conv.safetensors", 26, 11, False, "torch.nn.Conv1d(dilation=r), left padding")


if __name__ == "__main__":
    main()
