#!/usr/bin/env bash
# Time to first chunk with `hive demo` running: direct to a sim, through the node beside it (local
# path), and through a node that must cross the event bus (remote path). Same model, same request,
# interleaved so that drift on a shared machine hits every path alike.
# Run it from the directory `hive demo` was started in: it uses the demo's CA and token.
#   usage: bench/demo-ttfc.sh [ROUNDS]   (default 100)
set -euo pipefail
rounds=${1:-100}
dir=${HIVE_DEMO_DIR:-hive-demo}
mesh=(--cacert "$dir/ca.crt" -H "Authorization: Bearer $(cat "$dir/token")")
body='{"model":"mistral","prompt":"hi","options":{"num_predict":1}}'
declare -A url=(
  [direct]=http://127.0.0.1:11511/api/generate      # workstation's sim
  [local]=https://127.0.0.1:11501/api/generate      # workstation's node: its own site serves
  [remote]=https://127.0.0.1:11500/api/generate     # lab-gpu's node: forwards to workstation
)
tmp=$(mktemp -d)
for path in direct local remote; do curl -s -o /dev/null "${mesh[@]}" "${url[$path]}" -d "$body"; done  # warm up
# time_starttransfer minus time_appconnect: the wait for the answer, without curl's own TLS handshake.
for i in $(seq "$rounds"); do
  for path in direct local remote; do
    curl -s -o /dev/null "${mesh[@]}" -w '%{time_starttransfer} %{time_appconnect}\n' "${url[$path]}" -d "$body" \
      | awk '{printf "%.6f\n", $1 - $2}' >> "$tmp/$path"
  done
done
pct() { sort -n "$1" | awk -v p="$2" '{a[NR]=$1} END {i=int(NR*p); if (i<1) i=1; printf "%.2f", a[i]*1000}'; }
printf '%-7s %9s %9s   (ms, time to first chunk, %d requests each)\n' path p50 p99 "$rounds"
for path in direct local remote; do
  printf '%-7s %9s %9s\n' "$path" "$(pct "$tmp/$path" 0.5)" "$(pct "$tmp/$path" 0.99)"
done

# A mixed burst through cloud-vm's node, 8 at a time: llama3.2 lives on lab-gpu and workstation,
# qwen2.5:7b on lab-gpu and cloud-vm, nomic-embed-text on lab-gpu and cloud-vm, mistral on workstation.
for i in $(seq 40); do
  echo '/api/generate {"model":"llama3.2","prompt":"p'$i'","options":{"num_predict":20}}'
  echo '/api/generate {"model":"qwen2.5:7b","prompt":"q'$i'","options":{"num_predict":20}}'
  echo '/api/embed {"model":"nomic-embed-text","input":"e'$i'"}'
  echo '/api/chat {"model":"mistral","messages":[{"role":"user","content":"m'$i'"}],"options":{"num_predict":5}}'
done | HIVE_TOKEN=$(cat "$dir/token") CA="$dir/ca.crt" xargs -P 8 -d '\n' -n 1 sh -c \
  'curl -s -o /dev/null --cacert "$CA" -H "Authorization: Bearer $HIVE_TOKEN" -w "%{http_code}\n" "https://127.0.0.1:11502${0%% *}" -d "${0#* }"' \
  | sort | uniq -c | sed 's/^/  status /'
echo
echo "requests served per site since the demo started (from /hive/nodes):"
curl -s "${mesh[@]}" https://127.0.0.1:11500/hive/nodes | python3 -c 'import json,sys; [print("  %-12s served=%-5s models=%s" % (n["name"], n.get("served"), ",".join(n["models"]))) for n in json.load(sys.stdin)["nodes"]]'
rm -rf "$tmp"
