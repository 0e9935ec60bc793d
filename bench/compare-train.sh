#!/usr/bin/env bash
# Training-step throughput and peak memory, ours (`tessera bench train`) and current PyTorch's
# (../shared/ref/torch_llama_step.py), interleaved pair by pair in one run.
# Usage: bench/compare-train.sh [preset] [threads...]     e.g. bench/compare-train.sh tiny 1 2
# PYTHON: interpreter with PyTorch >= 2 (default ~/venvs/peers/bin/python). PAIRS: pairs per thread
# count (default 3). STEPS: timed steps per run (default 5). WARMUP: our untimed JIT warm-up steps (default 2,
# as the PyTorch script's fixed 2). One line per pair, then per thread count
# the medians, the ratio, and each side's 2-thread over 1-thread speed-up.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/peer-python.sh
preset=${1:-tiny}; shift || true
threads=${*:-1 2}
pairs=${PAIRS:-3}
steps=${STEPS:-5}
warmup=${WARMUP:-2}
ref=../shared/ref/torch_llama_step.py
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
echo "cpu=\"$cpu\" nproc=$(nproc) torch=$("$py" -c 'import torch; print(torch.__version__)')"
results=$(mktemp); trap 'rm -f "$results"' EXIT
for t in $threads; do
  for i in $(seq "$pairs"); do
    ours=$(./tessera bench train --preset "$preset" --threads "$t" --steps "$steps" --warmup "$warmup" 2>/dev/null | grep tokens_per_s)
    theirs=$( { /usr/bin/time -f 'maxrss_kb=%M' "$py" "$ref" --threads "$t" --preset "$preset" --steps "$steps"; } 2>&1 | grep -E 'tokens_per_s|maxrss_kb' | tr '\n' ' ')
    o=${ours##*tokens_per_s=}; p=${theirs##*tokens_per_s=}; p=${p%% *}
    orss=${ours##*peak_rss_mb=}; orss=${orss%% *}
    prss=${theirs##*maxrss_kb=}; prss=$(( ${prss%% *} / 1024 ))
    printf 'pair preset=%s threads=%s tessera=%s torch=%s ratio=%s tessera_rss_mb=%s torch_rss_mb=%s\n' "$preset" "$t" "$o" "$p" \
      "$(awk -v a="$o" -v b="$p" 'BEGIN{printf "%.2f", a/b}')" "$orss" "$prss" | tee -a "$results"
  done
done
awk '
  function median(s,   a, n, i, j, x) { n = split(s, a, " "); for (i = 2; i <= n; i++) { x = a[i]; for (j = i - 1; j >= 1 && a[j] > x; j--) a[j+1] = a[j]; a[j+1] = x } return n % 2 ? a[(n+1)/2] : (a[n/2] + a[n/2+1]) / 2 }
  { for (i = 1; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] } t = f["threads"]; o[t] = o[t] " " f["tessera"]; p[t] = p[t] " " f["torch"]; ts[t] = 1 }
  END { for (t in ts) { mo[t] = median(o[t]); mp[t] = median(p[t]); printf "median threads=%s tessera=%.0f torch=%.0f ratio=%.2f\n", t, mo[t], mp[t], mo[t] / mp[t] }
        if ((1 in ts) && (2 in ts)) printf "scaling 2 threads / 1 thread: tessera=%.2f torch=%.2f\n", mo[2] / mo[1], mp[2] / mp[1] }' "$results"
