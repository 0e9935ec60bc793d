#!/usr/bin/env python3
"""PyTorch CPU eager peer for `tessera bench decode`, and the random-weight models both decode.

    decode_peer.py make DIR --model small|gpt2   writes a Hugging Face directory with random weights:
        small = Tessera's `small` preset as a LlamaForCausalLM (vocab 256, 6 layers, dim 384, 6 heads,
        ffn 1024, context 512); gpt2 = GPT-2 small (124M, vocab 50257, context 1024)
    decode_peer.py run DIR [--threads T] [--tokens N] [--prompt-tokens P] [--runs R] [--warmup W]
        greedy decoding with transformers' KV cache, timed exactly as Tessera times itself: a random
        prompt, W untimed generations (default 3), the median of R generations; tokens/s = generated tokens over
        prefill plus decode time. Prints one line ending in tokens_per_s=<number>.

Needs torch and transformers (see README "Measured figures" for the environment used).
"""
import argparse
import statistics
import time

import torch
from transformers import AutoModelForCausalLM, GPT2Config, GPT2LMHeadModel, LlamaConfig, LlamaForCausalLM


def make(args):
    torch.manual_seed(0)
    if args.model == "small":
        model = LlamaForCausalLM(LlamaConfig(
            vocab_size=256, hidden_size=384, intermediate_size=1024, num_hidden_layers=6, num_attention_heads=6,
            num_key_value_heads=6, max_position_embeddings=512, rms_norm_eps=1e-5, tie_word_embeddings=False))
    else:
        model = GPT2LMHeadModel(GPT2Config())
    model.float().save_pretrained(args.dir, safe_serialization=True)
    print(f"wrote {args.model} ({sum(p.numel() for p in model.parameters())} parameters) to {args.dir}")


def run(args):
    torch.set_num_threads(args.threads)
    model = AutoModelForCausalLM.from_pretrained(args.dir, attn_implementation="eager").float().eval()
    prompt = torch.randint(0, model.config.vocab_size, (1, args.prompt_tokens), generator=torch.Generator().manual_seed(1))

    def generate():
        start = time.perf_counter()
        with torch.inference_mode():
            out = model(input_ids=prompt, use_cache=True)
            for i in range(args.tokens):
                nxt = out.logits[:, -1].argmax(-1, keepdim=True)
                if i + 1 < args.tokens:
                    out = model(input_ids=nxt, past_key_values=out.past_key_values, use_cache=True)
        return args.tokens / (time.perf_counter() - start)

    for _ in range(args.warmup):
        generate()
    rate = statistics.median(generate() for _ in range(args.runs))
    print(f"torch decode model={args.dir.rstrip('/').split('/')[-1]} torch={torch.__version__} threads={args.threads} "
          f"prompt={args.prompt_tokens} tokens={args.tokens} tokens_per_s={rate:.1f}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("make")
    m.add_argument("dir")
    m.add_argument("--model", choices=["small", "gpt2"], required=True)
    r = sub.add_parser("run")
    r.add_argument("dir")
    r.add_argument("--threads", type=int, default=1)
    r.add_argument("--tokens", type=int, default=64)
    r.add_argument("--prompt-tokens", type=int, default=16)
    r.add_argument("--runs", type=int, default=3)
    r.add_argument("--warmup", type=int, default=3)
    args = ap.parse_args()
    make(args) if args.cmd == "make" else run(args)


if __name__ == "__main__":
    main()
