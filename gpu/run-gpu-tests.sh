#!/usr/bin/env bash
# The GPU check, in one script: the GPU test suite, a GEMM figure beside cuBLAS through PyTorch,
# and PyTorch's training step beside Tessera's, within an 8-minute budget on the GPU machine.
#
#   gpu/run-gpu-tests.sh prepare   # build machine (Maven, network or a warm ~/.m2): compile, stage
#                                  # the test classpath + JUnit console launcher, jlink a small JRE,
#                                  # copy the PyTorch reference, into gpu/target/gpu-bundle
#   gpu/run-gpu-tests.sh run [DIR] # GPU machine: run everything from the bundle (default
#                                  # gpu/target/gpu-bundle); no Maven needed. Exit status: JUnit's
#   gpu/run-gpu-tests.sh           # both, on one machine
#
# Environment: JAVA_HOME (a JDK 25, for prepare); TESSERA_REQUIRE_GPU=1 fails instead of skipping
# when CUDA is unavailable; PYTHON (default python3, with torch) for the PyTorch steps;
# TESSERA_GPU_BUDGET_S (default 450) caps the whole run; JAVA_OPTS for the JVM (CUDA lookup:
# -Dtessera.cuda.lib=DIR, or CUDA_HOME; kernel cache: -Dtessera.cuda.cache=DIR).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bundle_default="$here/target/gpu-bundle"
mode="${1:-all}"
budget="${TESSERA_GPU_BUDGET_S:-450}"
python="${PYTHON:-python3}"

