"""Golden fixture for E9 Hyena's implicit filter and FFT convolution from flash-linear-attention's
fla.modules.conv.long_conv:ImplicitLongConvolution (PositionalEmbedding, an MLP, fft_conv), read by
HyenaGoldenTest.

Run by hand (not in CI), from the repository root:
    ~/venvs/peers/bin/python nn/tools/golden_e9_hyena_filter.py
Writes nn/src/test/resources/golden/e9/implicit_filter.safetensors (F64, layout (B, T, C)):
  mlp.0.weight, mlp.0.bias, mlp.2.weight, mlp.2.bias   fla's filter MLP: Linear(d_emb, d_hidden), ReLU, Linear(d_hidden, C)
  x            the input (B, T, C)
  out_weight   w, the loss is L = sum(out * w)
  filter       the implicit filter (C, T): mlp(PositionalEmbedding(max_len = T)[:T]) transposed
  out          fla's output: fft_conv(x, filter) + x
  grad.x, grad.mlp.0.weight, grad.mlp.0.bias, grad.mlp.2.weight, grad.mlp.2.bias   dL/d(...)
Named differences from the paper (Poli et al. 2023), which Tessera follows by default: fla's MLP
uses ReLU where the paper uses Sin with learned frequencies, has no exponential decay window, and
fft_conv adds a fixed skip +x (Tessera's D); the Java test builds Hyena with activation=relu,
depth=0, decay=false, order 1 and compares the filter and the filter-convolution step only (the
gating recursion and projections are paper only). The script sets torch's default dtype to float64
so fla's positional features are computed in double (in float32 they differ by ~1e-7). As for E22, max_len = T (fla pads the FFT to 2T).

fla's package __init__ imports its triton kernels (absent on CPU machines), so long_conv.py is loaded
from its file alone; it needs only torch and einops.
"""
import importlib.util, os
import torch
from safetensors.torch import save_file

FLA = importlib.util.find_spec("fla").submodule_search_locations[0]  # finds the package without running its __init__
GOLDEN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "test", "resources", "golden")


def main():
    spec = importlib.util.spec_from_file_location("fla_long_conv", os.path.join(FLA, "modules", "conv", "long_conv.py"))
    lc = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(lc)
    torch.manual_seed(9)
    torch.set_default_dtype(torch.float64)  # PositionalEmbedding builds its features with the default dtype: exact in F64
    B, T, C, EMB, HID = 2, 9, 4, 5, 6
    layer = lc.ImplicitLongConvolution(C, T, d_emb=EMB, d_hidden=HID).double()
    with torch.no_grad():
        for p in layer.mlp.parameters():
            p.add_(0.1 * torch.randn_like(p))  # nonzero everywhere, biases included
    x = torch.randn(B, T, C, dtype=torch.float64, requires_grad=True)
    w = torch.randn(B, T, C, dtype=torch.float64)
    filt = layer.filter(T)[0]  # (C, T)
    out = layer(x)
    (out * w).sum().backward()
    tensors = {"x": x, "out_weight": w, "filter": filt, "out": out, "grad.x": x.grad}
    for name, p in layer.mlp.named_parameters():
        tensors["mlp." + name] = p
        tensors["grad.mlp." + name] = p.grad
    target = os.path.join(GOLDEN, "e9")
    os.makedirs(target, exist_ok=True)
    save_file({n: t.detach().contiguous() for n, t in tensors.items()}, os.path.join(target, "implicit_filter.safetensors"),
              metadata={"source": "fla.modules.conv.long_conv.ImplicitLongConvolution", "max_len": str(T), "d_emb": str(EMB),
                        "d_hidden": str(HID)})


if __name__ == "__main__":
    main()
