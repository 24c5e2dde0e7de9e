package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/courier-mq/courier/client"
)

// toMessageJSON converts a message for JSON output.
func toMessageJSON(m *client.Message) messageJSON {
	j := messageJSON{Subject: m.Subject, Stream: m.Stream, Partition: m.Partition, Offset: m.Offset,
		ID: m.ID, ReplyTo: m.ReplyTo, Deliveries: m.Deliveries}
	if !m.Time.IsZero() {
		t := m.Time
		j.Time = &t
	}
	if len(m.Key) > 0 {
		setBytes(m.Key, &j.Key, &j.KeyBase64)
	}
	for _, h := range m.Headers {
		j.Headers = append(j.Headers, headerJSON{h.Key, h.Value})
	}
	setBytes(m.Payload, &j.Payload, &j.PayloadBase64)
	return j
}

// printMessage writes one message: a JSON line, or a line of text
// "subject [stream/partition@offset] key=K {h=v ...}: payload".
func printMessage(w io.Writer, asJSON bool, m *client.Message) error {
	if asJSON {
		return writeJSONLine(w, toMessageJSON(m))
	}
	var b strings.Builder
	b.WriteString(m.Subject)
	if m.Stream != "" {
		fmt.Fprintf(&b, " [%s/%d@%d]", m.Stream, m.Partition, m.Offset)
	}
	if m.Deliveries > 1 {
		fmt.Fprintf(&b, " delivery=%d", m.Deliveries)
	}
	if len(m.Key) > 0 {
		fmt.Fprintf(&b, " key=%s", printable(m.Key))
	}
	if len(m.Headers) > 0 {
		hs := make([]string, len(m.Headers))
		for i, h := range m.Headers {
			hs[i] = h.Key + "=" + printable([]byte(h.Value))
		}
		fmt.Fprintf(&b, " {%s}", strings.Join(hs, " "))
	}
	_, err := fmt.Fprintf(w, "%s: %s\n", b.String(), printable(m.Payload))
	return err
}

// ended reports whether err only says the command was interrupted
// (Ctrl-C), which ends a long-running command without an error.
func ended(ctx context.Context, err error) bool {
	return ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, client.ErrClosed))
}
