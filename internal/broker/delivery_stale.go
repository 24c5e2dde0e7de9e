package broker

// Stale reports whether d is no longer its member's to settle: it was
// settled, its ack wait passed and it was taken back, or its group ended.
// Settling a stale delivery fails with ErrAlreadySettled (or the group's
// end); front-ends that keep deliveries by id use Stale to forget them.
func (d *Delivery) Stale() bool {
	d.g.mu.Lock()
	defer d.g.mu.Unlock()
	return d.g.stopped || !d.m.valid(d)
}
