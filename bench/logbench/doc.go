// Package logbench measures the partition log (internal/log) on a real
// disk against the limit of that disk, measured in the same process.
//
// Everything is in the benchmarks (go test -bench); the package has no
// code of its own. Each log benchmark reports its numbers together with
// ratio-to-raw: the log's rate divided by the rate of plain write plus
// fsync (or plain pread) of the same bytes in the same sizes, in the same
// directory, measured right after the log for as long as the log ran.
// docs/benchmarks.md explains every ratio, how to run the suite and the
// results on a recorded machine.
//
// Environment:
//
//	COURIER_BENCH_DIR            directory for data (default: the system temp dir)
//	COURIER_BENCH_REOPEN_BYTES   size of the reopened log (default 1GiB)
//	COURIER_BENCH_READ_BYTES     size of the large-batch read log (default 256MiB;
//	                             the small-batch one is a quarter of it)
package logbench
