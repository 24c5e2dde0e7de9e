package amqp

import (
	"sync"
)

// registry is the server's AMQP state that the broker does not keep:
// exchange types, exclusive queues and their owners, consumer counts.
// None of it survives a restart (doc.go says what that means).
type registry struct {
	mu        sync.Mutex
	exchanges map[string]*exchange          // by name, as declared or found
	exclusive map[string]*conn              // queue → owning connection
	consumers map[string]map[*consumer]bool // queue → its consumers
	exclCons  map[string]bool               // queue → has an exclusive consumer
	autoDel   map[string]bool               // queue declared auto-delete
	ensured   map[string]bool               // exchange streams known to exist
}

func newRegistry() *registry {
	return &registry{exchanges: map[string]*exchange{}, exclusive: map[string]*conn{},
		consumers: map[string]map[*consumer]bool{}, exclCons: map[string]bool{}, autoDel: map[string]bool{}, ensured: map[string]bool{}}
}

// owner returns the connection that owns an exclusive queue, or nil.
func (r *registry) owner(q string) *conn {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.exclusive[q]
}

// consumerCount returns the queue's consumers.
func (r *registry) consumerCount(q string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.consumers[q])
}

// consumersOf returns the queue's consumers.
func (r *registry) consumersOf(q string) []*consumer {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*consumer
	for c := range r.consumers[q] {
		out = append(out, c)
	}
	return out
}

// addConsumer counts a consumer in, refusing (false) when the queue has
// an exclusive consumer, or has any when exclusive is asked.
func (r *registry) addConsumer(q string, cs *consumer, exclusive bool) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.exclCons[q] || (exclusive && len(r.consumers[q]) > 0) {
		return false
	}
	if r.consumers[q] == nil {
		r.consumers[q] = map[*consumer]bool{}
	}
	r.consumers[q][cs] = true
	if exclusive {
		r.exclCons[q] = true
	}
	return true
}

// removeConsumer counts a consumer out and reports whether the queue is
// auto-delete and now has none.
func (r *registry) removeConsumer(q string, cs *consumer, exclusive bool) (autoDelete bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.consumers[q], cs)
	if exclusive {
		delete(r.exclCons, q)
	}
	if len(r.consumers[q]) == 0 {
		delete(r.consumers, q)
		return r.autoDel[q]
	}
	return false
}

// forgetQueue drops what the registry knows of a deleted queue.
func (r *registry) forgetQueue(q string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.exclusive, q)
	delete(r.autoDel, q)
}

// dropConn deletes the exclusive queues of a closing connection.
func (r *registry) dropConn(c *conn, s *Server) {
	r.mu.Lock()
	var qs []string
	for q, o := range r.exclusive {
		if o == c {
			qs = append(qs, q)
		}
	}
	r.mu.Unlock()
	for _, q := range qs {
		if err := s.deleteQueue(q); err != nil {
			s.log.Warn("amqp: deleting an exclusive queue", "queue", q, "err", err)
		}
	}
}
