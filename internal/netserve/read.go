package netserve

import "io"

// ReadGrowing reads exactly n bytes (a length a client declared), growing
// its buffer by at most step ahead of what has arrived, so that a large
// length claimed by a client that then sends little costs little.
func ReadGrowing(r io.Reader, n, step int) ([]byte, error) {
	buf := make([]byte, 0, min(n, step))
	for len(buf) < n {
		if len(buf) == cap(buf) {
			buf = append(buf, make([]byte, min(n-len(buf), max(len(buf), step)))...)[:len(buf)]
		}
		m, err := io.ReadFull(r, buf[len(buf):min(n, cap(buf))])
		buf = buf[:len(buf)+m]
		if err != nil {
			return nil, err
		}
	}
	return buf, nil
}
