package mqtt

import (
	"net"
	"net/http"
	"testing"

	"github.com/coder/websocket"
)

// TestWebSocket: a 3.1.1 client over ws:// talks to a TCP client.
func TestWebSocket(t *testing.T) {
	e := startEnv(t, Options{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: e.m.WebSocketHandler()}
	go hs.Serve(ln)
	defer hs.Close()

	in := newInbox()
	tcp := e.v3(t, "tcp", true)
	mustTok(t, tcp.Subscribe("ws/+", 1, in.v3handler))
	wsEnv := &testEnv{addr: ln.Addr().String()}
	ws := wsEnv.v3ws(t, "ws")
	mustTok(t, ws.Publish("ws/hello", 1, false, []byte("over websocket")))
	if r := in.wait(t, 1)[0]; r.topic != "ws/hello" || r.payload != "over websocket" {
		t.Fatalf("got %+v", r)
	}
	in2 := newInbox()
	mustTok(t, ws.Subscribe("back", 1, in2.v3handler))
	mustTok(t, tcp.Publish("back", 1, false, []byte("to websocket")))
	in2.wait(t, 1)

	// Without the subprotocol the upgrade is refused.
	c, _, err := websocket.Dial(testCtx(t), "ws://"+ln.Addr().String()+"/", nil)
	if err == nil {
		_, _, err = c.Read(testCtx(t))
		if websocket.CloseStatus(err) != websocket.StatusPolicyViolation {
			t.Fatalf("no subprotocol: %v", err)
		}
	}
}
