package deptest

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

const mod = "github.com/courier-mq/courier/"

// forbidden lists, per package, the packages it must never import (even
// indirectly).
var forbidden = map[string][]string{
	"internal/vfs":      {"internal/log", "internal/broker", "internal/meta", "internal/subject", "server", "cmd"},
	"internal/subject":  {"internal/log", "internal/broker", "internal/meta", "internal/vfs", "server", "cmd"},
	"internal/log":      {"internal/broker", "internal/meta", "internal/subject", "server", "cmd"},
	"internal/meta":     {"internal/log", "internal/broker", "server", "cmd"},
	"internal/broker":   {"server", "cmd", "internal/proto", "internal/api", "internal/admin"},
	"internal/admin":    {"server", "cmd", "internal/proto", "internal/api"},
	"server":            {"cmd"},
	"gen/courier/v1":    {"internal", "server", "cmd", "client"},
	"wire":              {"internal", "server", "cmd", "client", "gen"},
	"internal/netserve": {"internal/broker", "internal/log", "internal/proto", "internal/api", "server", "cmd"},
}

// forbiddenIfPresent applies to packages that may not exist yet.
var forbiddenIfPresent = map[string][]string{
	"client": {"internal", "server", "cmd"},
}

func TestDepsPointOneWay(t *testing.T) {
	for pkg, bans := range forbidden {
		deps := listDeps(t, mod+pkg)
		for _, d := range deps {
			for _, ban := range bans {
				if d == mod+ban || strings.HasPrefix(d, mod+ban+"/") {
					t.Errorf("%s imports %s (forbidden: %s)", pkg, d, ban)
				}
			}
		}
	}
}

func TestPublicClientStaysOffTheServer(t *testing.T) {
	for pkg, bans := range forbiddenIfPresent {
		if exec.Command("go", "list", mod+pkg).Run() != nil {
			continue
		}
		for _, d := range listDeps(t, mod+pkg) {
			for _, ban := range bans {
				if d == mod+ban || strings.HasPrefix(d, mod+ban+"/") {
					t.Errorf("%s imports %s (forbidden: %s)", pkg, d, ban)
				}
			}
		}
	}
}

func listDeps(t *testing.T, pkg string) []string {
	out, err := exec.Command("go", "list", "-deps", "-json=ImportPath", pkg).Output()
	if err != nil {
		t.Fatalf("go list %s: %v", pkg, err)
	}
	var deps []string
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var p struct{ ImportPath string }
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		deps = append(deps, p.ImportPath)
	}
	if len(deps) == 0 {
		t.Fatalf("no dependencies listed for %s", pkg)
	}
	return deps
}
