package stomp

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/coder/websocket"
	"github.com/go-stomp/stomp/v3"
)

// TestWebSocket runs go-stomp over a WebSocket (coder/websocket's
// NetConn on the client side too).
func TestWebSocket(t *testing.T) {
	e := startEnv(t, Options{})
	hs := httptest.NewServer(e.st.WebSocket())
	defer hs.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ws, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(hs.URL, "http"), &websocket.DialOptions{Subprotocols: []string{"v12.stomp"}})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Header.Get("Sec-WebSocket-Protocol") != "v12.stomp" {
		t.Errorf("subprotocol %q", resp.Header.Get("Sec-WebSocket-Protocol"))
	}
	c, err := stomp.Connect(websocket.NetConn(ctx, ws, websocket.MessageText))
	if err != nil {
		t.Fatal(err)
	}
	defer c.MustDisconnect()
	sub, err := c.Subscribe("/queue/ws", stomp.AckClientIndividual)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Send("/queue/ws", "text/plain", []byte("over websocket"), stomp.SendOpt.Receipt); err != nil {
		t.Fatal(err)
	}
	m := recv(t, sub)
	if string(m.Body) != "over websocket" || m.Destination != "/queue/ws" {
		t.Fatalf("got %q %s", m.Body, m.Destination)
	}
	if err := c.Ack(m); err != nil {
		t.Fatal(err)
	}
	if err := c.Disconnect(); err != nil {
		t.Fatal(err)
	}
	waitConns(t, e.st, 0)
}