prepare() {
    : "${JAVA_HOME:?set JAVA_HOME to a JDK 25}"
    local root
    root="$(cd "$here/.." && pwd)"
    cd "$root"
    # package, not install: the reactor resolves tessera-tensor to its jar without touching ~/.m2
    ./mvnw -q -B -ntp -DskipTests -Pgpu-tests -pl gpu -am package
    local b="$bundle_default"
    rm -rf "$b"
    mkdir -p "$b/lib" "$b/ref"
    cp -r gpu/target/classes "$b/classes"
    cp -r gpu/target/test-classes "$b/test-classes"
    cp gpu/target/gpu-test-libs/*.jar "$b/lib/"
    cp gpu/target/gpu-test-libs/console/junit-platform-console-standalone.jar "$b/"
    cp "$here/run-gpu-tests.sh" "$b/"
    # the CLI and the models tests, for `bench train --device cuda` and the CUDA training test
    ./mvnw -q -B -ntp -DskipTests -pl models -am package
    mkdir -p "$b/cli/lib"
    local f
    for f in models/target/tessera-models-*.jar; do
        case "$f" in *-sources.jar | *-javadoc.jar | *-tests.jar) ;; *) cp "$f" "$b/cli/" ;; esac
    done
    cp models/target/lib/*.jar "$b/cli/lib/"
    cp -r models/target/test-classes "$b/models-test-classes"
    local ref
    for ref in "$root/../shared/ref/torch_llama_step.py" "$root/shared/ref/torch_llama_step.py"; do
        if [[ -f "$ref" ]]; then
            cp "$ref" "$b/ref/"
            break
        fi
    done
    # a small runtime: the FFM API is in java.base; the launcher needs logging, management (with
    # HotSpot's, for the benchmark's allocation counter) and XML
    "$JAVA_HOME/bin/jlink" --add-modules java.base,java.logging,java.management,jdk.management,java.xml,java.naming,jdk.incubator.vector,jdk.unsupported,jdk.zipfs \
        --strip-debug --no-header-files --no-man-pages --output "$b/jre"
    # one archive for the device tool's carry (64 MiB at most): the JRE dominates, xz brings it to ~25 MB
    tar cJf "$b.tar.xz" -C "$(dirname "$b")" "$(basename "$b")"
    echo "bundle ready: $b ($(du -h "$b.tar.xz" | cut -f1) packed as $b.tar.xz)"
}

# Seconds a step may take: its cap, or what is left of the budget (less a margin), whichever is less.
step_limit() {
    local cap="$1" left=$((budget - SECONDS - 10))
    if ((left < cap)); then
        echo $((left > 1 ? left : 1))
    else
        echo "$cap"
    fi
}

# Runs a peer step under its time limit; its failure is reported, never fatal.
peer() {
    local cap="$1"
    shift
    local limit
    limit="$(step_limit "$cap")"
    if ! timeout "$limit" "$@"; then
        echo "(failed or over ${limit}s: $*)"
    fi
}

torch_cuda() {
    "$python" -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null
}

gemm_vs_cublas() {
    peer 90 "$python" - <<'PY'
import time, torch
torch.backends.cuda.matmul.allow_tf32 = False  # fp32 means fp32, as Tessera's default
n = 4096
for name, dt in (("fp32", torch.float32), ("bf16", torch.bfloat16)):
    a = torch.randn(n, n, device="cuda", dtype=dt)
    b = torch.randn(n, n, device="cuda", dtype=dt)
    for _ in range(3):
        a @ b
    torch.cuda.synchronize()
    reps = 20
    t = time.perf_counter()
    for _ in range(reps):
        a @ b
    torch.cuda.synchronize()
    s = (time.perf_counter() - t) / reps
    print(f"torch.matmul {name} n={n}: {2 * n**3 / s / 1e9:.0f} GFLOP/s ({torch.cuda.get_device_name()}, torch {torch.__version__})")
PY
}

run() {
    local b="${1:-$bundle_default}"
    [[ -f "$b/junit-platform-console-standalone.jar" ]] || { echo "no bundle at $b (run: $0 prepare)" >&2; exit 2; }
    local java="$b/jre/bin/java"
    [[ -x "$java" ]] || java="${JAVA_HOME:+$JAVA_HOME/bin/}java"
    local cp="$b/classes:$b/test-classes"
    local j
    for j in "$b"/lib/*.jar; do cp="$cp:$j"; done
    local -a flags=(--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED)
    local -a extra=()
    if [[ -n "${JAVA_OPTS:-}" ]]; then
        read -r -a extra <<<"$JAVA_OPTS"
        flags+=("${extra[@]}")
    fi
    if command -v nvidia-smi >/dev/null; then
        nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
    fi

    echo "== CUDA status"
    local gpu=1
    if ! "$java" "${flags[@]}" -cp "$cp" dev.tessera.gpu.GpuSupport; then
        gpu=0
        if [[ "${TESSERA_REQUIRE_GPU:-0}" == 1 ]]; then
            exit 1
        fi
        echo "(the gpu tests will be reported as skipped)"
    fi

    echo "== GPU test suite (JUnit tag gpu)"
    local status=0
    timeout "$(step_limit 300)" "$java" "${flags[@]}" -jar "$b/junit-platform-console-standalone.jar" execute \
        --class-path "$cp" --select-package dev.tessera.gpu --include-tag gpu \
        --details=tree --disable-banner --fail-if-no-tests || status=$?
    echo "== the simulated-device training test on the real device (tiny preset, 20 steps, CUDA vs CPU)"
    local cli="$b/cli/*:$b/cli/lib/*" # for java -cp, which expands the wildcards
    local jars=""                      # the same jars spelled out, for the JUnit launcher, which does not
    for j in "$b"/cli/*.jar "$b"/cli/lib/*.jar "$b"/lib/*.jar; do
        case "$j" in "$b"/lib/tessera-*) ;; *) jars="$jars:$j" ;; esac # Tessera's own jars come from cli/lib
    done
    timeout "$(step_limit 150)" "$java" "${flags[@]}" -jar "$b/junit-platform-console-standalone.jar" execute \
        --class-path "$b/models-test-classes$jars" --select-class dev.tessera.models.train.CudaTrainingTest \
        --details=tree --disable-banner --fail-if-no-tests || status=$?

    echo "== GEMM: Tessera (cuBLAS through FFM) beside torch.matmul (cuBLAS)"
    if ((gpu)); then
        peer 60 "$java" "${flags[@]}" -cp "$cp" dev.tessera.gpu.GemmFigure 4096
    fi
    if torch_cuda; then
        gemm_vs_cublas
    else
        echo "skipped torch.matmul: $python has no torch with CUDA"
    fi

    echo "== training step: Tessera beside PyTorch"
    if ((gpu)); then
        local preset
        for preset in "tiny --steps 5 --warmup 2" "gpt2 --steps 2 --warmup 1"; do
            # shellcheck disable=SC2086 # preset carries its own options
            peer 120 "$java" "${flags[@]}" -XX:+UseG1GC -Xms256m -XX:G1HeapRegionSize=1m -XX:GCTimeRatio=4 -cp "$cli" dev.tessera.models.cli.Tessera bench train --device cuda --preset $preset
        done
    fi
    local ref="$b/ref/torch_llama_step.py"
    if [[ ! -f "$ref" ]]; then
        echo "skipped PyTorch step: no torch_llama_step.py in $b/ref (shared/ref was absent at prepare)"
    elif ! torch_cuda; then
        echo "skipped PyTorch step: $python has no torch with CUDA"
    else
        peer 60 "$python" "$ref" --device cuda --preset tiny --dtype fp32 --steps 5
        peer 90 "$python" "$ref" --device cuda --preset gpt2 --dtype fp32 --steps 5
        peer 90 "$python" "$ref" --device cuda --preset gpt2 --dtype bf16 --steps 5
    fi
    echo "== done in ${SECONDS}s (budget ${budget}s); JUnit exit status $status"
    return "$status"
}

case "$mode" in
    prepare) prepare ;;
    run) run "${2:-}" ;;
    all) prepare && run ;;
    *) echo "usage: $0 [prepare|run [BUNDLE_DIR]|all]" >&2; exit 2 ;;
esac
