"""Golden fixture for G9 mixed precision (run by hand, never in CI).

Reference: torch.autocast('cpu', dtype=bfloat16 / float16) and torch.amp.GradScaler('cpu').
Writes nn/src/test/resources/golden/g9/amp.safetensors:

- autocast: a tiny MLP y = W2·tanh(W1·x + b1) + b2, F32 parameters, cross-entropy against fixed
  targets, run under autocast for each low type t in {bf16, fp16}: x, targets, the weights by their
  names, and per type "t.out" (the logits, float32 copy of autocast's t output), "t.loss" and
  "t.grad.NAME" (the F32 master weights' gradients).
- scaler: one F32 parameter p = (1, -2, 0.5) trained by SGD(lr 0.1) on loss_i = Σ c_i · p, where
  step i's coefficients "scaler.R.coefs"[i] hold an inf or NaN at some steps: for run R = small
  (init 65536, growth 2, backoff 0.5, interval 3; inf at steps 2 and 7, NaN at 8; 12 steps)
  "scaler.small.scales" (the scale after each update) and "scaler.small.params" (p after each
  step); for R = default (PyTorch's defaults, interval 2000; inf at step 3; 2005 steps)
  "scaler.default.scales".

    ~/venvs/peers/bin/python nn/tools/golden_g9_amp.py
"""
from pathlib import Path

import torch
from safetensors.torch import save_file

torch.manual_seed(0)
N, IN, HIDDEN, OUT = 6, 8, 16, 5
lin1 = torch.nn.Linear(IN, HIDDEN)
lin2 = torch.nn.Linear(HIDDEN, OUT)
x = torch.randn(N, IN)
targets = torch.randint(0, OUT, (N,))
tensors = {"x": x, "targets": targets, "fc1.weight": lin1.weight.detach().clone(), "fc1.bias": lin1.bias.detach().clone(),
           "fc2.weight": lin2.weight.detach().clone(), "fc2.bias": lin2.bias.detach().clone()}
for name, dtype in (("bf16", torch.bfloat16), ("fp16", torch.float16)):
    lin1.zero_grad()
    lin2.zero_grad()
    with torch.autocast("cpu", dtype=dtype):
        out = lin2(torch.tanh(lin1(x)))
        loss = torch.nn.functional.cross_entropy(out, targets)
    assert out.dtype == dtype and loss.dtype == torch.float32
    loss.backward()
    tensors[name + ".out"] = out.detach().float()
    tensors[name + ".loss"] = loss.detach().reshape(())
    for prefix, lin in (("fc1", lin1), ("fc2", lin2)):
        for pname, p in lin.named_parameters():
            assert p.grad.dtype == torch.float32
            tensors[f"{name}.grad.{prefix}.{pname}"] = p.grad.clone()


def scaler_run(steps, bad, **kw):
    p = torch.nn.Parameter(torch.tensor([1.0, -2.0, 0.5]))
    opt = torch.optim.SGD([p], lr=0.1)
    scaler = torch.amp.GradScaler("cpu", **kw)
    scales, params, coefs = [], [], []
    for i in range(steps):
        c = torch.tensor([0.25, -0.5, 1e-3]) * (i % 3 + 1)
        if i in bad:
            c[i % 3] = float("nan") if bad[i] == "nan" else float("inf")
        coefs.append(c)
        opt.zero_grad()
        scaler.scale((c * p).sum()).backward()
        scaler.step(opt)
        scaler.update()
        scales.append(scaler.get_scale())
        params.append(p.detach().clone())
    return torch.tensor(scales, dtype=torch.float64), torch.stack(params), torch.stack(coefs)


bad_small = {2: "inf", 7: "inf", 8: "nan"}
small_scales, small_params, small_coefs = scaler_run(12, bad_small, init_scale=65536.0, growth_factor=2.0, backoff_factor=0.5, growth_interval=3)
default_scales, _, default_coefs = scaler_run(2005, {3: "inf"})
tensors["scaler.small.coefs"] = small_coefs
tensors["scaler.default.coefs"] = default_coefs
tensors["scaler.small.scales"] = small_scales
tensors["scaler.small.params"] = small_params
tensors["scaler.default.scales"] = default_scales

path = Path(__file__).resolve().parents[1] / "src/test/resources/golden/g9/amp.safetensors"
save_file({k: v.contiguous() for k, v in tensors.items()}, str(path),
          metadata={"reference": "torch " + torch.__version__ + " autocast('cpu') and amp.GradScaler('cpu')"})
print("wrote", path)
