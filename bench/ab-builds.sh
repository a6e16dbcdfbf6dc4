#!/usr/bin/env bash
# Two builds of the node compared on both mesh paths, side by side in one run: each build runs a
# two-node mesh (a site holding the model m, and an entry whose own site lacks it, so its requests
# cross the event bus) on the same two sims answering at once. wrk -t1 -c32 drives, in interleaved
# rounds (the order alternating), each mesh's remote path (through its entry) and local path (its
# site directly), after WARMUP seconds of warm-up each; every line gives req/s and the CPU (user +
# system µs) and heap (KB) per request of each node, and the end the means per build and path.
# Two meshes of the same build can differ by several per cent on a shared machine: run it again
# with the jars swapped, and trust what holds both ways (CPU per request varies less than req/s).
# ARGS_A and ARGS_B add node options to one side, to compare settings of one build:
#   ARGS_A="--transport epoll" ARGS_B="--transport io_uring" bench/ab-builds.sh target/hive.jar target/hive.jar
# FLAGS_A and FLAGS_B add JVM flags to one side's nodes (FLAGS_B="-Xms48m -Xmn32m": a larger young
# generation); NODE_FLAGS still goes to both.
# PATHS=local measures the local path alone: no entry nodes, no remote rounds between the local ones.
#   usage: bench/ab-builds.sh JAR_A JAR_B [ROUNDS] [SECONDS] [WARMUP]   (defaults 6, 8, 40); needs
#   wrk, jstat (the JDK)
set -euo pipefail
jar_a=$(realpath "$1")
jar_b=$(realpath "$2")
rounds=${3:-6}
secs=${4:-8}
warmup=${5:-40}
read -r -a paths <<< "${PATHS:-remote local}"
both_flags=${NODE_FLAGS:-}
# shellcheck source=bench/wrk-common.sh
source "$(dirname "$0")/wrk-common.sh"

hive -jar "$jar_a" sim --port 12610 --models m --parallel 64 --tokens-per-second 0 --load-ms 0 \
  > "$work/sim.log" 2>&1 &
hive -jar "$jar_a" sim --port 12611 --models other --parallel 64 --tokens-per-second 0 --load-ms 0 \
  > "$work/sim-other.log" 2>&1 &
declare -A pid
for build in a b; do
  jar=$([ $build = a ] && echo "$jar_a" || echo "$jar_b")
  base=$([ $build = a ] && echo 12620 || echo 12640)
  read -r -a args <<< "$([ $build = a ] && echo "${ARGS_A:-}" || echo "${ARGS_B:-}")"
  NODE_FLAGS="$both_flags $([ $build = a ] && echo "${FLAGS_A:-}" || echo "${FLAGS_B:-}")"
  node "site-$build" $base 12610 "$jar" "ab-$build-$$" "${args[@]}"
  pid[site-$build]=$!
  await_model $base
  if [[ " ${paths[*]} " == *" remote "* ]]; then
    node "entry-$build" $((base + 10)) 12611 "$jar" "ab-$build-$$" --join "127.0.0.1:$((base + 1))" "${args[@]}"
    pid[entry-$build]=$!
    await_model $((base + 10))
  fi
done
port() { # BUILD PATH
  local base; base=$([ "$1" = a ] && echo 12620 || echo 12640)
  [ "$2" = remote ] && echo $((base + 10)) || echo "$base"
}
for build in a b; do for path in "${paths[@]}"; do measure "$(port $build $path)" "$warmup" > /dev/null; done; done
echo "A: $jar_a ${ARGS_A:-} ${FLAGS_A:-}"
echo "B: $jar_b ${ARGS_B:-} ${FLAGS_B:-}"
for r in $(seq 1 "$rounds"); do
  order=$( ((r % 2)) && echo "a b" || echo "b a")
  for path in "${paths[@]}"; do
    for build in $order; do
      if [ $path = remote ]; then procs="entry=${pid[entry-$build]} site=${pid[site-$build]}"; else procs="site=${pid[site-$build]}"; fi
      # shellcheck disable=SC2086
      printf 'round %d %s %-6s %s\n' "$r" "${build^^}" $path "$(measure "$(port $build $path)" "$secs" $procs)"
    done
  done
done | tee "$work/rounds.txt"
# Means per build and path: req/s, and user+system µs per request of each node.
awk '{ key = $3 " " $4; n[key]++; rps[key] += $5
       for (i = 7; i <= NF; i += 5) { split($(i + 1), us, "+"); cpu[key, $i] += us[1] + us[2]; names[key] = names[key] " " $i } }
     END { for (key in n) { split(key, k, " "); line = sprintf("mean %s %-6s %8.0f req/s", k[1], k[2], rps[key] / n[key])
             split(names[key], nm, " "); seen = ""
             for (j = 1; j in nm; j++) if (index(seen, " " nm[j] " ") == 0) { seen = seen " " nm[j] " "
               line = line sprintf("  %s %.1f µs", nm[j], cpu[key, nm[j]] / n[key]) }
             print line } }' "$work/rounds.txt" | sort
