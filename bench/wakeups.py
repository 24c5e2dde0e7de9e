#!/usr/bin/env python3
"""Goroutine wake-ups on a request/reply round trip, from a runtime trace.

Each round trip starts when the requester blocks waiting for its answer
(a goroutine parks with CALLER in its stack) and ends when it is made
runnable again. Every goroutine made runnable in between is one wake-up:
by the network poller (a socket became readable) or by another goroutine
(a hand-off). The script prints how many round trips had how many
wake-ups, and the chain of one typical round trip.

  go test -run '^$' -bench APIRequestLoop -benchtime 500x -trace /tmp/t.out ./bench/api/
  go tool trace -d=parsed /tmp/t.out > /tmp/t.txt
  bench/wakeups.py /tmp/t.txt 'requestStream).request'

For core NATS (bench/peers/nats, NetCoreRequestLoop), CALLER is
'nats%2ego.(*Conn).Request'.
"""
import collections
import re
import sys

HEAD = re.compile(r'^M=(-?\d+) P=(-?\d+) G=(-?\d+) StateTransition Time=(\d+) GoID=(\d+) (\w+)->(\w+)')


def parse(path):
    """Goroutine state transitions: [time, actor, goid, from, to, stack, proc]."""
    events, cur = [], None
    with open(path) as f:
        for line in f:
            m = HEAD.match(line)
            if m:
                cur = [int(m.group(4)), int(m.group(3)), int(m.group(5)), m.group(6), m.group(7), [], int(m.group(2))]
                events.append(cur)
            elif cur is not None and line.startswith('\t') and not line.startswith('\t\t'):
                cur[5].append(line.strip().split(' @ ')[0])
    events.sort(key=lambda e: e[0])
    return events


def name(stack):
    """A goroutine's name: the outermost frame that is not the runtime's or testing's."""
    for fn in reversed(stack):
        if not fn.startswith(('runtime.goexit', 'testing.', 'runtime.main', 'main.')):
            return fn.replace('github.com/courier-mq/courier/', '')
    return stack[0] if stack else '?'


def main():
    path, caller_fn = sys.argv[1], sys.argv[2]
    events = parse(path)
    names = collections.defaultdict(collections.Counter)
    for e in events:
        if e[3] == 'Running' and e[4] == 'Waiting' and e[5]:
            names[e[2]][name(e[5])] += 1

    def gname(g):
        return names[g].most_common(1)[0][0] if names[g] else f'g{g}'

    trips, i = [], 0
    while i < len(events):
        e = events[i]
        if e[3] == 'Running' and e[4] == 'Waiting' and any(caller_fn in fn for fn in e[5]):
            caller, t0, j, seq = e[2], e[0], i + 1, []
            while j < len(events) and not (events[j][2] == caller and events[j][4] == 'Runnable'):
                x = events[j]
                if x[3] == 'Waiting' and x[4] == 'Runnable':
                    seq.append((x[0] - t0, x[1], x[2]))
                j += 1
            if j < len(events):
                seq.append((events[j][0] - t0, events[j][1], caller))
                trips.append(seq)
            i = j
        i += 1
    if not trips:
        sys.exit('no round trip found: is CALLER in the requester\'s stack?')
    counts = collections.Counter(len(t) for t in trips)
    print(f'{len(trips)} round trips; wake-ups per round trip (wake-ups: round trips):', sorted(counts.items()))
    typical = counts.most_common(1)[0][0]
    trip = [t for t in trips if len(t) == typical][len(trips) // 4:][:1] or [t for t in trips if len(t) == typical][:1]
    print(f'a round trip with {typical}:')
    for at, actor, g in trip[0]:
        by = 'network' if actor < 0 else gname(actor)
        print('%9.1f us  %-50s wakes %s' % (at / 1000, by, gname(g)))


if __name__ == '__main__':
    main()
