# Shared by the wrk scripts (sourced, not run): a work directory removed at exit (kept with KEEP=1),
# the harness's node JVM flags (Rig.NODE_JVM_FLAGS), nginx set up as the harness sets it up, a node
# as the benchmarks run it, the small /api/generate they all send (non-streaming; STREAM=1: streaming), and the measure of
# what one request costs each process.

cd "$(dirname "${BASH_SOURCE[0]}")/.."
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; [ -n "${KEEP:-}" ] && echo "logs kept in $work" || rm -rf "$work"' EXIT
flags=(-XX:+UseSerialGC -Xss512k -Xms48m -Xmn32m -Xmx256m -XX:ReservedCodeCacheSize=64m -XX:MaxMetaspaceSize=128m
  -XX:MaxDirectMemorySize=128m)
# exec: the background job is then java itself, which the exit trap can stop.
hive() { exec java "$@"; }

# nginx with one worker on LISTEN in front of the sim on SIM: keepalive upstream, no buffering.
start_nginx() { # SIM LISTEN
  cat > "$work/nginx.conf" <<EOF
worker_processes 1;
daemon off;
error_log $work/nginx-error.log;
pid $work/nginx.pid;
events { worker_connections 4096; }
http {
  access_log off;
  upstream sim { server 127.0.0.1:$1; keepalive 64; }
  server {
    listen 127.0.0.1:$2;
    keepalive_requests 1000000;
    location / {
      proxy_pass http://sim;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      # The sim, like Ollama on loopback, answers 403 to a Host that is not local (nginx would send "sim").
      proxy_set_header Host \$http_host;
      proxy_buffering off;
      proxy_request_buffering off;
    }
  }
}
EOF
  /usr/sbin/nginx -c "$work/nginx.conf" &
}

# STREAM=1 sends the overhead scenario's streaming request instead (10 tokens, 12 chunks).
if [ -n "${STREAM:-}" ]; then body='{"model":"m","prompt":"hello","stream":true,"options":{"num_predict":10}}'
else body='{"model":"m","prompt":"hello","stream":false,"options":{"num_predict":1}}'; fi
echo "wrk.method = \"POST\"
wrk.body = [[$body]]
wrk.headers[\"Content-Type\"] = \"application/json\"" > "$work/post.lua"

# A node as the benchmarks run it (one event loop, no tokens, no access log, the harness's JVM flags
# plus NODE_FLAGS), the site of the sim on OLLAMA_PORT, in the cluster CLUSTER; its log in the work directory.
node() { # NAME PORT OLLAMA_PORT JAR CLUSTER extra-args...
  local name=$1 port=$2 ollama=$3 jar=$4 cluster=$5; shift 5
  # shellcheck disable=SC2086
  hive "${flags[@]}" ${NODE_FLAGS:-} -jar "$jar" node --name "$name" --port "$port" \
    --ollama "http://127.0.0.1:$ollama" --cluster-name "$cluster" --cluster-port $((port + 1)) --bus-port 0 \
    --parallel 64 --max-inflight 4096 --event-loops 1 --insecure-no-auth --access-log false "$@" \
    > "$work/$name.log" 2>&1 &
}

# Waits until the node on PORT lists the model m (its own or a peer's): up and in the mesh.
await_model() { # PORT
  for _ in $(seq 1 240); do curl -s -m 1 "127.0.0.1:$1/api/tags" | grep -q '"m:latest"' && return; sleep 0.5; done
  echo "the node on port $1 did not come up; its log is in $work" >&2
  exit 1
}

cpu() { awk '{print $14 + 0, $15 + 0}' "/proc/$1/stat"; }
young() { # collections and eden KB; "0 0" for a process without a JVM heap
  jstat -gc "$1" 2>/dev/null | awk 'NR == 2 {print $13, $5}' || echo "0 0"
}
tick=$(getconf CLK_TCK)
# One wrk run against PORT; prints req/s, then "name user-µs sys-µs alloc-KB" for each name=PID.
measure() { # PORT SECONDS name=PID...
  local port=$1 run=$2; shift 2
  declare -A u0 s0 g0
  for np in "$@"; do local p=${np#*=}; read -r u0[$p] s0[$p] < <(cpu "$p"); read -r g0[$p] _ < <(young "$p"); done
  local out; out=$(wrk -t1 -c32 -d"$run"s -s "$work/post.lua" "http://127.0.0.1:$port/api/generate")
  local n; n=$(echo "$out" | awk '/requests in/ {print $1}')
  local line; line=$(printf '%8.0f req/s' "$(echo "$out" | awk '/Requests\/sec/ {print $2}')")
  # An error answer is cheaper than a real one: a run with any is not a measure of relaying.
  local bad; bad=$(echo "$out" | awk '/Non-2xx/ {print $NF} /Socket errors/ {print "socket-errors"}')
  [ -z "$bad" ] || line+="  FAILED ANSWERS: $bad"
  for np in "$@"; do
    local name=${np%%=*} p=${np#*=} u s g eden
    read -r u s < <(cpu "$p"); read -r g eden < <(young "$p")
    line+=$(awk -v name="$name" -v du=$((u - u0[$p])) -v ds=$((s - s0[$p])) -v dg=$((g - g0[$p])) -v eden="$eden" \
      -v n="$n" -v tick="$tick" 'BEGIN { printf "  %s %.1f+%.1f µs %.1f KB", name, du * 1e6 / tick / n,
        ds * 1e6 / tick / n, dg * eden / n }')
  done
  echo "$line"
}
