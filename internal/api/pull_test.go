package api

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/courier-mq/courier/server"
)

// fetchJSON posts a Fetch over HTTP/1.1 JSON and returns the session and
// the deliveries' ids and payloads (base64 in JSON).
func (e *testEnv) fetchJSON(t *testing.T, body string) (session string, ids []string, payloads []string) {
	t.Helper()
	a := e.postJSON(t, "/courier.v1.MessagingService/Fetch", body)
	if a.status != http.StatusOK {
		t.Fatalf("fetch %s: %d %v", body, a.status, a.body)
	}
	session, _ = a.body["session"].(string)
	ds, _ := a.body["deliveries"].([]any)
	for _, d := range ds {
		dm := d.(map[string]any)
		ids = append(ids, dm["deliveryId"].(string))
		msg := dm["message"].(map[string]any)
		p, err := base64.StdEncoding.DecodeString(msg["payload"].(string))
		if err != nil {
			t.Fatal(err)
		}
		payloads = append(payloads, string(p))
	}
	return session, ids, payloads
}

// A pull consumer over plain HTTP/1.1 JSON, as curl would be one: fetch
// opens a session, later fetches continue it, settle answers each id.
func TestAPIPullOverHTTP1(t *testing.T) {
	e := startEnv(t, Options{})
	e.jobsGroup(t)
	session, ids, _ := e.fetchJSON(t, `{"stream":"jobs","group":"w"}`)
	if session == "" || len(ids) != 0 {
		t.Fatalf("first fetch of an empty group: session %q, %d deliveries", session, len(ids))
	}
	e.publishN(t, "jobs.a", 3)
	_, ids, payloads := e.fetchJSON(t, fmt.Sprintf(`{"session":%q,"maxMessages":2}`, session))
	if len(ids) != 2 || payloads[0] != "m0" || payloads[1] != "m1" {
		t.Fatalf("fetch of 2: %v %v", ids, payloads)
	}
	_, more, payloads := e.fetchJSON(t, fmt.Sprintf(`{"session":%q,"maxMessages":10,"wait":"1s"}`, session))
	if len(more) != 1 || payloads[0] != "m2" {
		t.Fatalf("fetch of the rest: %v %v", more, payloads)
	}
	a := e.postJSON(t, "/courier.v1.MessagingService/Settle", fmt.Sprintf(
		`{"session":%q,"settle":{"deliveryId":%q,"action":"ACTION_ACK","moreDeliveryIds":[%q,%q,"99"]}}`,
		session, ids[0], ids[1], more[0]))
	settled, _ := a.body["settled"].([]any)
	if a.status != http.StatusOK || len(settled) != 4 {
		t.Fatalf("settle: %d %v", a.status, a.body)
	}
	for i, s := range settled {
		errv := s.(map[string]any)["error"]
		if (i < 3) != (errv == nil) {
			t.Fatalf("settled %d: %v (want an error only for the unknown id 99)", i, s)
		}
	}
	if gi := e.jobsInfo(t); gi.Acked != 3 || gi.InFlight != 0 || gi.Members != 1 {
		t.Fatalf("group after the acks: %+v", gi)
	}
}

// A Fetch that waits returns as soon as a message arrives.
func TestAPIPullFetchWaits(t *testing.T) {
	e := startEnv(t, Options{})
	e.jobsGroup(t)
	session, _, _ := e.fetchJSON(t, `{"stream":"jobs","group":"w"}`)
	got := make(chan []string, 1)
	go func() {
		_, _, payloads := e.fetchJSON(t, fmt.Sprintf(`{"session":%q,"wait":"30s"}`, session))
		got <- payloads
	}()
	select {
	case p := <-got:
		t.Fatalf("a fetch waiting 30 s returned %v before any message", p)
	default:
	}
	e.publishN(t, "jobs.a", 1)
	select {
	case p := <-got:
		if len(p) != 1 || p[0] != "m0" {
			t.Fatalf("waiting fetch got %v", p)
		}
	case <-testCtx(t).Done():
		t.Fatal("the waiting fetch did not return when a message arrived")
	}
}

