package subject

import (
	"errors"
	"testing"
)

// FuzzSubjectParse feeds arbitrary pairs of strings to every function of
// the package: none may panic, errors must be well formed, and valid input
// must keep the algebra's laws.
func FuzzSubjectParse(f *testing.F) {
	for _, c := range append(append(commonCases, subjectCases...), patternCases...) {
		f.Add(c.in, "orders.eu.created")
	}
	f.Add("orders.*.>", "orders.eu.created")
	f.Add("a.>", "a.*")
	f.Fuzz(func(t *testing.T, a, b string) {
		errA, errPA := ValidateSubject(a), ValidatePattern(a)
		checkError(t, a, errA)
		checkError(t, a, errPA)
		Match(a, b)
		Overlaps(a, b)
		Subsumes(a, b)
		IsLiteral(a)
		if errA == nil {
			checkValidSubject(t, a)
		}
		if errPA == nil && ValidateSubject(b) == nil {
			checkPatternSubject(t, a, b)
		}
		var x Index[int]
		if (x.Insert(a, 1) == nil) != (errPA == nil) {
			t.Fatalf("Insert(%q) disagrees with ValidatePattern", a)
		}
		x.Match(b, nil)
	})
}

func checkError(t *testing.T, s string, err error) {
	var e *Error
	switch {
	case err == nil:
	case !errors.As(err, &e) || e.Subject != s || e.Unwrap() == nil:
		t.Fatalf("%q: malformed error %#v", s, err)
	case e.Pos < 0 || e.Pos > MaxTokens+1 || e.Error() == "":
		t.Fatalf("%q: bad position in %v", s, err)
	}
}

func checkValidSubject(t *testing.T, s string) {
	switch {
	case ValidatePattern(s) != nil:
		t.Fatalf("subject %q is not a valid pattern", s)
	case !Match(s, s) || !Match(Full, s):
		t.Fatalf("subject %q does not match itself or >", s)
	case !IsLiteral(s) || !Subsumes(s, s) || !Overlaps(s, s):
		t.Fatalf("subject %q as a pattern breaks a law", s)
	}
}

// checkPatternSubject checks the laws that tie Match to the other
// functions, for a valid pattern p and a valid subject s.
func checkPatternSubject(t *testing.T, p, s string) {
	m := Match(p, s)
	switch {
	case m != Overlaps(p, s) || m != Subsumes(p, s):
		t.Fatalf("Match(%q, %q) = %v disagrees with Overlaps or Subsumes", p, s, m)
	case !Subsumes(Full, p):
		t.Fatalf("> does not subsume %q", p)
	case m != refMatch(p, s):
		t.Fatalf("Match(%q, %q) = %v disagrees with the reference", p, s, m)
	}
}
