#!/usr/bin/env bash
# Side-by-side sgemm GFLOP/s: Tessera (GemmTiming, NN/NT/TN) vs OpenBLAS (numpy) and MKL (torch), NN,
# at n=1024, 2048 on 1 and 2 threads; the ratio is against the better of the two peers.
# Usage: bench/compare-sgemm.sh [runs]   (runs: JVM runs per point, best kept; default 2)
# PYTHON: interpreter with PyTorch >= 2 and NumPy (default ~/venvs/peers/bin/python).
# The machine is shared and noisy: every number is a best-of, and ours and theirs run back to back.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${1:-2}"
. .ci/find-jdk
JAVA="$JAVA_HOME/bin/java"
PEER="${PEER:-../shared/ref/sgemm.py}"
. bench/peer-python.sh

if [ ! -f tensor/target/classes/dev/tessera/tensor/GemmTiming.class ] \
   || [ -n "$(find tensor/src/main/java -newer tensor/target/classes/dev/tessera/tensor/GemmTiming.class -name '*.java' | head -1)" ]; then
  echo "building tensor ..." >&2
  ./mvnw -q -pl tensor compile >&2
fi

ours="$(mktemp)"; theirs="$(mktemp)"
trap 'rm -f "$ours" "$theirs"' EXIT

for t in 1 2; do
  for run in $(seq "$RUNS"); do
    # huge pages as NumPy takes them (it madvises arrays of 4 MB and more) and as the launcher asks for
    "$JAVA" --add-modules jdk.incubator.vector -XX:+UseTransparentHugePages -cp tensor/target/classes dev.tessera.tensor.GemmTiming \
      n=1024,2048 threads=$t layouts=NN,NT,TN 2>/dev/null >>"$ours"
    "$py" "$PEER" "$t" 2>/dev/null | grep -E '^(numpy|torch)' >>"$theirs"
  done
done

echo "cpu=\"$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')\" $("$py" -c 'import torch, numpy; print("torch=" + torch.__version__, "numpy=" + numpy.__version__)')"
"$py" - "$ours" "$theirs" <<'PYEOF'
import re, sys
def load(path, pat):
    best = {}
    for line in open(path):
        m = re.search(pat, line)
        if m:
            key = m.groups()[:-1]
            best[key] = max(best.get(key, 0.0), float(m.groups()[-1]))
    return best
ours = load(sys.argv[1], r"threads=(\d+) n=(\d+) layout=(\w+) gflops=([\d.]+)")
theirs = load(sys.argv[2], r"^(\w+) threads=(\d+) n=(\d+) gflops=([\d.]+)")
print(f"{'n':>5} {'thr':>3} {'layout':>6} {'tessera':>9} {'openblas':>9} {'mkl':>9} {'ratio':>6}")
for (t, n, layout), g in sorted(ours.items(), key=lambda kv: (int(kv[0][1]), int(kv[0][0]), kv[0][2])):
    blas, mkl = theirs.get(("numpy", t, n)), theirs.get(("torch", t, n))
    best = max(blas or 0, mkl or 0)
    ratio = f"{g / best:6.2f}" if best else "   n/a"
    fmt = lambda x: f"{x:9.1f}" if x else "      n/a"
    print(f"{n:>5} {t:>3} {layout:>6} {g:9.1f} {fmt(blas)} {fmt(mkl)} {ratio}")
print("GFLOP/s, best of runs; openblas = numpy a @ b, mkl = torch a @ b (NN), from ref/sgemm.py; ratio against the better peer")
PYEOF
