#!/usr/bin/env bash
# Single-stream greedy decoding, ours (`tessera bench decode`) and PyTorch CPU eager
# (transformers, bench/decode_peer.py) on the same random-weight Hugging Face model, in one run.
# Usage: bench/compare-decode.sh [model] [threads...]      model: small (default) or gpt2
# PYTHON names an interpreter with torch >= 2 + transformers (default ~/venvs/peers/bin/python). WARMUP untimed
# generations of 64 tokens come first on both sides (default 10: the JIT needs a few hundred tokens).
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:-small}; shift || true
threads=${*:-1 2}
. bench/peer-python.sh
warm=${WARMUP:-10}
dir=${TMPDIR:-/tmp}/tessera-decode/$model
[ -f "$dir/config.json" ] || "$py" bench/decode_peer.py make "$dir" --model "$model" >/dev/null
for t in $threads; do
  ours=$(./tessera bench decode --hf "$dir" --threads "$t" --warmup "$warm" 2>/dev/null | grep tokens_per_s)
  theirs=$("$py" bench/decode_peer.py run "$dir" --threads "$t" --warmup "$warm" 2>/dev/null | grep tokens_per_s)
  o=${ours##*tokens_per_s=}; p=${theirs##*tokens_per_s=}
  gb=${ours##*gb_per_s=}; gb=${gb%% *}
  printf 'decode model=%s threads=%s tessera=%s torch=%s ratio=%s tessera_weights_gb_per_s=%s\n' "$model" "$t" "$o" "$p" \
    "$(awk -v a="$o" -v b="$p" 'BEGIN{printf "%.2f", a/b}')" "$gb"
done
