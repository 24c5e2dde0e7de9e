package logbench

import (
	"os"
	"testing"

	"go.uber.org/goleak"
)

// TestMain removes the shared fixtures after the benchmarks and checks
// that no log left a goroutine behind.
func TestMain(m *testing.M) {
	code := m.Run()
	removeFixtures()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			os.Stderr.WriteString("goleak: " + err.Error() + "\n")
			code = 1
		}
	}
	os.Exit(code)
}
