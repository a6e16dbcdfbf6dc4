#!/usr/bin/env bash
# A node against nginx with a load generator written in C: one sim answering at once, nginx with one
# worker in front of it (the harness's settings: keepalive upstream, no buffering), and two nodes
# with one event loop each beside the same sim (local path, no tokens, no access log, the harness's
# JVM flags; NODE_B_FLAGS adds flags to the second, to compare JVM settings). wrk drives each
# target in interleaved rounds at saturation (32 connections) with a small non-streaming
# /api/generate; every target is warmed up first. The harness's own load generator is a JVM that
# takes CPU from every contender alike; wrk takes less, so the gap to nginx shows wider here.
#   usage: bench/wrk-vs-nginx.sh [ROUNDS] [SECONDS] [WARMUP]   (defaults 4, 8, 40); needs wrk, nginx,
#   target/hive.jar
set -euo pipefail
rounds=${1:-4}
secs=${2:-8}
warmup=${3:-40}
# shellcheck source=bench/wrk-common.sh
source "$(dirname "$0")/wrk-common.sh"

hive -jar target/hive.jar sim --port 12410 --models m --parallel 64 --tokens-per-second 0 --load-ms 0 \
  > "$work/sim.log" 2>&1 &
start_nginx 12410 12440
node a 12420 12410 target/hive.jar "wrk-a-$$"
NODE_FLAGS="${NODE_B_FLAGS:-}" node b 12430 12410 target/hive.jar "wrk-b-$$"
await_model 12420
await_model 12430

# req/s of one run; a run with error answers (cheaper than real ones) stops the script.
rate() {
  local out; out=$(wrk -t1 -c32 -d"$1"s -s "$work/post.lua" "http://127.0.0.1:$2/api/generate")
  if echo "$out" | grep -q 'Non-2xx\|Socket errors'; then echo "port $2 gave error answers: $out" >&2; kill $$; fi
  echo "$out" | awk '/Requests\/sec/ {print $2}'
}
for port in 12420 12430 12440; do rate "$warmup" $port > /dev/null; done

for r in $(seq 1 "$rounds"); do
  echo "$r $(rate "$secs" 12420) $(rate "$secs" 12430) $(rate "$secs" 12440)"
done | awk -v flags="${NODE_B_FLAGS:-none}" '
  { printf "round %d: node-a %8.0f  node-b %8.0f  nginx %8.0f req/s\n", $1, $2, $3, $4; a += $2; b += $3; n += $4 }
  END { printf "mean: node-a %.0f (%.2f x nginx)  node-b %.0f (%.2f x nginx; its extra flags: %s)  nginx %.0f req/s\n",
        a / NR, a / n, b / NR, b / n, flags, n / NR }'