// Bad sessions and arguments get their codes; an idle session ends and
// gives its deliveries back to the group.
func TestAPIPullErrorsAndIdleEnd(t *testing.T) {
	e := startEnv(t, Options{pullIdle: 50 * time.Millisecond})
	if _, err := e.srv.CreateStream(server.StreamConfig{Name: "jobs", Subjects: []string{"jobs.>"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.srv.CreateGroup(server.GroupConfig{Name: "w", Stream: "jobs", AckWait: time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	wantJSONErr(t, e.postJSON(t, "/courier.v1.MessagingService/Fetch", `{"session":"nope"}`), 404, "not_found", "session_not_found")
	wantJSONErr(t, e.postJSON(t, "/courier.v1.MessagingService/Fetch", `{"stream":"jobs","group":"nope"}`), 404, "not_found", "group_not_found")
	wantJSONErr(t, e.postJSON(t, "/courier.v1.MessagingService/Fetch", `{"stream":"jobs","group":"w","maxMessages":5000}`), 400, "invalid_argument", "invalid_argument")
	wantJSONErr(t, e.postJSON(t, "/courier.v1.MessagingService/Settle", `{"session":"nope","settle":{"deliveryId":"1","action":"ACTION_ACK"}}`), 404, "not_found", "session_not_found")
	e.publishN(t, "jobs.a", 1)
	session, ids, _ := e.fetchJSON(t, `{"stream":"jobs","group":"w","wait":"5s"}`)
	if len(ids) != 1 {
		t.Fatalf("fetched %v", ids)
	}
	wantJSONErr(t, e.postJSON(t, "/courier.v1.MessagingService/Fetch", fmt.Sprintf(`{"session":%q,"stream":"other"}`, session)), 400, "invalid_argument", "invalid_argument")
	waitFor(t, "the idle session's end", func() bool { // its delivery goes back
		gi := e.jobsInfo(t)
		return gi.Members == 0 && gi.InFlight == 0
	})
	wantJSONErr(t, e.postJSON(t, "/courier.v1.MessagingService/Fetch", fmt.Sprintf(`{"session":%q}`, session)), 404, "not_found", "session_not_found")
	_, ids, payloads := e.fetchJSON(t, `{"stream":"jobs","group":"w","wait":"5s"}`)
	if len(ids) != 1 || payloads[0] != "m0" {
		t.Fatalf("after the idle end, a new session got %v %v", ids, payloads)
	}
}

// An idle session is offered nothing: a message published while it does
// not fetch goes to the session that does.
func TestAPIPullIdleSessionHoardsNothing(t *testing.T) {
	e := startEnv(t, Options{})
	e.jobsGroup(t)
	idle, _, _ := e.fetchJSON(t, `{"stream":"jobs","group":"w"}`)
	busy, _, _ := e.fetchJSON(t, `{"stream":"jobs","group":"w"}`)
	if idle == busy {
		t.Fatal("two sessions with one name")
	}
	for i := range 3 {
		e.publishN(t, "jobs.a", 1)
		_, ids, payloads := e.fetchJSON(t, fmt.Sprintf(`{"session":%q,"wait":"5s"}`, busy))
		if len(ids) != 1 || payloads[0] != "m0" {
			t.Fatalf("round %d: the fetching session got %v", i, payloads)
		}
		a := e.postJSON(t, "/courier.v1.MessagingService/Settle", fmt.Sprintf(
			`{"session":%q,"settle":{"deliveryId":%q,"action":"ACTION_ACK"}}`, busy, ids[0]))
		if a.status != http.StatusOK {
			t.Fatalf("settle: %v", a.body)
		}
	}
	if gi := e.jobsInfo(t); gi.Acked != 3 || gi.Members != 2 {
		t.Fatalf("group %+v", gi)
	}
}
