package broker

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
)

// Group state in the metadata store, per partition P of group G on
// stream S (all writes deferred, so a crash can forget the last few
// milliseconds of acks; those messages are delivered again):
//
//	gstate/S/G/P/floor           every offset below is settled (8 bytes)
//	gstate/S/G/P/ack/<offset>    a settled offset above the floor
//	gstate/S/G/P/dc/<offset>     delivery count of an unsettled message

func (g *group) floorKey(part int) []byte {
	return []byte(fmt.Sprintf("%s%d/floor", g.prefix(), part))
}

func (g *group) ackKey(part int, off int64) []byte {
	return []byte(fmt.Sprintf("%s%d/ack/%020d", g.prefix(), part, off))
}

func (g *group) dcKey(part int, off int64) []byte {
	return []byte(fmt.Sprintf("%s%d/dc/%020d", g.prefix(), part, off))
}

func encInt(v int64) []byte { return binary.BigEndian.AppendUint64(nil, uint64(v)) }

func decInt(b []byte) int64 {
	if len(b) != 8 {
		return 0
	}
	return int64(binary.BigEndian.Uint64(b))
}

// settleLocked marks one offset settled and moves the floor over every
// settled offset. persist is false for offsets every restart settles again
// by itself (filtered out, compaction gaps).
func (g *group) settleLocked(p *gpart, off int64, persist bool) {
	if off < p.floor {
		return
	}
	if off > p.floor {
		p.settled[off] = true
		if persist {
			g.deferSet(g.ackKey(p.idx, off), nil)
		}
		return
	}
	g.advanceFloorLocked(p, off+1)
}

// settleRangeLocked settles [lo, hi) without persisting each offset.
func (g *group) settleRangeLocked(p *gpart, lo, hi int64) {
	if lo >= hi || hi <= p.floor {
		return
	}
	if lo <= p.floor {
		g.advanceFloorLocked(p, hi)
		return
	}
	for o := lo; o < hi; o++ {
		p.settled[o] = true
	}
}

// advanceFloorLocked moves the floor to at least to, then past every
// settled offset, and records it.
func (g *group) advanceFloorLocked(p *gpart, to int64) {
	if to > p.floor+1 { // a jump: drop settled offsets it passes
		for o := range p.settled {
			if o < to {
				delete(p.settled, o)
				g.deferDelete(g.ackKey(p.idx, o))
			}
		}
	}
	p.floor = to
	for p.settled[p.floor] {
		delete(p.settled, p.floor)
		g.deferDelete(g.ackKey(p.idx, p.floor))
		p.floor++
	}
	g.deferSet(g.floorKey(p.idx), encInt(p.floor))
}

func (g *group) saveDeliveries(e *entry) {
	g.deferSet(g.dcKey(e.part.idx, e.off), encInt(int64(e.deliveries)))
}

func (g *group) forgetDeliveries(e *entry) {
	if e.deliveries > 0 {
		g.deferDelete(g.dcKey(e.part.idx, e.off))
	}
}

// loadState restores cursors, settled offsets and delivery counts.
func (g *group) loadState() error {
	return g.b.kv.Scan([]byte(g.prefix()), func(k, v []byte) error {
		rest := strings.TrimPrefix(string(k), g.prefix())
		f := strings.Split(rest, "/")
		part, err := strconv.Atoi(f[0])
		if err != nil || part >= len(g.parts) {
			return nil
		}
		p := g.parts[part]
		switch {
		case len(f) == 2 && f[1] == "floor":
			p.floor, p.next = decInt(v), decInt(v)
		case len(f) == 3 && f[1] == "ack":
			off, _ := strconv.ParseInt(f[2], 10, 64)
			p.settled[off] = true
		case len(f) == 3 && f[1] == "dc":
			off, _ := strconv.ParseInt(f[2], 10, 64)
			p.dc[off] = int(decInt(v))
		}
		return nil
	})
}

// deferSet and deferDelete queue state writes. A failed write is logged:
// the group goes on, and a restart delivers again what it could not
// record (at-least-once).
func (g *group) deferSet(k, v []byte) {
	if err := g.b.kv.SetDeferred(k, v); err != nil {
		g.b.lg.Error("group state write failed", "group", g.id(), "err", err)
	}
}

func (g *group) deferDelete(k []byte) {
	if err := g.b.kv.DeleteDeferred(k); err != nil {
		g.b.lg.Error("group state write failed", "group", g.id(), "err", err)
	}
}
