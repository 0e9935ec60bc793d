#!/usr/bin/env bash
# Runs the GPU test suite (JUnit tag "gpu") on a machine with an NVIDIA driver, without Maven or
# network access there.
#
#   gpu/run-gpu-tests.sh prepare   # on a build machine with Maven access: compile, stage the test
#                                  # classpath + JUnit console launcher, jlink a small JRE, into
#                                  # gpu/target/gpu-bundle (copy that directory to the GPU machine)
#   gpu/run-gpu-tests.sh run [DIR] # on the GPU machine: run the suite from the bundle (default
#                                  # gpu/target/gpu-bundle); exit status is JUnit's
#   gpu/run-gpu-tests.sh           # both, on one machine
#
# Environment: JAVA_HOME (a JDK 25, for prepare), TESSERA_REQUIRE_GPU=1 to fail instead of skipping
# when CUDA is unavailable, and the usual CUDA lookup (-Dtessera.cuda.lib via JAVA_OPTS, CUDA_HOME).
# Kernels compile on first use into ~/.cache/tessera/cuda (override: JAVA_OPTS=-Dtessera.cuda.cache=DIR).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
bundle_default="$here/target/gpu-bundle"
mode="${1:-all}"

prepare() {
    : "${JAVA_HOME:?set JAVA_HOME to a JDK 25}"
    cd "$root"
    ./mvnw -q -B -ntp -DskipTests -pl gpu -am install
    ./mvnw -q -B -ntp -Pgpu-tests -pl gpu test-compile
    local b="$bundle_default"
    rm -rf "$b"
    mkdir -p "$b/lib"
    cp -r gpu/target/classes "$b/classes"
    cp -r gpu/target/test-classes "$b/test-classes"
    cp gpu/target/gpu-test-libs/*.jar "$b/lib/"
    cp gpu/target/gpu-test-libs/console/junit-platform-console-standalone.jar "$b/"
    cp "$here/run-gpu-tests.sh" "$b/"
    # a small runtime: the FFM API is in java.base; the launcher needs logging, management and XML
    "$JAVA_HOME/bin/jlink" --add-modules java.base,java.logging,java.management,java.xml,java.naming,jdk.incubator.vector,jdk.unsupported,jdk.zipfs \
        --strip-debug --no-header-files --no-man-pages --output "$b/jre"
    echo "bundle ready: $b"
}

run() {
    local b="${1:-$bundle_default}"
    [[ -f "$b/junit-platform-console-standalone.jar" ]] || { echo "no bundle at $b (run: $0 prepare)" >&2; exit 2; }
    local java="$b/jre/bin/java"
    [[ -x "$java" ]] || java="${JAVA_HOME:+$JAVA_HOME/bin/}java"
    local cp="$b/classes:$b/test-classes"
    for j in "$b"/lib/*.jar; do cp="$cp:$j"; done
    local flags=(--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED ${JAVA_OPTS:-})
    if ! "$java" "${flags[@]}" -cp "$cp" dev.tessera.gpu.GpuSupport; then
        if [[ "${TESSERA_REQUIRE_GPU:-0}" == 1 ]]; then
            exit 1
        fi
        echo "(the gpu tests will be reported as skipped)"
    fi
    "$java" "${flags[@]}" -jar "$b/junit-platform-console-standalone.jar" execute \
        --class-path "$cp" --select-package dev.tessera.gpu --include-tag gpu \
        --details=tree --disable-banner --fail-if-no-tests
}

case "$mode" in
    prepare) prepare ;;
    run) run "${2:-}" ;;
    all) prepare && run ;;
    *) echo "usage: $0 [prepare|run [BUNDLE_DIR]|all]" >&2; exit 2 ;;
esac
