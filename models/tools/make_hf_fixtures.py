#!/usr/bin/env python3
"""Hugging Face `transformers` fixtures for HuggingFaceParityTest, and a check of Tessera's exports.

Run where `transformers` and `torch` are installed (never in CI), from the repository root:

    python models/tools/make_hf_fixtures.py            # writes the fixtures
    python models/tools/make_hf_fixtures.py --check-export models/target/hf-export

Writing: for each small random-weight model below it calls `save_pretrained` (F32 safetensors;
`llama-gqa-sharded` with a tiny max_shard_size, so it comes as shards plus
model.safetensors.index.json) into models/src/test/resources/hf-fixtures/NAME/, and adds
`expected.safetensors` with `input_ids` (1, T) I64 and `logits` (1, T, V) F32 from the model's
forward pass. Weights are drawn with a larger std than the models' own init, so that logits
depend visibly on every tensor.

Checking: HuggingFaceParityTest exports each imported model again with Tessera
(`HuggingFaceCheckpoint.save`) under models/target/hf-export/NAME/; `--check-export` loads those
directories with `AutoModelForCausalLM.from_pretrained` and requires their logits to equal the
fixture's within 1e-5, proving transformers reads what Tessera writes.
"""
import argparse
import pathlib
import sys

import torch
from safetensors.torch import load_file, save_file
from transformers import AutoModelForCausalLM, GPT2Config, GPT2LMHeadModel, LlamaConfig, LlamaForCausalLM

OUT = pathlib.Path(__file__).resolve().parent.parent / "src" / "test" / "resources" / "hf-fixtures"
T = 24


def llama(tie):
    return LlamaForCausalLM(LlamaConfig(
        vocab_size=97, hidden_size=64, intermediate_size=176, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, max_position_embeddings=64, rms_norm_eps=1e-5, rope_theta=500000.0,
        tie_word_embeddings=tie, attn_implementation="eager"))


def gpt2():
    return GPT2LMHeadModel(GPT2Config(
        vocab_size=101, n_positions=64, n_embd=64, n_layer=2, n_head=4, bos_token_id=100, eos_token_id=100,
        attn_implementation="eager"))


MODELS = {
    "llama-gqa": (lambda: llama(False), None),
    "llama-gqa-tied": (lambda: llama(True), None),
    "llama-gqa-sharded": (lambda: llama(False), "40KB"),
    "gpt2": (gpt2, None),
}


def randomize(model, seed):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("weight") and "norm" not in name and "ln_" not in name:
                p.copy_(torch.randn(p.shape, generator=g) * 0.2)
            else:  # norm gains near 1, biases near 0
                base = 1.0 if name.endswith("weight") else 0.0
                p.copy_(base + torch.randn(p.shape, generator=g) * 0.1)


def write(name, make, shard):
    torch.manual_seed(0)
    model = make().float().eval()
    randomize(model, seed=len(name))
    ids = torch.randint(0, model.config.vocab_size, (1, T), generator=torch.Generator().manual_seed(7))
    with torch.no_grad():
        logits = model(ids).logits.float()
    out = OUT / name
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.safetensors*"):
        old.unlink()
    kwargs = {"max_shard_size": shard} if shard else {}
    model.save_pretrained(out, safe_serialization=True, **kwargs)
    for extra in ("generation_config.json",):
        (out / extra).unlink(missing_ok=True)
    save_file({"input_ids": ids.contiguous(), "logits": logits.contiguous()}, str(out / "expected.safetensors"))
    print(f"{name}: {sum(p.numel() for p in model.parameters())} parameters, logits {tuple(logits.shape)}")


def check_export(root):
    worst, ok = 0.0, True
    for name in MODELS:
        exported = pathlib.Path(root) / name
        if not exported.is_dir():
            print(f"{name}: no export at {exported} (run HuggingFaceParityTest first)")
            ok = False
            continue
        expected = load_file(str(OUT / name / "expected.safetensors"))
        model = AutoModelForCausalLM.from_pretrained(exported, attn_implementation="eager").float().eval()
        with torch.no_grad():
            logits = model(expected["input_ids"]).logits.float()
        err = (logits - expected["logits"]).abs().max().item()
        worst = max(worst, err)
        print(f"{name}: transformers loaded Tessera's export, max |logits - expected| = {err:.3g}")
        ok &= err <= 1e-5
    print("export check", "passed" if ok else "FAILED", f"(worst {worst:.3g})")
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check-export", metavar="DIR", help="load Tessera's exports from DIR with transformers")
    args = ap.parse_args()
    if args.check_export:
        sys.exit(0 if check_export(args.check_export) else 1)
    for name, (make, shard) in MODELS.items():
        write(name, make, shard)
    print(f"wrote fixtures to {OUT}")


if __name__ == "__main__":
    main()
