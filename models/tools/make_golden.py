#!/usr/bin/python3
"""Golden end-to-end fixtures for GoldenFixtureTest: tiny Llama and GPT-2 models written out in
plain PyTorch (float64), with parameter names exactly Tessera's (Hugging Face's) state-dict names.

Run by hand (not in CI), from the repository root:
    /usr/bin/python3 models/tools/make_golden.py
Writes models/src/test/resources/golden/<model>/{weights,batch,expected}.safetensors:
  weights.safetensors  the initial parameters (F64; Linear weights (out, in), GPT-2's c_* too)
  batch.safetensors    ids, targets: (B, T) I64
  (llama_interleaved/ has only expected.safetensors, with q/k_proj gradients only: it reuses
   llama/'s weights and batch with the interleaved RoPE pairing)
  expected.safetensors logits (B, T, V), loss (1,), grad.<name> for every parameter, and
                       adamw_losses (5,): the loss before each of 5 torch.optim.AdamW steps
                       (lr 1e-2, betas (0.9, 0.95), eps 1e-8, weight_decay 0.1 on every parameter).
Needs only torch and numpy (safetensors files are written by hand).
"""
import json, math, os, struct, sys
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "test", "resources", "golden")
B, T = 2, 16
STEPS, LR, BETAS, EPS, WD = 5, 1e-2, (0.9, 0.95), 1e-8, 0.1


def write_safetensors(path, tensors):
    """safetensors by hand: u64 LE header length, JSON header (names sorted, space-padded to 8), raw LE data."""
    header, blobs, off = {}, [], 0
    for name in sorted(tensors):
        a = tensors[name].detach().cpu().contiguous().numpy()
        if a.dtype == np.float64:
            dt, a = "F64", a.astype("<f8")
        elif a.dtype == np.float32:
            dt, a = "F32", a.astype("<f4")
        elif a.dtype == np.int64:
            dt, a = "I64", a.astype("<i8")
        else:
            raise TypeError(f"{name}: {a.dtype}")
        raw = a.tobytes()
        header[name] = {"dtype": dt, "shape": list(a.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for raw in blobs:
            f.write(raw)


# ------------------------------------------------------------------------------------------- Llama

class RMSNorm(nn.Module):
    def __init__(s, d, eps):
        super().__init__(); s.weight = nn.Parameter(torch.ones(d)); s.eps = eps

    def forward(s, x):  # as HF LlamaRMSNorm; everything is float64 here
        return s.weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + s.eps))


def rope_tables(hd, base, t):
    inv = 1.0 / (base ** (torch.arange(0, hd, 2, dtype=torch.float64) / hd))  # (hd/2)
    f = torch.outer(torch.arange(t, dtype=torch.float64), inv)  # (T, hd/2)
    return f.cos(), f.sin()


def rope(x, cos, sin, convention):  # x (B, H, T, hd); cos, sin (T, hd/2)
    if convention == "half_split":  # HF rotate_half: pairs (i, i + hd/2)
        h = x.shape[-1] // 2
        c, s = torch.cat((cos, cos), -1), torch.cat((sin, sin), -1)
        rot = torch.cat((-x[..., h:], x[..., :h]), -1)
        return x * c + rot * s
    x1, x2 = x[..., 0::2], x[..., 1::2]  # Meta's original: pairs (2i, 2i + 1)
    return torch.stack((x1 * cos - x2 * sin, x1 * sin + x2 * cos), -1).flatten(-2)


def causal_attention(q, k, v):  # (B, H, T, hd)
    t, hd = q.shape[-2], q.shape[-1]
    att = (q @ k.transpose(-2, -1)) / math.sqrt(hd)
    mask = torch.triu(torch.ones(t, t, dtype=torch.bool), 1)
    return att.masked_fill(mask, float("-inf")).softmax(-1) @ v


