package mqtt

import (
	"net/http"

	"github.com/coder/websocket"
)

// WebSocketHandler serves MQTT over WebSocket (subprotocol "mqtt", binary
// messages; MQTT packets may span or share messages). It serves each
// connection as a TCP one and returns when the connection ends.
// originPatterns are the allowed browser origins (host patterns, as
// websocket.AcceptOptions.OriginPatterns); none allows only same-origin
// pages (and non-browser clients, which send no Origin).
func (s *Server) WebSocketHandler(originPatterns ...string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{"mqtt"}, OriginPatterns: originPatterns})
		if err != nil {
			s.log.Info("mqtt: websocket upgrade failed", "remote", r.RemoteAddr, "err", err)
			return
		}
		if ws.Subprotocol() != "mqtt" { // [MQTT-6.0.0-3]
			ws.Close(websocket.StatusPolicyViolation, `the subprotocol must be "mqtt"`)
			return
		}
		c := s.serveConn(websocket.NetConn(s.ctx, ws, websocket.MessageBinary))
		if c != nil {
			<-c.done
		}
	})
}
