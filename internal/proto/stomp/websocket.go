package stomp

import (
	"net/http"

	"github.com/coder/websocket"
)

// wsSubprotocols are the STOMP WebSocket subprotocols (those stomp.js
// and RabbitMQ Web-STOMP use); a client may also ask for none.
var wsSubprotocols = []string{"v12.stomp", "v11.stomp", "v10.stomp"}

// WebSocket returns an http.Handler serving STOMP over WebSocket. The
// client's text messages are read as one byte stream, so a message may
// hold any part of a frame or several; each frame (and heart-beat EOL)
// the server sends is one text message. Binary messages close the
// connection, and so does Shutdown (a WebSocket read cannot be
// interrupted without closing it, so there is no shutdown ERROR).
// Origins other than the request's host must be listed in
// Options.WebSocketOrigins.
func (s *Server) WebSocket() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: wsSubprotocols, OriginPatterns: s.opts.WebSocketOrigins})
		if err != nil {
			s.log.Debug("stomp: websocket accept", "remote", r.RemoteAddr, "err", err)
			return // Accept wrote the HTTP error
		}
		o := s.opts
		ws.SetReadLimit(int64(o.MaxBodyBytes + o.MaxHeaderBytes + 2*o.MaxLineBytes))
		if c := s.serveConn(websocket.NetConn(s.ctx, ws, websocket.MessageText)); c != nil {
			<-c.done
		}
	})
}
