#!/usr/bin/env bash
# Where one node's event loop spends its time: JFR method samples every millisecond on a node under
# wrk -t1 -c32 (the small non-streaming /api/generate; STREAM=1: streaming), after WARMUP seconds of
# warm-up, then a summary: samples by library (each under its first frame outside the JDK), the
# frames with the most samples of their own, and the mesh's methods counted inclusively. One sim
# answering at once; the node as the benchmarks run it. REMOTE=1 profiles an entry node whose own
# site lacks the model, so its requests cross the event bus. Shares of a few per cent predict
# little of what a change saves (docs/benchmark-rounds.md, the seventeenth round): measure that with
# bench/ab-builds.sh.
#   usage: bench/profile-node.sh [SECONDS] [WARMUP] [OUT.jfr]   (defaults 20, 30, a file in the
#   work directory, removed at exit unless KEEP=1); needs wrk, jcmd and jfr (the JDK), python3,
#   target/hive.jar
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
secs=${1:-20}
warmup=${2:-30}
out=${3:-}
[ -n "$out" ] && out=$(realpath -m "$out")
# shellcheck source=bench/wrk-common.sh
source "$here/wrk-common.sh"
[ -n "$out" ] || out="$work/node.jfr"

cat > "$work/samples.jfc" <<XML
<?xml version="1.0" encoding="UTF-8"?>
<configuration version="2.0">
  <event name="jdk.ExecutionSample"><setting name="enabled">true</setting><setting name="period">1 ms</setting></event>
</configuration>
XML
hive -jar target/hive.jar sim --port 12710 --models m --parallel 64 --tokens-per-second 0 --load-ms 0 \
  > "$work/sim.log" 2>&1 &
hive -jar target/hive.jar sim --port 12711 --models other --parallel 64 --tokens-per-second 0 --load-ms 0 \
  > "$work/sim-other.log" 2>&1 &
node site 12720 12710 target/hive.jar "profile-$$"
target=$!
port=12720
await_model 12720
if [ -n "${REMOTE:-}" ]; then
  node entry 12730 12711 target/hive.jar "profile-$$" --join 127.0.0.1:12721
  target=$!
  port=12730
  await_model 12730
fi
url="http://127.0.0.1:$port/api/generate"
wrk -t1 -c32 -d"${warmup}"s -s "$work/post.lua" "$url" > /dev/null
jcmd "$target" JFR.start name=profile settings="$work/samples.jfc" > /dev/null
wrk -t1 -c32 -d"${secs}"s -s "$work/post.lua" "$url" | awk '/Requests\/sec/ {print "recorded under " $2 " req/s"}'
jcmd "$target" JFR.dump name=profile filename="$out" > /dev/null
echo "recording: $out"
jfr print --events jdk.ExecutionSample --stack-depth 64 "$out" > "$work/samples.txt"
python3 "$here/jfr-summary.py" "$work/samples.txt"
