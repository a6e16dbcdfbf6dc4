#!/usr/bin/env bash
# What TLS costs: the same two-node mesh twice on this machine, once in plaintext and once secured
# as shipped (HTTPS client port, mutual TLS on the event bus and the Hazelcast tunnel). Both check
# tokens, so the difference is TLS alone. wrk drives each target in interleaved rounds:
#   throughput at saturation (-c16) and latency of a lone client (-c1), keep-alive connections.
# Paths: local (the node's own site serves) and remote (the node forwards over the event bus).
# The JIT takes tens of seconds under load to settle (longest on the remote path), so every target
# is warmed up for WARMUP seconds before the measured rounds.
#   usage: bench/tls-cost.sh [ROUNDS] [SECONDS] [WARMUP]   (defaults 5, 5, 30); needs wrk, target/hive.jar
set -euo pipefail
rounds=${1:-5}
secs=${2:-5}
warmup=${3:-30}
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; [ -n "${KEEP:-}" ] && echo "logs kept in $work" || rm -rf "$work"' EXIT
# exec: the background job is then java itself, which the exit trap can stop.
hive() { exec java -Xmx1g -jar target/hive.jar "$@"; }

java -jar target/hive.jar certs --out "$work/pki" --nodes t1,t2 >/dev/null
head -c 48 /dev/urandom | base64 > "$work/jwt.secret"
token=$(java -jar target/hive.jar token --sub bench --secret-file "$work/jwt.secret")

hive sim --port 12010 --models m --tokens-per-second 0 --parallel 64 --load-ms 0 > "$work/sim1.log" 2>&1 &
hive sim --port 12011 --models other --tokens-per-second 0 --parallel 64 --load-ms 0 > "$work/sim2.log" 2>&1 &
common=(--event-loops 1 --jwt-secret-file "$work/jwt.secret" --max-inflight 4096)
tls() { echo --tls-cert "$work/pki/$1.crt" --tls-key "$work/pki/$1.key" --mesh-ca "$work/pki/ca.crt" \
  --mesh-cert "$work/pki/$1.crt" --mesh-key "$work/pki/$1.key"; }
hive node --name p1 --port 12101 --ollama http://127.0.0.1:12010 --cluster-name bench-plain \
  --cluster-port 15701 --bus-port 15801 "${common[@]}" > "$work/p1.log" 2>&1 &
hive node --name t1 --port 12201 --ollama http://127.0.0.1:12010 --cluster-name bench-tls \
  --cluster-port 15711 --bus-port 15811 "${common[@]}" $(tls t1) > "$work/t1.log" 2>&1 &
sleep 8
hive node --name p2 --port 12102 --ollama http://127.0.0.1:12011 --cluster-name bench-plain \
  --cluster-port 15702 --bus-port 15802 --join 127.0.0.1:15701 "${common[@]}" > "$work/p2.log" 2>&1 &
hive node --name t2 --port 12202 --ollama http://127.0.0.1:12011 --cluster-name bench-tls \
  --cluster-port 15712 --bus-port 15812 --join 127.0.0.1:15711 "${common[@]}" $(tls t2) > "$work/t2.log" 2>&1 &

cat > "$work/gen.lua" <<LUA
wrk.method = "POST"
wrk.body = '{"model":"m","prompt":"hi","stream":false,"options":{"num_predict":3}}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $token"
done = function(summary, latency, requests)
  io.write(string.format("RESULT %.1f %.3f %.3f %d\n", summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, summary.errors.status + summary.errors.connect
    + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
LUA
declare -A url=(
  [direct]=http://127.0.0.1:12010/api/generate
  [plain-local]=http://127.0.0.1:12101/api/generate
  [tls-local]=https://127.0.0.1:12201/api/generate
  [plain-remote]=http://127.0.0.1:12102/api/generate
  [tls-remote]=https://127.0.0.1:12202/api/generate
)
targets=(${TARGETS:-direct plain-local tls-local plain-remote tls-remote})
for t in "${targets[@]}"; do   # wait until every path answers 200, then warm up the JIT
  until [ "$(curl -sk -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" "${url[$t]}" \
      -d '{"model":"m","prompt":"hi","stream":false}')" = 200 ]; do sleep 1; done
  wrk -t1 -c16 -d"${warmup}s" -s "$work/gen.lua" "${url[$t]}" > /dev/null
done
for r in $(seq "$rounds"); do
  for t in "${targets[@]}"; do
    wrk -t1 -c16 -d"${secs}s" -s "$work/gen.lua" "${url[$t]}" | awk -v t="$t" '/^RESULT/ {print t, "sat", $2, $3, $4, $5}' >> "$work/results"
    wrk -t1 -c1 -d"${secs}s" -s "$work/gen.lua" "${url[$t]}" | awk -v t="$t" '/^RESULT/ {print t, "one", $2, $3, $4, $5}' >> "$work/results"
  done
done
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
printf '%-13s %12s %9s %9s %12s %9s %7s\n' target "req/s(c16)" "p50(c1)" "p99(c1)" "p50(c16)" "p99(c16)" errors
for t in "${targets[@]}"; do
  rps=$(awk -v t="$t" '$1==t && $2=="sat" {print $3}' "$work/results" | median)
  p50=$(awk -v t="$t" '$1==t && $2=="one" {print $4}' "$work/results" | median)
  p99=$(awk -v t="$t" '$1==t && $2=="one" {print $5}' "$work/results" | median)
  sp50=$(awk -v t="$t" '$1==t && $2=="sat" {print $4}' "$work/results" | median)
  sp99=$(awk -v t="$t" '$1==t && $2=="sat" {print $5}' "$work/results" | median)
  err=$(awk -v t="$t" '$1==t {s+=$6} END {print s+0}' "$work/results")
  printf '%-13s %12s %9s %9s %12s %9s %7s\n' "$t" "$rps" "$p50" "$p99" "$sp50" "$sp99" "$err"
done
echo "(median of $rounds interleaved rounds of ${secs}s; latencies in ms; keep-alive connections)"
