package api

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/httptrace"
	"strings"
	"testing"
)

// jsonAnswer is one plain HTTP/JSON exchange, as curl makes it.
type jsonAnswer struct {
	status int
	body   map[string]any
	reused bool // sent on a connection an earlier request used
	// challenge is the WWW-Authenticate header.
	challenge string
}

// postJSON posts body to path with Content-Type application/json over
// HTTP/1.1, like `curl -H 'Content-Type: application/json' -d body`.
func (e *testEnv) postJSON(t *testing.T, path, body string) jsonAnswer {
	t.Helper()
	return e.postJSONAuth(t, path, body, "")
}

// postJSONAuth is postJSON with an Authorization header (none when
// authorization is empty), like curl -u.
func (e *testEnv) postJSONAuth(t *testing.T, path, body, authorization string) jsonAnswer {
	t.Helper()
	var a jsonAnswer
	trace := &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) { a.reused = i.Reused }}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(testCtx(t), trace), "POST", e.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	res, err := e.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	a.status, a.challenge = res.StatusCode, res.Header.Get("WWW-Authenticate")
	if err := json.Unmarshal(raw, &a.body); err != nil {
		t.Fatalf("%s answered %d with %q: not JSON: %v", path, res.StatusCode, raw, err)
	}
	return a
}

