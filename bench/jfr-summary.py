"""Summarises `jfr print --events jdk.ExecutionSample` output for one thread group (default: the
event loops): samples by library, each counted under its first frame outside the JDK; the frames
with the most samples of their own; the mesh's methods counted inclusively.
usage: python3 bench/jfr-summary.py SAMPLES.txt [THREAD_NAME_PART]"""
import collections
import re
import sys

LIBRARIES = [('io.hivemesh', 'mesh'), ('io.netty', 'netty'), ('io.vertx', 'vertx'), ('com.fasterxml', 'jackson'),
             ('io.micrometer', 'micrometer'), ('com.hazelcast', 'hazelcast'), ('org.slf4j', 'logging'),
             ('org.apache.logging', 'logging')]


def library(frame):
    return next((name for prefix, name in LIBRARIES if frame.startswith(prefix)), None)


def main(path, thread):
    by_library, own, inclusive = collections.Counter(), collections.Counter(), collections.Counter()
    samples = 0
    for event in open(path).read().split('jdk.ExecutionSample {')[1:]:
        name = re.search(r'sampledThread = "([^"]*)"', event)
        if not name or thread not in name.group(1) or 'stackTrace = [' not in event:
            continue
        frames = re.findall(r'^\s+([\w$.<>]+)\(', event.split('stackTrace = [')[1], re.M)
        if not frames:
            continue
        samples += 1
        first = next((f for f in frames if library(f)), frames[0])
        by_library[library(first) or 'jdk only'] += 1
        own[first] += 1
        for f in set(frames):
            if f.startswith('io.hivemesh'):
                inclusive[f] += 1
    if not samples:
        sys.exit(f'no samples on threads named *{thread}* in {path}')
    print(f'{samples} samples on *{thread}* threads')
    for name, n in by_library.most_common():
        print(f'{100 * n / samples:5.1f} %  {name}')
    print('-- own samples (first frame outside the JDK), top 20')
    for frame, n in own.most_common(20):
        print(f'{100 * n / samples:5.1f} %  {frame}')
    print('-- the mesh, inclusive, top 25')
    for frame, n in inclusive.most_common(25):
        print(f'{100 * n / samples:5.1f} %  {frame}')


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else 'eventloop')
