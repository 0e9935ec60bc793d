"""Golden fixture for E22 simple long convolutions from flash-linear-attention's
fla.modules.conv.long_conv:LongConvolution (fft_conv), read by LongConvGoldenTest.

Run by hand (not in CI), from the repository root:
    ~/venvs/peers/bin/python nn/tools/golden_e22_long_conv.py
Writes nn/src/test/resources/golden/e22/long_conv.safetensors (F64, layout (B, T, C)):
  filter       fla's LongConvolution.filter (C, max_len), max_len = T
  x            the input (B, T, C)
  out_weight   w, the loss is L = sum(out * w)
  out          fla's output: fft_conv(x, filter) + x (its skip term, D = 1)
  grad.x, grad.filter   dL/d(x, filter)
Named differences from the paper (Fu et al. 2023), which Tessera follows: fla has neither the
smooth nor the squash regulariser (the Java test sets smooth=0, lambda=0) and its skip term is a
fixed +x (Tessera's D, set to ones). fla pads the FFT to 2T, so max_len is kept at T here: a filter
longer than T + 1 would wrap future inputs into the output (printed below as a check).

fla's package __init__ imports its triton kernels (absent on CPU machines), so long_conv.py is loaded
from its file alone; it needs only torch and einops.
"""
import importlib.util, os
import torch
from safetensors.torch import save_file

FLA = importlib.util.find_spec("fla").submodule_search_locations[0]  # finds the package without running its __init__
GOLDEN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "test", "resources", "golden")


def load_long_conv():
    spec = importlib.util.spec_from_file_location("fla_long_conv", os.path.join(FLA, "modules", "conv", "long_conv.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main():
    lc = load_long_conv()
    torch.manual_seed(22)
    B, T, C = 2, 9, 4
    layer = lc.LongConvolution(C, T).double()
    with torch.no_grad():
        layer.filter.mul_(0.5)
    x = torch.randn(B, T, C, dtype=torch.float64, requires_grad=True)
    w = torch.randn(B, T, C, dtype=torch.float64)
    out = layer(x)
    (out * w).sum().backward()
    tensors = {"filter": layer.filter, "x": x, "out_weight": w, "out": out, "grad.x": x.grad, "grad.filter": layer.filter.grad}
    target = os.path.join(GOLDEN, "e22")
    os.makedirs(target, exist_ok=True)
    save_file({n: t.detach().contiguous() for n, t in tensors.items()}, os.path.join(target, "long_conv.safetensors"),
              metadata={"source": "fla.modules.conv.long_conv.LongConvolution", "max_len": str(T)})
    # the wrap-around check: with max_len = 2T the first output depends on later inputs
    long_layer = lc.LongConvolution(C, 2 * T).double()
    probe = torch.zeros(1, T, C, dtype=torch.float64, requires_grad=True)
    long_layer(probe)[0, 0].sum().backward()
    print("fla max_len=2T: |d out_0 / d x_{t>0}| =", probe.grad[0, 1:].abs().sum().item())


if __name__ == "__main__":
    main()
