package subject

import (
	"regexp"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

func TestSubjectMatchTable(t *testing.T) {
	cases := []struct {
		pattern, subject string
		want             bool
	}{
		{"a", "a", true},
		{"a", "b", false},
		{"a", "a.b", false},
		{"a.b", "a", false},
		{"a.b", "a.b", true},
		{"ab", "a", false},
		{"a", "ab", false},
		{"*", "a", true},
		{"*", "a.b", false},
		{"*.b", "a.b", true},
		{"a.*", "a", false},
		{"a.*.c", "a.b.c", true},
		{"a.*.c", "a.b.d", false},
		{">", "a", true},
		{">", "a.b.c", true},
		{"a.>", "a", false},
		{"a.>", "a.b", true},
		{"a.>", "a.b.c", true},
		{"a.>", "b.c", false},
		{"*.>", "a", false},
		{"*.>", "a.b", true},
		{"", "a", false},
		{"a", "", false},
		{">", "", false},
		{">", "$mqtt.retained", false},
		{"*.retained", "$mqtt.retained", false},
		{"$mqtt.>", "$mqtt.retained", true},
		{"$mqtt.*", "$mqtt.retained", true},
		{"a.>", "a.$x", true}, // only the first token is special
	}
	for _, c := range cases {
		if got := Match(c.pattern, c.subject); got != c.want {
			t.Errorf("Match(%q, %q) = %v, want %v", c.pattern, c.subject, got, c.want)
		}
	}
}

// TestSubjectMatchInvalid feeds invalid input, found by fuzzing or at
// the edges of the token loop, to the matchers: they must not panic.
func TestSubjectMatchInvalid(t *testing.T) {
	bad := []string{"", ".", "..", "*.", ".*", ">.", ".>", "a.", ".a", "a..b", "*>", ">.>", "a.>.b"}
	for _, a := range bad {
		for _, b := range append(bad, "a", "a.b", "*", ">") {
			Match(a, b)
			Match(b, a)
			Overlaps(a, b)
			Subsumes(a, b)
			IsLiteral(a)
		}
	}
}

func TestSubjectIsLiteral(t *testing.T) {
	for p, want := range map[string]bool{
		"a": true, "a.b": true, "a*.b>": true,
		"*": false, ">": false, "a.*.b": false, "a.>": false,
	} {
		if got := IsLiteral(p); got != want {
			t.Errorf("IsLiteral(%q) = %v, want %v", p, got, want)
		}
	}
}

// refMatch is the reference Match: the pattern translated to a regular
// expression.
func refMatch(pattern, subject string) bool {
	return refRegexp(pattern).MatchString(subject)
}

func refRegexp(pattern string) *regexp.Regexp {
	toks := strings.Split(pattern, ".")
	for i, tok := range toks {
		switch tok {
		case Star:
			toks[i] = `[^.]+`
		case Full:
			toks[i] = `.+`
		default:
			toks[i] = regexp.QuoteMeta(tok)
		}
	}
	switch toks[0] { // a first-token wildcard does not match '$'
	case `[^.]+`:
		toks[0] = `[^.$][^.]*`
	case `.+`:
		toks[0] = `[^.$].*`
	}
	return regexp.MustCompile(`^` + strings.Join(toks, `\.`) + `$`)
}

// Generators over a small alphabet, so that matches are frequent.
var (
	genLitToken = rapid.SampledFrom([]string{"a", "b", "c", "ab", "$s"})
	genSubject  = rapid.Custom(func(t *rapid.T) string {
		return strings.Join(rapid.SliceOfN(genLitToken, 1, 6).Draw(t, "toks"), ".")
	})
	genPattern = rapid.Custom(func(t *rapid.T) string {
		tok := rapid.OneOf(genLitToken, rapid.Just(Star))
		toks := rapid.SliceOfN(tok, 1, 5).Draw(t, "toks")
		if rapid.Bool().Draw(t, "full") {
			toks[len(toks)-1] = Full
		}
		return strings.Join(toks, ".")
	})
)

func TestSubjectMatchModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		p, s := genPattern.Draw(t, "pattern"), genSubject.Draw(t, "subject")
		if got, want := Match(p, s), refMatch(p, s); got != want {
			t.Fatalf("Match(%q, %q) = %v, want %v", p, s, got, want)
		}
		if ValidatePattern(p) != nil || ValidateSubject(s) != nil {
			t.Fatalf("generated invalid input %q %q", p, s)
		}
		if IsLiteral(p) && Match(p, s) != (p == s) {
			t.Fatalf("literal %q: Match(%q) = %v", p, s, Match(p, s))
		}
	})
}

func TestSubjectMatchNoAlloc(t *testing.T) {
	n := testing.AllocsPerRun(100, func() {
		Match("orders.*.>", "orders.eu.created")
		Overlaps("orders.*.>", "*.eu.created")
		Subsumes("orders.>", "orders.*.created")
	})
	if n != 0 {
		t.Fatalf("%v allocations per run, want 0", n)
	}
}
