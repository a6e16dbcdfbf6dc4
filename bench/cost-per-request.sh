#!/usr/bin/env bash
# What one relayed request costs each process: CPU (user and system µs, from /proc/PID/stat) and heap
# allocated (KB, from the young collections jstat counts times the eden's size; 0 for nginx, which
# has no heap). One sim answering at once; nginx with one worker in front of it (the harness's
# settings); a node on the local path; a second node whose site lacks the model, so its requests
# cross the event bus to the first (the remote path: both nodes' costs are shown). Every node has
# one event loop, no tokens, no access log and the harness's JVM flags (NODE_FLAGS adds more, to
# compare JVM settings). wrk -t1 -c32 drives each target in interleaved rounds with a small
# non-streaming /api/generate after WARMUP seconds of warm-up each.
#   usage: bench/cost-per-request.sh [ROUNDS] [SECONDS] [WARMUP]   (defaults 3, 8, 30); needs wrk,
#   nginx, jstat (the JDK), target/hive.jar
set -euo pipefail
rounds=${1:-3}
secs=${2:-8}
warmup=${3:-30}
# shellcheck source=bench/wrk-common.sh
source "$(dirname "$0")/wrk-common.sh"

hive -jar target/hive.jar sim --port 12510 --models m --parallel 64 --tokens-per-second 0 --load-ms 0 \
  > "$work/sim.log" 2>&1 &
sim=$!
hive -jar target/hive.jar sim --port 12511 --models other --parallel 64 --tokens-per-second 0 --load-ms 0 \
  > "$work/sim-other.log" 2>&1 &
start_nginx 12510 12540
node() { # name port ollama-port extra-args...
  local name=$1 port=$2 ollama=$3; shift 3
  # shellcheck disable=SC2086
  hive "${flags[@]}" ${NODE_FLAGS:-} -jar target/hive.jar node --name "$name" --port "$port" \
    --ollama "http://127.0.0.1:$ollama" --cluster-name "cost-$$" --cluster-port $((port + 1)) --bus-port 0 \
    --parallel 64 --max-inflight 4096 --event-loops 1 --insecure-no-auth --access-log false "$@" \
    > "$work/$name.log" 2>&1 &
}
node site 12520 12510
site=$!
for _ in $(seq 1 240); do curl -s -m 1 127.0.0.1:12520/api/tags | grep -q '"m:latest"' && break; sleep 0.5; done
node entry 12530 12511 --join 127.0.0.1:12521
entry=$!
for _ in $(seq 1 240); do curl -s -m 1 127.0.0.1:12530/api/tags | grep -q '"m:latest"' && break; sleep 0.5; done
for _ in $(seq 1 40); do [ -s "$work/nginx.pid" ] && break; sleep 0.25; done
nginx_worker=$(pgrep -P "$(cat "$work/nginx.pid")")

cpu() { awk '{print $14 + 0, $15 + 0}' "/proc/$1/stat"; }
young() { # collections and eden KB; "0 0" for a process without a JVM heap
  jstat -gc "$1" 2>/dev/null | awk 'NR == 2 {print $13, $5}' || echo "0 0"
}
tick=$(getconf CLK_TCK)
# One wrk run against PORT; prints req/s, then "name user-µs sys-µs alloc-KB" for each name=PID.
measure() {
  local port=$1 run=$2; shift 2
  declare -A u0 s0 g0
  for np in "$@"; do local p=${np#*=}; read -r u0[$p] s0[$p] < <(cpu "$p"); read -r g0[$p] _ < <(young "$p"); done
  local out; out=$(wrk -t1 -c32 -d"$run"s -s "$work/post.lua" "http://127.0.0.1:$port/api/generate")
  local n; n=$(echo "$out" | awk '/requests in/ {print $1}')
  local line; line=$(printf '%8.0f req/s' "$(echo "$out" | awk '/Requests\/sec/ {print $2}')")
  for np in "$@"; do
    local name=${np%%=*} p=${np#*=} u s g eden
    read -r u s < <(cpu "$p"); read -r g eden < <(young "$p")
    line+=$(awk -v name="$name" -v du=$((u - u0[$p])) -v ds=$((s - s0[$p])) -v dg=$((g - g0[$p])) -v eden="$eden" \
      -v n="$n" -v tick="$tick" 'BEGIN { printf "  %s %.1f+%.1f µs %.1f KB", name, du * 1e6 / tick / n,
        ds * 1e6 / tick / n, dg * eden / n }')
  done
  echo "$line"
}
targets=("nginx 12540 nginx=$nginx_worker sim=$sim" "local 12520 node=$site sim=$sim"
  "remote 12530 entry=$entry site=$site sim=$sim")
for t in "${targets[@]}"; do read -r _ port _ <<< "$t"; measure "$port" "$warmup" > /dev/null; done
echo "per request: CPU user+system µs, heap allocated KB (whole young collections: a rough figure over short runs)"
for r in $(seq 1 "$rounds"); do
  for t in "${targets[@]}"; do
    read -r name port procs <<< "$t"
    # shellcheck disable=SC2086
    printf 'round %d %-7s %s\n' "$r" "$name" "$(measure "$port" "$secs" $procs)"
  done
done
