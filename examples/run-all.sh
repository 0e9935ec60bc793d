#!/usr/bin/env bash
# Builds and runs every example against the installed artifacts, as an application would use them:
#   examples/run-all.sh
# 1. installs Tessera (BOM, parent, tensor, autograd, nn, gpu, models) into a private local
#    repository, target/examples/m2, which reads every other artifact from ~/.m2/repository without
#    writing there (Maven 3.9's maven.repo.local.tail): ~/.m2/repository/dev/tessera is never made;
# 2. builds each example with that repository, so it sees only what was installed;
# 3. runs each with exactly the JVM flags a user's java command needs (README: "Embedding Tessera").
# ./tessera test runs this after the test suite (TESSERA_EXAMPLES=off skips it). Maven options such as
# -o (offline) go in MAVEN_ARGS.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
. "$root/.ci/find-jdk"
repo="$root/target/examples/m2"
home_repo="$HOME/.m2/repository"
# the version being installed: the BOM's own <version>, the first one in its POM
version=$(sed -n 's:^  <version>\(.*\)</version>$:\1:p' "$root/bom/pom.xml" | head -n 1)
mvn=("$root/mvnw" -B -ntp -q -nsu -Dmaven.repo.local="$repo" -Dmaven.repo.local.tail="$home_repo")
had_home_tessera=$([ -e "$home_repo/dev/tessera" ] && echo yes || echo no)

start=$SECONDS
# -Dtessera.javadoc: the artifacts a release publishes (jar, sources, javadoc), unsigned; this is the
# build's one run of javadoc, so a doc comment javadoc rejects fails CI, not the next release
"${mvn[@]}" -f "$root/pom.xml" -pl '!bench' -Dmaven.test.skip=true -Dtessera.javadoc install

build() { "${mvn[@]}" -f "$root/examples/$1/pom.xml" -Dtessera.version="$version" -Dmaven.test.skip=true clean package; }
java=("$JAVA_HOME/bin/java")

# (a) MLP, on the module path: its module-info requires dev.tessera.nn, which brings autograd, tensor
#     and jdk.incubator.vector along; no --add-modules needed
build mlp
( cd "$root/examples/mlp" && "${java[@]}" -p target/tessera-example-mlp-1.0.jar:target/lib -m example.mlp/example.mlp.Main )

# (b) a text-generation service over a Hugging Face checkpoint, on the class path: the Vector API
#     must be added by hand; --enable-native-access because models brings the CUDA backend (gpu)
build hf-service
( cd "$root/examples/hf-service" && "${java[@]}" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
    -cp "target/tessera-example-hf-service-1.0.jar:target/lib/*" example.service.Main \
    "$root/models/src/test/resources/hf-fixtures/llama-gqa" )

# (c) a custom autograd function, on the class path (tensor + autograd only: no native access)
build custom-function
( cd "$root/examples/custom-function" && "${java[@]}" --add-modules jdk.incubator.vector \
    -cp "target/tessera-example-custom-function-1.0.jar:target/lib/*" example.custom.Main )

# what the artifacts pull into an application at run time: no test framework (a dependency that
# declares one in compile scope must be excluded in Tessera's POMs)
leaked=$(cd "$root/examples" && ls */target/lib | grep -E '^(junit|opentest4j|apiguardian|jqwik)' | sort -u || true)
if [ -n "$leaked" ]; then
  echo "examples: test libraries on an application's runtime class path: $(echo $leaked)" >&2
  exit 1
fi

if [ "$had_home_tessera" = no ] && [ -e "$home_repo/dev/tessera" ]; then
  rm -rf "$home_repo/dev/tessera"
  echo "examples: $home_repo/dev/tessera appeared during the run (only target/examples/m2 may hold Tessera); removed it" >&2
  exit 1
fi
echo "examples: built and ran mlp, hf-service and custom-function against Tessera $version in $((SECONDS - start)) s"
echo "examples: 3 passed, 0 failed"
