package log

// CountRecords returns how many records the whole batches at the start of
// data hold at or above offset from, by their headers alone (nothing is
// decoded or checked). A batch that starts below from counts the offsets
// from..last it covers, at most its record count. It stops at a partial
// or malformed batch. It is cheap enough for metrics on every read.
func CountRecords(data []byte, from int64) int64 {
	var n int64
	for len(data) >= BatchHeaderSize {
		h, err := parseHeader(data)
		if err != nil || int(h.Length) > len(data) {
			break
		}
		count := int64(h.Count)
		if h.BaseOffset < from {
			count = min(count, max(0, h.LastOffset()-from+1))
		}
		n += count
		data = data[h.Length:]
	}
	return n
}

// Compressed reports whether any whole batch at the start of data is
// compressed: records DecodeRecords gives from such a batch alias a
// decompressed copy rather than data itself.
func Compressed(data []byte) bool {
	for len(data) >= BatchHeaderSize {
		h, err := parseHeader(data)
		if err != nil || int(h.Length) > len(data) {
			return false
		}
		if h.Compression() != 0 {
			return true
		}
		data = data[h.Length:]
	}
	return false
}