class LlamaAttn(nn.Module):
    def __init__(s, c):
        super().__init__(); s.c = c; hd = c["dim"] // c["heads"]
        s.q_proj = nn.Linear(c["dim"], c["heads"] * hd, bias=False)
        s.k_proj = nn.Linear(c["dim"], c["kv_heads"] * hd, bias=False)
        s.v_proj = nn.Linear(c["dim"], c["kv_heads"] * hd, bias=False)
        s.o_proj = nn.Linear(c["heads"] * hd, c["dim"], bias=False)

    def forward(s, x, cos, sin):
        c = s.c; b, t, _ = x.shape; H, KV = c["heads"], c["kv_heads"]; hd = c["dim"] // H
        q = s.q_proj(x).view(b, t, H, hd).transpose(1, 2)
        k = s.k_proj(x).view(b, t, KV, hd).transpose(1, 2)
        v = s.v_proj(x).view(b, t, KV, hd).transpose(1, 2)
        q, k = rope(q, cos, sin, c["rope"]), rope(k, cos, sin, c["rope"])
        k, v = k.repeat_interleave(H // KV, 1), v.repeat_interleave(H // KV, 1)  # HF repeat_kv
        y = causal_attention(q, k, v)
        return s.o_proj(y.transpose(1, 2).reshape(b, t, H * hd))


class LlamaMlp(nn.Module):
    def __init__(s, c):
        super().__init__()
        s.gate_proj = nn.Linear(c["dim"], c["ffn"], bias=False)
        s.up_proj = nn.Linear(c["dim"], c["ffn"], bias=False)
        s.down_proj = nn.Linear(c["ffn"], c["dim"], bias=False)

    def forward(s, x):
        return s.down_proj(F.silu(s.gate_proj(x)) * s.up_proj(x))


class LlamaLayer(nn.Module):
    def __init__(s, c):
        super().__init__()
        s.self_attn = LlamaAttn(c); s.mlp = LlamaMlp(c)
        s.input_layernorm = RMSNorm(c["dim"], c["eps"]); s.post_attention_layernorm = RMSNorm(c["dim"], c["eps"])

    def forward(s, x, cos, sin):
        x = x + s.self_attn(s.input_layernorm(x), cos, sin)
        return x + s.mlp(s.post_attention_layernorm(x))


class LlamaBody(nn.Module):
    def __init__(s, c):
        super().__init__()
        s.embed_tokens = nn.Embedding(c["vocab"], c["dim"])
        s.layers = nn.ModuleList(LlamaLayer(c) for _ in range(c["layers"]))
        s.norm = RMSNorm(c["dim"], c["eps"])


class Llama(nn.Module):
    def __init__(s, c):
        super().__init__(); s.c = c
        s.model = LlamaBody(c)
        s.lm_head = nn.Linear(c["dim"], c["vocab"], bias=False)  # untied

    def forward(s, ids):
        c = s.c
        cos, sin = rope_tables(c["dim"] // c["heads"], c["theta"], ids.shape[1])
        x = s.model.embed_tokens(ids)
        for layer in s.model.layers:
            x = layer(x, cos, sin)
        return s.lm_head(s.model.norm(x))


# ------------------------------------------------------------------------------------------- GPT-2

class GPT2Attn(nn.Module):
    def __init__(s, c):
        super().__init__(); s.h = c["heads"]
        s.c_attn = nn.Linear(c["dim"], 3 * c["dim"])  # HF Conv1D; (out, in) as Tessera stores it
        s.c_proj = nn.Linear(c["dim"], c["dim"])

    def forward(s, x):
        b, t, C = x.shape; hd = C // s.h
        q, k, v = s.c_attn(x).split(C, 2)
        q, k, v = (z.view(b, t, s.h, hd).transpose(1, 2) for z in (q, k, v))
        y = causal_attention(q, k, v)
        return s.c_proj(y.transpose(1, 2).reshape(b, t, C))


class GPT2Mlp(nn.Module):
    def __init__(s, c):
        super().__init__()
        s.c_fc = nn.Linear(c["dim"], 4 * c["dim"]); s.c_proj = nn.Linear(4 * c["dim"], c["dim"])

    def forward(s, x):
        return s.c_proj(F.gelu(s.c_fc(x), approximate="tanh"))


class GPT2Block(nn.Module):
    def __init__(s, c):
        super().__init__()
        s.ln_1 = nn.LayerNorm(c["dim"], eps=c["eps"]); s.attn = GPT2Attn(c)
        s.ln_2 = nn.LayerNorm(c["dim"], eps=c["eps"]); s.mlp = GPT2Mlp(c)

    def forward(s, x):
        x = x + s.attn(s.ln_1(x))
        return x + s.mlp(s.ln_2(x))


class GPT2Body(nn.Module):
    def __init__(s, c):
        super().__init__()
        s.wte = nn.Embedding(c["vocab"], c["dim"]); s.wpe = nn.Embedding(c["ctx"], c["dim"])
        s.h = nn.ModuleList(GPT2Block(c) for _ in range(c["layers"]))
        s.ln_f = nn.LayerNorm(c["dim"], eps=c["eps"])


class GPT2(nn.Module):
    def __init__(s, c):
        super().__init__(); s.transformer = GPT2Body(c)

    def forward(s, ids):
        tr = s.transformer
        x = tr.wte(ids) + tr.wpe(torch.arange(ids.shape[1]))
        for blk in tr.h:
            x = blk(x)
        return tr.ln_f(x) @ tr.wte.weight.t()  # head tied to wte


# ------------------------------------------------------------------------------------------- driver

def randomise(model, gen):
    """Matrices N(0, 0.2²); norm weights 1 + N(0, 0.1²); biases N(0, 0.1²): every parameter matters."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() == 2:
                p.copy_(torch.randn(p.shape, generator=gen) * 0.2)
            elif name.endswith(".bias"):
                p.copy_(torch.randn(p.shape, generator=gen) * 0.1)
            else:
                p.copy_(1 + torch.randn(p.shape, generator=gen) * 0.1)


def make(name, model, vocab, seed, like=None, grads=None):
    """like: the name of an earlier fixture whose weights and batch to reuse (and not write again);
    grads: a predicate choosing which grad.<name> to save (all when None), to keep the files small."""
    gen = torch.Generator().manual_seed(seed)
    if like is None:
        randomise(model, gen)
        ids = torch.randint(0, vocab, (B, T), generator=gen)
        targets = torch.randint(0, vocab, (B, T), generator=gen)
    else:
        src = MADE[like]
        model.load_state_dict(src["weights"])
        ids, targets = src["ids"], src["targets"]
    weights = {k: v.detach().clone() for k, v in model.named_parameters()}
    MADE[name] = {"weights": weights, "ids": ids, "targets": targets}

    logits = model(ids)
    loss = F.cross_entropy(logits.reshape(-1, vocab), targets.reshape(-1))  # mean over all B·T
    loss.backward()
    expected = {"logits": logits.detach().clone(), "loss": loss.detach().reshape(1).clone()}
    for k, p in model.named_parameters():
        if grads is None or grads(k):
            expected["grad." + k] = p.grad.detach().clone()

    opt = torch.optim.AdamW(model.parameters(), lr=LR, betas=BETAS, eps=EPS, weight_decay=WD)
    losses = []
    for _ in range(STEPS):
        opt.zero_grad(set_to_none=True)
        l = F.cross_entropy(model(ids).reshape(-1, vocab), targets.reshape(-1))
        l.backward(); opt.step()
        losses.append(l.item())
    expected["adamw_losses"] = torch.tensor(losses, dtype=torch.float64)

    d = os.path.join(OUT, name)
    os.makedirs(d, exist_ok=True)
    if like is None:
        write_safetensors(os.path.join(d, "weights.safetensors"), weights)
        write_safetensors(os.path.join(d, "batch.safetensors"), {"ids": ids, "targets": targets})
    write_safetensors(os.path.join(d, "expected.safetensors"), expected)
    print(f"{name}: {len(weights)} params, loss {loss.item():.12f}, adamw losses {['%.6f' % x for x in losses]}")


MADE = {}


def main():
    base = dict(vocab=64, ctx=16, layers=2, dim=32, heads=4, kv_heads=2, ffn=48, theta=500000.0, eps=1e-5)
    make("llama", Llama(dict(base, rope="half_split")), 64, 1234)
    # Meta's interleaved RoPE pairing (the models' tiny preset): same weights and batch as llama/,
    # only logits, loss, AdamW losses and the q/k projection gradients (where RoPE enters) saved.
    make("llama_interleaved", Llama(dict(base, rope="interleaved")), 64, 0, like="llama",
         grads=lambda k: k.endswith("q_proj.weight") or k.endswith("k_proj.weight"))
    make("gpt2", GPT2(dict(vocab=64, ctx=16, layers=2, dim=32, heads=4, eps=1e-5)), 64, 5678)


if __name__ == "__main__":
    main()
