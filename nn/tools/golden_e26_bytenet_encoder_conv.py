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
from golden_e26_bytenet_conv import write


def main():
    write("encoder_conv.safetensors", 2626, 9, True, "torch.nn.Conv1d(dilation=r, padding=(k-1)/2*r)")


if __name__ == "__main__":
    main()
