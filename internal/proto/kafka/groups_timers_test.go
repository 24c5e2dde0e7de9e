package kafka

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestKafkaGroupTimers drives the coordinator's timers with Kafka-sized
// timeouts on synctest's fake clock: the initial rebalance delay, session
// expiry, and the rebalance timeout of a member that does not rejoin.
func TestKafkaGroupTimers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := New(nil, Options{GroupInitialRebalanceDelay: 3 * time.Second})
		defer s.Close()
		c := &conn{s: s, ctx: context.Background()}
		join := func(id string) chan joinResult {
			m := &member{id: id, clientID: "c", protocolType: "consumer",
				protocols: []kmsg.JoinGroupRequestProtocol{{Name: "range"}},
				session:   10 * time.Second, rebalance: 20 * time.Second}
			var r joinResult
			var wait chan joinResult
			if !s.groups.do("g", true, func(g *group) { r, wait = g.join(m, false) }) {
				t.Fatal("no group")
			}
			if wait == nil {
				wait = make(chan joinResult, 1)
				wait <- r
			}
			return wait
		}
		ready := func(ch chan joinResult) (joinResult, bool) {
			synctest.Wait()
			select {
			case r := <-ch:
				return r, true
			default:
				return joinResult{}, false
			}
		}
		hb := func(id string, gen int32) int16 {
			req := kmsg.NewPtrHeartbeatRequest()
			req.Group, req.MemberID, req.Generation = "g", id, gen
			resp, _ := handleHeartbeat(c, req)
			return resp.(*kmsg.HeartbeatResponse).ErrorCode
		}

		// b joins 1 s into the 3 s initial delay, which it extends to 4 s.
		a := join("")
		time.Sleep(time.Second)
		b := join("")
		time.Sleep(2900 * time.Millisecond)
		if _, ok := ready(a); ok {
			t.Fatal("join completed within the initial delay")
		}
		time.Sleep(100 * time.Millisecond)
		ra, oka := ready(a)
		rb, okb := ready(b)
		if ra.leader != ra.memberID { // the leader (first id in order) is ra
			ra, rb = rb, ra
		}
		if !oka || !okb || ra.generation != 1 || rb.generation != 1 || ra.leader != ra.memberID || len(ra.members) != 2 {
			t.Fatalf("after the initial delay: %+v %v / %+v %v", ra, oka, rb, okb)
		}
		req := kmsg.NewPtrSyncGroupRequest()
		req.Group, req.MemberID, req.Generation = "g", ra.memberID, 1
		if resp, _ := handleSyncGroup(c, req); resp.(*kmsg.SyncGroupResponse).ErrorCode != 0 {
			t.Fatalf("leader sync: %+v", resp)
		}

		// The leader heartbeats, the follower does not: its session (10 s) ends.
		for range 9 {
			time.Sleep(time.Second)
			if code := hb(ra.memberID, 1); code != 0 {
				t.Fatalf("heartbeat while stable: %v", kerr.ErrorForCode(code))
			}
		}
		time.Sleep(1001 * time.Millisecond)
		if code := hb(rb.memberID, 1); code != kerr.UnknownMemberID.Code {
			t.Fatalf("b after its session: %v", kerr.ErrorForCode(code))
		}
		if code := hb(ra.memberID, 1); code != kerr.RebalanceInProgress.Code {
			t.Fatalf("a after b left: %v", kerr.ErrorForCode(code))
		}
		// a does not rejoin within the rebalance timeout (20 s), though it
		// heartbeats: it is removed and the group empties.
		for range 19 {
			time.Sleep(time.Second)
			hb(ra.memberID, 1)
		}
		synctest.Wait()
		if !s.groups.exists("g") {
			t.Fatal("a removed before the rebalance timeout")
		}
		time.Sleep(time.Second)
		synctest.Wait()
		if s.groups.exists("g") {
			t.Fatal("the group still has members after the rebalance timeout")
		}
	})
}
