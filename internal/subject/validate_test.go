package subject

import (
	"errors"
	"strings"
	"testing"
)

type validateCase struct {
	in   string
	rule error // nil if valid
	pos  int
}

var (
	long     = strings.Repeat("a", MaxLen)
	maxToks  = strings.Repeat("a.", MaxTokens-1) + "a"
	tooMany  = maxToks + ".a"
	longToks = strings.Repeat("ab.", MaxTokens) + "x"
)

// Cases valid or invalid alike for subjects and patterns.
var commonCases = []validateCase{
	{"a", nil, 0},
	{"orders.eu.created", nil, 0},
	{"a-b_c:d/e@f#g+h", nil, 0},
	{"façade.日本.😀", nil, 0},
	{long, nil, 0},
	{maxToks, nil, 0},
	{"", ErrEmpty, 0},
	{long + "a", ErrTooLong, 0},
	{tooMany, ErrTooManyTokens, MaxTokens + 1},
	{longToks, ErrTooManyTokens, MaxTokens + 1},
	{".", ErrEmptyToken, 1},
	{".a", ErrEmptyToken, 1},
	{"a.", ErrEmptyToken, 2},
	{"a..b", ErrEmptyToken, 2},
	{"a.b c", ErrInvalidChar, 2},
	{" a", ErrInvalidChar, 1},
	{"a\tb", ErrInvalidChar, 1},
	{"a\nb", ErrInvalidChar, 1},
	{"a\rb", ErrInvalidChar, 1},
	{"a\x00b", ErrInvalidChar, 1},
	{"a.\x7f", ErrInvalidChar, 2},
	{"a.\u0085", ErrInvalidChar, 2},  // NEL, a C1 control and a space
	{"a.b\u00a0", ErrInvalidChar, 2}, // no-break space
	{"a.\u2028", ErrInvalidChar, 2},  // line separator
	{"a.\u3000", ErrInvalidChar, 2},  // ideographic space
	{"a.\x80", ErrInvalidUTF8, 2},
	{"a.b\xff", ErrInvalidUTF8, 2},
	{"\xc3", ErrInvalidUTF8, 1},         // truncated sequence
	{"\xed\xa0\x80", ErrInvalidUTF8, 1}, // surrogate half
	{"a.b.\xc0\xaf", ErrInvalidUTF8, 3}, // overlong '/'
	{"a b..c", ErrInvalidChar, 1},       // the first offending token wins
}

var subjectCases = []validateCase{
	{"*", ErrWildcardInSubject, 1},
	{">", ErrWildcardInSubject, 1},
	{"a.*", ErrWildcardInSubject, 2},
	{"a.>", ErrWildcardInSubject, 2},
	{"a.b*", ErrWildcardInSubject, 2},
	{"a.>b.c", ErrWildcardInSubject, 2},
}

var patternCases = []validateCase{
	{"*", nil, 0},
	{">", nil, 0},
	{"a.*", nil, 0},
	{"*.*.>", nil, 0},
	{"a.>", nil, 0},
	{"a.b*", ErrPartialWildcard, 2},
	{"a.*b", ErrPartialWildcard, 2},
	{"a.>b.c", ErrPartialWildcard, 2},
	{"**", ErrPartialWildcard, 1},
	{">>", ErrPartialWildcard, 1},
	{">.a", ErrFullWildcardNotLast, 1},
	{"a.>.>", ErrFullWildcardNotLast, 2},
	{"a.>.", ErrFullWildcardNotLast, 2},
	{"a.*.", ErrEmptyToken, 3},
}

func TestSubjectValidateSubject(t *testing.T) {
	for _, c := range append(commonCases, subjectCases...) {
		checkValidate(t, c, false, ValidateSubject(c.in))
	}
}

func TestSubjectValidatePattern(t *testing.T) {
	for _, c := range append(commonCases, patternCases...) {
		checkValidate(t, c, true, ValidatePattern(c.in))
	}
}

func checkValidate(t *testing.T, c validateCase, pattern bool, err error) {
	t.Helper()
	if c.rule == nil {
		if err != nil {
			t.Errorf("%q: unexpected error %v", c.in, err)
		}
		return
	}
	var e *Error
	switch {
	case !errors.Is(err, c.rule):
		t.Errorf("%q: got %v, want rule %v", c.in, err, c.rule)
	case !errors.As(err, &e):
		t.Errorf("%q: %T is not an *Error", c.in, err)
	case e.Subject != c.in || e.Pos != c.pos || e.Pattern != pattern:
		t.Errorf("%q: got %+v, want position %d pattern %v", c.in, e, c.pos, pattern)
	case e.Pos > 0 && e.Token != tokenAt(c.in, e.Pos):
		t.Errorf("%q: token %q, want %q", c.in, e.Token, tokenAt(c.in, e.Pos))
	}
}

func tokenAt(s string, pos int) string {
	return strings.Split(s, ".")[pos-1]
}

func TestSubjectErrorMessage(t *testing.T) {
	cases := []struct {
		err  error
		want string
	}{
		{ValidateSubject("a..b"), `subject "a..b": empty token at position 2`},
		{ValidatePattern("a.b*"), `pattern "a.b*": wildcard inside a token at position 2 (token "b*")`},
		{ValidateSubject(""), `subject "": empty`},
		{ValidateSubject(long + "b"), `subject "` + long[:maxQuoted] + `...": too long (256 bytes, max 255)`},
		{ValidateSubject(tooMany), `subject "` + tooMany[:maxQuoted] + `...": too many tokens (max 32)`},
		{ValidateSubject("a.\x00"), `subject "a.\x00": whitespace or control character at position 2 (token "\x00")`},
	}
	for _, c := range cases {
		if c.err == nil || c.err.Error() != c.want {
			t.Errorf("got %v, want %s", c.err, c.want)
		}
	}
}

func TestSubjectErrorUnwrapUnknownRule(t *testing.T) {
	if err := (&Error{Rule: "no such rule"}).Unwrap(); err != nil {
		t.Fatalf("Unwrap = %v, want nil", err)
	}
}

func TestSubjectValidateNoAlloc(t *testing.T) {
	n := testing.AllocsPerRun(100, func() {
		_ = ValidateSubject("orders.eu.façade.created")
		_ = ValidatePattern("orders.*.>")
	})
	if n != 0 {
		t.Fatalf("%v allocations per run, want 0", n)
	}
}
