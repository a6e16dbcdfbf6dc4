#!/usr/bin/env bash
# What one relayed request costs each process: CPU (user and system µs, from /proc/PID/stat) and heap
# allocated (KB, from the young collections jstat counts times the eden's size; 0 for nginx, which
# has no heap). One sim answering at once; nginx with one worker in front of it (the harness's
# settings); the bare Vert.x relay (io.hivemesh.bench.BareRelay, the nodes' JVM flags); a node on
# the local path; a second node whose site lacks the model, so its requests
# cross the event bus to the first (the remote path: both nodes' costs are shown). Every node has
# one event loop, no tokens, no access log and the harness's JVM flags (NODE_FLAGS adds more, to
# compare JVM settings). wrk -t1 -c32 drives each target in interleaved rounds with a small
# non-streaming /api/generate (STREAM=1: streaming) after WARMUP seconds of warm-up each.
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
hive "${flags[@]}" -cp target/hive.jar io.hivemesh.bench.BareRelay 12550 127.0.0.1:12510 > "$work/bare.log" 2>&1 &
bare=$!
node site 12520 12510 target/hive.jar "cost-$$"
site=$!
await_model 12520
node entry 12530 12511 target/hive.jar "cost-$$" --join 127.0.0.1:12521
entry=$!
await_model 12530
for _ in $(seq 1 40); do [ -s "$work/nginx.pid" ] && break; sleep 0.25; done
nginx_worker=$(pgrep -P "$(cat "$work/nginx.pid")")

targets=("nginx 12540 nginx=$nginx_worker sim=$sim" "bare 12550 bare=$bare sim=$sim" "local 12520 node=$site sim=$sim"
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
