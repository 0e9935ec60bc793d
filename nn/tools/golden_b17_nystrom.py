"""Golden fixture for B17 Nystrom attention (NystromAttention) from Hugging Face's Nystromformer.

Run by hand (never in CI), from the repository root:
    ~/venvs/peers/bin/python nn/tools/golden_b17_nystrom.py
writes nn/src/test/resources/golden/b17/nystrom.safetensors, read by
nn/src/test/java/dev/tessera/nn/attention/NystromGoldenTest.java.

Reference: transformers models.nystromformer.modeling_nystromformer:NystromformerSelfAttention in
float64: hidden 8, 2 heads (head size 4), T = 12, 4 landmarks (segments of 3), 6 pseudo-inverse
iterations, conv skip of kernel 3, no dropout, no attention mask.

The module's init_option is set to "exact" after construction: Z0 = K^T / max column sum per
(batch, head), the paper's ||A||_1 (the default "original" takes one max over the whole batch and
all heads). The config path to it (inv_coeff_init_option) indexes the config like a dict and fails,
hence the attribute.

Stored: the projections' weights and biases and conv.weight by Hugging Face name, the input
hidden_states, grad_output, the output context layer (B, T, C), and the gradients of
sum(out * grad_output) with respect to hidden_states and every weight ("grad.<name>").
A second case "exact" has 12 landmarks = T (the reference's exact-softmax branch), without a conv.
"""

import importlib.util
import os
import sys

_find_spec = importlib.util.find_spec
importlib.util.find_spec = lambda name, *a, **k: None if name.split(".")[0] == "torchvision" else _find_spec(name, *a, **k)
sys.modules["torchvision"] = None

import torch  # noqa: E402
import transformers  # noqa: E402
from safetensors.torch import save_file  # noqa: E402
from transformers import NystromformerConfig  # noqa: E402
from transformers.models.nystromformer.modeling_nystromformer import NystromformerSelfAttention  # noqa: E402

torch.manual_seed(17)
torch.set_default_dtype(torch.float64)
B, T, C, H = 2, 12, 8, 2
tensors = {}
for case, landmarks, conv in (("nystrom", 4, 3), ("exact", T, None)):
    config = NystromformerConfig(hidden_size=C, num_attention_heads=H, num_landmarks=landmarks, segment_means_seq_len=T,
                                 conv_kernel_size=conv or 3, attention_probs_dropout_prob=0.0, inv_coeff_init_option=False)
    attn = NystromformerSelfAttention(config).double().eval()
    attn.init_option = "exact"
    if conv is None:  # the config validates conv_kernel_size as an int; the module skips the conv when it is None
        attn.conv_kernel_size = None
        del attn.conv
    with torch.no_grad():
        for lin in (attn.query, attn.key, attn.value):
            lin.weight.normal_(0, 0.7)
            lin.bias.normal_(0, 0.2)
        if conv is not None:
            attn.conv.weight.normal_(0, 0.5)
    params = dict(attn.named_parameters())
    x = torch.randn(B, T, C).requires_grad_(True)
    grad_output = torch.randn(B, T, C)
    out = attn(x)[0]
    (out * grad_output).sum().backward()
    tensors[case + ".hidden_states"] = x.detach().clone()
    tensors[case + ".grad_output"] = grad_output
    tensors[case + ".output"] = out.detach().clone()
    tensors[case + ".grad.hidden_states"] = x.grad.detach().clone()
    for name, p in params.items():
        tensors[case + "." + name] = p.detach().clone()
        tensors[case + ".grad." + name] = p.grad.detach().clone()

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "test", "resources", "golden", "b17")
os.makedirs(root, exist_ok=True)
path = os.path.join(root, "nystrom.safetensors")
save_file({k: v.contiguous() for k, v in tensors.items()}, path, metadata={
    "reference": "transformers.models.nystromformer.modeling_nystromformer.NystromformerSelfAttention",
    "script": "nn/tools/golden_b17_nystrom.py",
    "torch": torch.__version__,
    "transformers": transformers.__version__,
    "heads": str(H), "landmarks": "4", "conv_kernel": "3", "pinv_iterations": "6",
})
print("wrote", os.path.normpath(path), len(tensors), "tensors")
