package broker

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/courier-mq/courier/internal/meta"
)

// Group state in the metadata store, per partition P of group G on
// stream S (the layout table is in internal/meta's doc). All writes are
// deferred, so a crash can forget the last few milliseconds of acks;
// those messages are delivered again:
//
//	cursor/S/G/P/"floor"           every offset below is settled
//	cursor/S/G/P/"acked"/<offset>  a settled offset above the floor
//	cursor/S/G/P/"dlv"/<offset>    delivery count of an unsettled message,
//	                               and when it may be redelivered (after a
//	                               nack delay or backoff), in Unix ms

func (g *group) cursorPrefix() []byte { return meta.Prefix(meta.NSCursor, g.cfg.Stream, g.cfg.Name) }

// partKeys are a partition's state keys, and the prefixes of its
// per-offset keys, built once: an ack writes a few keys.
type partKeys struct {
	floor, acked, dlv, handed []byte
}

func (g *group) newPart(i int) *gpart {
	return &gpart{idx: i, settled: map[int64]bool{}, dc: map[int64]dlvRecord{}, swept: map[int64]bool{},
		acks: ackSaver{stored: map[int64]struct{}{}},
		keys: partKeys{
			floor:  meta.Key(meta.NSCursor, g.cfg.Stream, g.cfg.Name, i, meta.CursorFloor),
			acked:  meta.Prefix(meta.NSCursor, g.cfg.Stream, g.cfg.Name, i, meta.CursorAcked),
			dlv:    meta.Prefix(meta.NSCursor, g.cfg.Stream, g.cfg.Name, i, meta.CursorDelivery),
			handed: meta.Key(meta.NSCursor, g.cfg.Stream, g.cfg.Name, i, meta.CursorHanded),
		}}
}

func (g *group) floorKey(part int) []byte { return g.parts[part].keys.floor }

func (g *group) ackKey(part int, off int64) []byte {
	return offsetKey(g.parts[part].keys.acked, off)
}

func (g *group) dcKey(part int, off int64) []byte {
	return offsetKey(g.parts[part].keys.dlv, off)
}

// offsetKey is prefix with an offset part: meta.Key(..., off).
func offsetKey(prefix []byte, off int64) []byte {
	return meta.AppendInt(append(make([]byte, 0, len(prefix)+meta.IntPartLen), prefix...), off)
}

func encInt(v int64) []byte { return meta.EncodeInt(v) }

func decInt(b []byte) int64 {
	v, _ := meta.DecodeInt(b)
	return v
}

// settleLocked marks one offset settled and moves the floor over every
// settled offset. persist is false for offsets every restart settles again
// by itself (filtered out, compaction gaps).
func (g *group) settleLocked(p *gpart, off int64, persist bool) {
	delete(p.swept, off)
	if off < p.floor {
		return
	}
	if off > p.floor {
		if !p.settled[off] {
			p.settled[off] = true
			if persist {
				g.ackLaterLocked(p, off)
			}
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
				g.unstoreAckLocked(p, o)
			}
		}
	}
	p.floor = to
	for p.settled[p.floor] {
		delete(p.settled, p.floor)
		g.unstoreAckLocked(p, p.floor)
		p.floor++
	}
	g.intBuf = meta.AppendIntValue(g.intBuf[:0], p.floor) // the store copies it
	g.deferSet(g.floorKey(p.idx), g.intBuf)
}

// dlvRecord is what a "dlv" record holds.
type dlvRecord struct {
	n         int
	notBefore int64 // Unix ms; 0 = at once
}

func (r dlvRecord) encode() []byte {
	b := binary.AppendVarint(nil, int64(r.n))
	return binary.AppendVarint(b, r.notBefore)
}

func decodeDlv(b []byte) dlvRecord {
	n, k := binary.Varint(b)
	if k <= 0 {
		return dlvRecord{}
	}
	nb, _ := binary.Varint(b[k:])
	return dlvRecord{n: int(n), notBefore: nb}
}

// saveDeliveries records e's delivery count, and the time before which it
// must not be delivered again.
func (g *group) saveDeliveries(e *entry, notBefore time.Time) {
	r := dlvRecord{n: e.deliveries}
	if !notBefore.IsZero() {
		r.notBefore = notBefore.UnixMilli()
	}
	g.deferSet(g.dcKey(e.part.idx, e.off), r.encode())
	e.recorded = true
}

// saveFirstDelivery records e's first delivery without a record of its
// own: it moves the partition's handed mark past e, so that after a
// restart e counts one delivery unless it was settled.
func (g *group) saveFirstDelivery(e *entry) {
	p := e.part
	if e.off < p.handed {
		return
	}
	p.handed = e.off + 1
	g.intBuf = meta.AppendIntValue(g.intBuf[:0], p.handed) // the store copies it
	g.deferSet(p.keys.handed, g.intBuf)
}

// forgetDeliveries deletes e's record, if it has one.
func (g *group) forgetDeliveries(e *entry) {
	if e.recorded {
		g.deferDelete(g.dcKey(e.part.idx, e.off))
		e.recorded = false
	}
}

// restoredDeliveries is what a restart knows of the deliveries of offset
// off of p: its record, or one delivery below the handed mark.
func restoredDeliveries(p *gpart, off int64) (dlvRecord, bool) {
	if r, ok := p.dc[off]; ok {
		return r, true
	}
	if off < p.handed {
		return dlvRecord{n: 1}, false
	}
	return dlvRecord{}, false
}

// loadState restores cursors, settled offsets and delivery counts.
func (g *group) loadState() error {
	return g.b.kv.Scan(g.cursorPrefix(), func(k, v []byte) error {
		_, parts, err := meta.DecodeKey(k)
		if err != nil || len(parts) < 4 {
			return fmt.Errorf("group %s: bad cursor key %q: %v", g.id(), k, err)
		}
		part, _ := parts[2].(int64)
		kind, _ := parts[3].(string)
		if part < 0 || int(part) >= len(g.parts) {
			return nil
		}
		p := g.parts[part]
		var off int64
		if len(parts) == 5 {
			off, _ = parts[4].(int64)
		}
		switch kind {
		case meta.CursorFloor:
			p.floor, p.next = decInt(v), decInt(v)
		case meta.CursorAcked:
			p.settled[off] = true
			p.acks.stored[off] = struct{}{}
		case meta.CursorDelivery:
			p.dc[off] = decodeDlv(v)
		case meta.CursorHanded:
			p.handed = decInt(v)
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

// deferSetNew is deferSet of a key that is not stored (see
// meta.SetDeferredNew).
func (g *group) deferSetNew(k, v []byte) {
	if err := g.b.kv.SetDeferredNew(k, v); err != nil {
		g.b.lg.Error("group state write failed", "group", g.id(), "err", err)
	}
}

func (g *group) deferDelete(k []byte) {
	if err := g.b.kv.DeleteDeferred(k); err != nil {
		g.b.lg.Error("group state write failed", "group", g.id(), "err", err)
	}
}
