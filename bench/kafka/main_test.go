package kafka

import (
	"os"
	"testing"
)

func TestMain(m *testing.M) {
	code := m.Run()
	readEnv.close()
	os.Exit(code)
}
