"""Golden fixture for E16 mixture of experts (run by hand, never in CI).

References (transformers 5):
  * MixtralSparseMoeBlock (MixtralTopKRouter: softmax, top-k, renormalised over the k; MixtralExperts:
    stacked SwiGLU experts dispatched by index_add over the tokens routed to each) and the Mixtral
    load_balancing_loss_func for one layer; switch_transformers.router_z_loss_func for the z-loss.
  * SwitchTransformersTop1Router with expert_capacity: top-1, capacity served in position order per row.
    Its SparseMLP gives a dropped token (prob · its input); the paper (and Tessera) gives it nothing, so the
    Switch output here is the paper's, y = mask · prob · expert(x), built on the reference router's mask and prob.
The one departure: MixtralTopKRouter takes its softmax in float32 and load_balancing_loss_func accumulates in
float32; both are recomputed in float64 (checked against them), and the Switch router's dtype is set to float64 after construction (its config
allows only 16/32-bit), so the fixture keeps float64 precision. Writes nn/src/test/resources/golden/e16/moe.safetensors.

    ~/venvs/peers/bin/python nn/tools/golden_e16_moe.py
"""
import sys
from pathlib import Path

sys.modules["torchvision"] = None  # the venv's torchvision is built for another torch; transformers does not need it here

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
import transformers  # noqa: E402
from safetensors.torch import save_file  # noqa: E402
from transformers.models.mixtral import modeling_mixtral as mx  # noqa: E402
from transformers.models.switch_transformers import modeling_switch_transformers as st  # noqa: E402

B, T, DIM, EXPERTS, TOP_K, HIDDEN = 2, 6, 5, 4, 2, 3
SWITCH_T, CAPACITY = 8, 2

torch.manual_seed(0)
config = mx.MixtralConfig(hidden_size=DIM, intermediate_size=HIDDEN, num_local_experts=EXPERTS, num_experts_per_tok=TOP_K,
                          router_jitter_noise=0.0, vocab_size=8, num_hidden_layers=1, num_attention_heads=1, num_key_value_heads=1)
block = mx.MixtralSparseMoeBlock(config).double()
with torch.no_grad():
    for p in block.parameters():
        p.normal_(0, 0.5)


def router64(self, hidden_states):
    """MixtralTopKRouter.forward with the softmax in float64 instead of float32."""
    hidden_states = hidden_states.reshape(-1, self.hidden_dim)
    router_logits = F.linear(hidden_states, self.weight)
    router_probs = torch.softmax(router_logits, dim=-1)
    top_value, top_index = torch.topk(router_probs, self.top_k, dim=-1)
    top_value = top_value / top_value.sum(dim=-1, keepdim=True)
    return router_logits, top_value, top_index


x = torch.randn(B, T, DIM, dtype=torch.float64, requires_grad=True)
grad_output = torch.randn(B, T, DIM, dtype=torch.float64)
reference = block(x).detach()  # the float32 router
mx.MixtralTopKRouter.forward = router64
out = block(x)
assert torch.allclose(out, reference, atol=1e-5), "the float64 router must agree with transformers' float32 one"


def balance64(lg):
    """Mixtral's load_balancing_loss_func for one layer in float64 (it accumulates in float32), checked against it."""
    probs = torch.softmax(lg, dim=-1)
    chosen = torch.topk(probs, TOP_K, dim=-1).indices
    tokens_per_expert = torch.bincount(chosen.reshape(-1), minlength=EXPERTS).to(torch.float64) / lg.shape[0]
    loss = (tokens_per_expert * probs.mean(dim=0)).sum() * EXPERTS
    assert abs(float(loss) - float(mx.load_balancing_loss_func((lg,), EXPERTS, TOP_K))) < 1e-5
    return loss


auxiliary = {"balance": balance64,
             "z_loss": lambda lg: st.router_z_loss_func(lg.reshape(B, T, EXPERTS))}
(out * grad_output).sum().backward()
tensors = {"x": x.detach(), "grad_output": grad_output, "out": out.detach(), "grad.x": x.grad.clone()}
for name, p in block.named_parameters():
    tensors[name] = p.detach().clone()
    tensors["grad." + name] = p.grad.clone()
for name, fn in auxiliary.items():
    block.zero_grad()
    x.grad = None
    loss = fn(block.gate(x)[0])
    loss.backward()
    tensors[name] = loss.detach().reshape(1)
    tensors[name + ".grad.gate.weight"] = block.gate.weight.grad.clone()
    tensors[name + ".grad.x"] = x.grad.clone()

# Switch top-1 with capacity: the reference router's dispatch mask and gate, experts as Mixtral's
sconfig = st.SwitchTransformersConfig(d_model=DIM, num_experts=EXPERTS, expert_capacity=CAPACITY, router_bias=False,
                                      router_jitter_noise=0.0, router_dtype="float32")
router = st.SwitchTransformersTop1Router(sconfig).double()
router.dtype = torch.float64  # its config allows no float64; the router casts to this dtype, so this keeps float64 precision
with torch.no_grad():
    router.classifier.weight.normal_(0, 1.0)
sx = torch.randn(1, SWITCH_T, DIM, dtype=torch.float64)
mask, prob, _ = router(sx)
assert int(mask.sum()) < SWITCH_T, "the fixture should drop some tokens over capacity"
gate_up, down = block.experts.gate_up_proj.detach(), block.experts.down_proj.detach()
sy = torch.zeros_like(sx)
for e in range(EXPERTS):
    g, u = F.linear(sx[0], gate_up[e]).chunk(2, dim=-1)
    sy[0] += mask[0, :, e:e + 1] * prob[0] * F.linear(F.silu(g) * u, down[e])
tensors.update({"switch.x": sx, "switch.gate.weight": router.classifier.weight.detach(), "switch.mask": mask.to(torch.int64),
                "switch.out": sy})

meta = {"experts": str(EXPERTS), "top_k": str(TOP_K), "hidden": str(HIDDEN), "switch_capacity": str(CAPACITY),
        "reference": "transformers MixtralSparseMoeBlock + load_balancing_loss_func, switch router_z_loss_func,"
                     " SwitchTransformersTop1Router", "torch": torch.__version__, "transformers": transformers.__version__}
target = Path(__file__).resolve().parents[1] / "src/test/resources/golden/e16"
target.mkdir(parents=True, exist_ok=True)
save_file({k: v.contiguous() for k, v in tensors.items()}, str(target / "moe.safetensors"), metadata=meta)
print("wrote", target / "moe.safetensors", sorted(tensors))
