"""Golden fixture for E4 token shift (run by hand, never in CI).

Reference: flash-linear-attention's plain-torch fla.modules.token_shift:token_shift_ref, the delta
x_{t-1} - x_t with a zero before each sequence, in both its modes: a batch without cu_seqlens, and
one packed row with cu_seqlens (each document restarts). The module's file imports triton at the
top (absent on CPU machines), so only the function's source is taken out of it (ast) and run with
torch. Writes, in float64, x, a fixed output gradient, the delta and x's gradient for each mode to
nn/src/test/resources/golden/e4/token_shift.safetensors (suffix _varlen for the packed row, with
cu_seqlens as int64).

    ~/venvs/peers/bin/python nn/tools/golden_e4_token_shift.py
"""
import ast
import importlib.util
import os
from pathlib import Path

import torch
from safetensors.torch import save_file

FLA = importlib.util.find_spec("fla").submodule_search_locations[0]  # finds the package without running its __init__
source = Path(FLA, "modules", "token_shift.py").read_text()
tree = ast.parse(source)
fn = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "token_shift_ref")
namespace = {"torch": torch}
exec(compile(ast.Module(body=[fn], type_ignores=[]), "token_shift_ref", "exec"), namespace)
token_shift_ref = namespace["token_shift_ref"]

torch.manual_seed(0)
tensors = {}
for suffix, shape, cu in (("", (2, 7, 5), None), ("_varlen", (1, 11, 5), torch.tensor([0, 3, 4, 8, 11]))):
    x = torch.randn(*shape, dtype=torch.float64, requires_grad=True)
    grad_output = torch.randn(*shape, dtype=torch.float64)
    out = token_shift_ref(x, cu)
    out.backward(grad_output)
    tensors.update({"x" + suffix: x.detach(), "grad_output" + suffix: grad_output, "out" + suffix: out.detach(), "grad.x" + suffix: x.grad})
    if cu is not None:
        tensors["cu_seqlens"] = cu
path = Path(__file__).resolve().parents[1] / "src/test/resources/golden/e4/token_shift.safetensors"
save_file({k: v.contiguous() for k, v in tensors.items()}, str(path), metadata={"reference": "fla token_shift_ref"})
print("wrote", path)
