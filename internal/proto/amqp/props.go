package amqp

// Properties are the basic class's content properties (spec 1.8.2); a
// field is present when its flag is set.
type Properties struct {
	Flags           uint16
	ContentType     string
	ContentEncoding string
	Headers         Table
	DeliveryMode    uint8
	Priority        uint8
	CorrelationID   string
	ReplyTo         string
	Expiration      string
	MessageID       string
	Timestamp       uint64
	Type            string
	UserID          string
	AppID           string
	ClusterID       string
}

// Property flags, from bit 15 down; bit 0 would announce more flags.
const (
	flagContentType     = 1 << 15
	flagContentEncoding = 1 << 14
	flagHeaders         = 1 << 13
	flagDeliveryMode    = 1 << 12
	flagPriority        = 1 << 11
	flagCorrelationID   = 1 << 10
	flagReplyTo         = 1 << 9
	flagExpiration      = 1 << 8
	flagMessageID       = 1 << 7
	flagTimestamp       = 1 << 6
	flagType            = 1 << 5
	flagUserID          = 1 << 4
	flagAppID           = 1 << 3
	flagClusterID       = 1 << 2
)

// contentHeader is a content header frame's payload.
type contentHeader struct {
	class    uint16
	bodySize uint64
	props    Properties
}

func readContentHeader(p []byte) (contentHeader, error) {
	r := reader{b: p}
	h := contentHeader{class: r.short()}
	r.short() // weight, unused
	h.bodySize = r.longlong()
	h.props.read(&r)
	if r.err != nil {
		return h, frameErr(codeFrameError, "FRAME_ERROR - content header: %v", r.err)
	}
	return h, nil
}

func (p *Properties) read(r *reader) {
	p.Flags = r.short()
	if p.Flags&1 != 0 {
		r.fail(errMoreFlags)
		return
	}
	str := func(flag uint16, dst *string) {
		if p.Flags&flag != 0 {
			*dst = r.shortstr()
		}
	}
	str(flagContentType, &p.ContentType)
	str(flagContentEncoding, &p.ContentEncoding)
	if p.Flags&flagHeaders != 0 {
		p.Headers = r.table()
	}
	if p.Flags&flagDeliveryMode != 0 {
		p.DeliveryMode = r.octet()
	}
	if p.Flags&flagPriority != 0 {
		p.Priority = r.octet()
	}
	str(flagCorrelationID, &p.CorrelationID)
	str(flagReplyTo, &p.ReplyTo)
	str(flagExpiration, &p.Expiration)
	str(flagMessageID, &p.MessageID)
	if p.Flags&flagTimestamp != 0 {
		p.Timestamp = r.longlong()
	}
	str(flagType, &p.Type)
	str(flagUserID, &p.UserID)
	str(flagAppID, &p.AppID)
	str(flagClusterID, &p.ClusterID)
}

func (p *Properties) write(w *writer) {
	w.short(p.Flags &^ 1)
	str := func(flag uint16, s string) {
		if p.Flags&flag != 0 {
			w.shortstr(s)
		}
	}
	str(flagContentType, p.ContentType)
	str(flagContentEncoding, p.ContentEncoding)
	if p.Flags&flagHeaders != 0 {
		w.table(p.Headers)
	}
	if p.Flags&flagDeliveryMode != 0 {
		w.octet(p.DeliveryMode)
	}
	if p.Flags&flagPriority != 0 {
		w.octet(p.Priority)
	}
	str(flagCorrelationID, p.CorrelationID)
	str(flagReplyTo, p.ReplyTo)
	str(flagExpiration, p.Expiration)
	str(flagMessageID, p.MessageID)
	if p.Flags&flagTimestamp != 0 {
		w.longlong(p.Timestamp)
	}
	str(flagType, p.Type)
	str(flagUserID, p.UserID)
	str(flagAppID, p.AppID)
	str(flagClusterID, p.ClusterID)
}
