#!/usr/bin/env bash
# Training-step throughput, ours and PyTorch's (../shared/ref/torch_llama_step.py), in one run.
# Usage: bench/compare-train.sh [preset] [threads...]     e.g. bench/compare-train.sh tiny 1 2
set -euo pipefail
cd "$(dirname "$0")/.."
preset=${1:-tiny}; shift || true
threads=${*:-1 2}
ref=../shared/ref/torch_llama_step.py
for t in $threads; do
  ours=$(./tessera bench train --preset "$preset" --threads "$t" 2>/dev/null | grep tokens_per_s)
  theirs=$(/usr/bin/python3 "$ref" --threads "$t" --preset "$preset" 2>/dev/null | grep tokens_per_s)
  o=${ours##*tokens_per_s=}; p=${theirs##*tokens_per_s=}
  printf 'preset=%s threads=%s tessera=%s torch=%s ratio=%s\n' "$preset" "$t" "$o" "$p" "$(awk -v a="$o" -v b="$p" 'BEGIN{printf "%.2f", a/b}')"
done
