# Shared by the wrk scripts (sourced, not run): a work directory removed at exit (kept with KEEP=1),
# the harness's node JVM flags (Rig.NODE_JVM_FLAGS), nginx set up as the harness sets it up, and
# the small non-streaming /api/generate they all send.

cd "$(dirname "${BASH_SOURCE[0]}")/.."
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; [ -n "${KEEP:-}" ] && echo "logs kept in $work" || rm -rf "$work"' EXIT
flags=(-XX:+UseSerialGC -Xss512k -Xms16m -Xmx256m -XX:ReservedCodeCacheSize=64m -XX:MaxMetaspaceSize=128m
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
    location / {
      proxy_pass http://sim;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
      proxy_request_buffering off;
    }
  }
}
EOF
  /usr/sbin/nginx -c "$work/nginx.conf" &
}

echo 'wrk.method = "POST"
wrk.body = [[{"model":"m","prompt":"hello","stream":false,"options":{"num_predict":1}}]]
wrk.headers["Content-Type"] = "application/json"' > "$work/post.lua"