// wantJSONErr checks a JSON error answer: status, code, a message starting
// with reason (when given), and the ErrorInfo detail.
func wantJSONErr(t *testing.T, a jsonAnswer, status int, code, reason string) {
	t.Helper()
	if a.status != status || a.body["code"] != code {
		t.Fatalf("answer %d %v, want %d %s", a.status, a.body, status, code)
	}
	msg, _ := a.body["message"].(string)
	if reason == "" {
		if msg == "" {
			t.Fatalf("error without a message: %v", a.body)
		}
		return
	}
	if !strings.HasPrefix(msg, reason+": ") {
		t.Fatalf("message %q does not start with %q", msg, reason)
	}
	ds, _ := a.body["details"].([]any)
	if len(ds) != 1 || ds[0].(map[string]any)["type"] != "courier.v1.ErrorInfo" {
		t.Fatalf("details %v, want one ErrorInfo", a.body["details"])
	}
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func TestAPIHTTPJSONPublishAndAdmin(t *testing.T) {
	e := startEnv(t, Options{})
	a := e.postJSON(t, "/courier.v1.AdminService/CreateStream",
		`{"config":{"name":"orders","subjects":["orders.>"],"maxMsgSize":100}}`)
	if a.status != 200 {
		t.Fatalf("create: %d %v", a.status, a.body)
	}
	cfg := a.body["stream"].(map[string]any)["config"].(map[string]any)
	if cfg["name"] != "orders" || cfg["maxMsgSize"] != float64(100) {
		t.Fatalf("create answered %v", a.body)
	}
	// Zero values are spelled out: offset "0", partition 0, duplicate false.
	for i, want := range []map[string]any{
		{"stream": "orders", "partition": float64(0), "offset": "0", "duplicate": false},
		{"stream": "orders", "partition": float64(0), "offset": "1", "duplicate": false}} {
		a = e.postJSON(t, "/courier.v1.MessagingService/Publish",
			`{"message":{"subject":"orders.eu","payload":"`+b64("hello")+`","headers":[{"key":"k","value":"v"}]}}`)
		if a.status != 200 || !maps.Equal(a.body, want) {
			t.Fatalf("publish %d: %d %v, want %v", i, a.status, a.body, want)
		}
	}
	a = e.postJSON(t, "/courier.v1.AdminService/ReadMessages", `{"stream":"orders","maxMessages":1}`)
	msgs := a.body["messages"].([]any)
	m := msgs[0].(map[string]any)
	if a.status != 200 || len(msgs) != 1 || a.body["nextOffset"] != "1" || m["payload"] != b64("hello") || m["subject"] != "orders.eu" {
		t.Fatalf("read: %d %v", a.status, a.body)
	}
	a = e.postJSON(t, "/courier.v1.AdminService/ListStreams", `{}`)
	if ss := a.body["streams"].([]any); a.status != 200 || len(ss) != 1 {
		t.Fatalf("list: %d %v", a.status, a.body)
	}
	a = e.postJSON(t, "/courier.v1.AdminService/CreateGroup", `{"config":{"name":"g","stream":"orders","ackWait":"30s"}}`)
	g := a.body["group"].(map[string]any)
	if a.status != 200 || g["kind"] != "courier" || g["lag"] != "2" || g["config"].(map[string]any)["ackWait"] != "30s" {
		t.Fatalf("create group: %d %v", a.status, a.body)
	}
	a = e.postJSON(t, "/courier.v1.AdminService/GetStream", `{"name":"nope"}`)
	wantJSONErr(t, a, 404, "not_found", "stream_not_found")
}

// TestAPIBadRequests sends each kind of bad request over one HTTP/1.1
// connection, checks the answer, and that the next request reuses the
// connection and succeeds.
func TestAPIBadRequests(t *testing.T) {
	e := startEnv(t, Options{MaxMessageBytes: 4 << 10})
	e.createStream(t, "orders", "orders.>")
	a := e.postJSON(t, "/courier.v1.AdminService/UpdateStream",
		`{"config":{"name":"orders","subjects":["orders.>"],"maxMsgSize":100}}`)
	if a.status != 200 {
		t.Fatalf("update: %d %v", a.status, a.body)
	}
	big := strings.Repeat("x", 200)
	huge := strings.Repeat("x", 8<<10)
	cases := []struct {
		name, path, body string
		status           int
		code, reason     string
	}{
		{"malformed JSON", "/courier.v1.MessagingService/Publish", `{"message":{"subject":`, 400, "invalid_argument", "invalid_argument"},
		{"wrong type", "/courier.v1.MessagingService/Publish", `{"message":{"subject":7}}`, 400, "invalid_argument", "invalid_argument"},
		// Unknown fields are ignored (newer clients, older servers).
		{"misspelt field", "/courier.v1.MessagingService/Publish", `{"mesage":{}}`, 400, "invalid_argument", "invalid_argument"},
		{"no message", "/courier.v1.MessagingService/Publish", `{}`, 400, "invalid_argument", "invalid_argument"},
		{"invalid subject", "/courier.v1.MessagingService/Publish", `{"message":{"subject":"orders..eu"}}`, 400, "invalid_argument", "invalid_argument"},
		{"wildcard subject", "/courier.v1.MessagingService/Publish", `{"message":{"subject":"orders.*"}}`, 400, "invalid_argument", "invalid_argument"},
		{"reserved header", "/courier.v1.MessagingService/Publish", `{"message":{"subject":"orders.eu","headers":[{"key":"courier-ttl","value":"1"}]}}`, 400, "invalid_argument", "reserved_header"},
		{"over the stream's max size", "/courier.v1.MessagingService/Publish", `{"message":{"subject":"orders.eu","payload":"` + b64(big) + `"}}`, 400, "invalid_argument", "message_too_large"},
		{"over the read bound", "/courier.v1.MessagingService/Publish", `{"message":{"subject":"orders.eu","payload":"` + b64(huge) + `"}}`, 429, "resource_exhausted", "request_too_large"},
		{"unknown stream", "/courier.v1.AdminService/GetStream", `{"name":"nope"}`, 404, "not_found", "stream_not_found"},
		{"unknown group", "/courier.v1.AdminService/GetGroup", `{"stream":"orders","name":"nope"}`, 404, "not_found", "group_not_found"},
		{"unknown stream read", "/courier.v1.AdminService/ReadMessages", `{"stream":"nope"}`, 404, "not_found", "stream_not_found"},
		{"bad stream config", "/courier.v1.AdminService/CreateStream", `{"config":{"name":"x y","subjects":["x"]}}`, 400, "invalid_argument", "invalid_argument"},
	}
	for i, c := range cases {
		a := e.postJSON(t, c.path, c.body)
		wantJSONErr(t, a, c.status, c.code, c.reason)
		if i > 0 && !a.reused {
			t.Errorf("%s: sent on a new connection", c.name)
		}
		ok := e.postJSON(t, "/courier.v1.MessagingService/Publish", `{"message":{"subject":"orders.eu"}}`)
		if ok.status != 200 || !ok.reused {
			t.Fatalf("after %s: %d %v (reused %v)", c.name, ok.status, ok.body, ok.reused)
		}
	}
	if n := e.api.Conns(); n != 1 {
		t.Errorf("%d connections, want 1", n)
	}
}

func TestAPIHTTPRoutes(t *testing.T) {
	e := startEnv(t, Options{Routes: map[string]http.Handler{
		"/healthz": http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, `{"ok":true}`) }),
	}})
	res, err := e.http.Get(e.url + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !bytes.Equal(body, []byte(`{"ok":true}`)) {
		t.Fatalf("healthz: %d %q", res.StatusCode, body)
	}
}
