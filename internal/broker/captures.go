package broker

// Captures reports whether a stream captures subj: a publish to it is
// stored (and waits for durability), where one to a subject no stream
// captures goes to current subscribers at once and never waits. A
// front-end that must not wait (one handling messages on a connection's
// reader) publishes only the latter there.
func (b *Broker) Captures(subj string) bool { return b.captured(subj) }
