package subject

import (
	"errors"
	"fmt"
	"strings"
)

// Rules broken by an invalid subject or pattern. An *Error unwraps to one
// of them, so errors.Is(err, ErrEmptyToken) selects a rule.
var (
	ErrEmpty               = errors.New("empty")
	ErrTooLong             = errors.New("too long")
	ErrTooManyTokens       = errors.New("too many tokens")
	ErrEmptyToken          = errors.New("empty token")
	ErrInvalidUTF8         = errors.New("invalid UTF-8")
	ErrInvalidChar         = errors.New("whitespace or control character")
	ErrWildcardInSubject   = errors.New("wildcard in subject")
	ErrPartialWildcard     = errors.New("wildcard inside a token")
	ErrFullWildcardNotLast = errors.New("'>' not last")
)

var rules = []error{
	ErrEmpty, ErrTooLong, ErrTooManyTokens, ErrEmptyToken, ErrInvalidUTF8,
	ErrInvalidChar, ErrWildcardInSubject, ErrPartialWildcard,
	ErrFullWildcardNotLast,
}

// Error reports an invalid subject or pattern.
type Error struct {
	Subject string // a copy of the input, whole
	Pattern bool   // whether it was validated as a pattern
	Pos     int    // 1-based position of the offending token; 0 for the whole input
	Token   string // the offending token, if Pos > 0
	Rule    string // the rule broken: the text of one of the Err* rules
}

// maxQuoted bounds how much of the input an error message repeats.
const maxQuoted = 64

// Error returns, e.g., `subject "a..b": empty token at position 2`.
func (e *Error) Error() string {
	what, s := "subject", e.Subject
	if e.Pattern {
		what = "pattern"
	}
	if len(s) > maxQuoted {
		s = s[:maxQuoted] + "..."
	}
	return fmt.Sprintf("%s %q: %s%s", what, s, e.Rule, e.detail())
}

func (e *Error) detail() string {
	switch {
	case e.Rule == ErrTooLong.Error():
		return fmt.Sprintf(" (%d bytes, max %d)", len(e.Subject), MaxLen)
	case e.Rule == ErrTooManyTokens.Error():
		return fmt.Sprintf(" (max %d)", MaxTokens)
	case e.Pos == 0:
		return ""
	case e.Token == "":
		return fmt.Sprintf(" at position %d", e.Pos)
	}
	return fmt.Sprintf(" at position %d (token %q)", e.Pos, e.Token)
}

// Unwrap returns the rule broken, one of the Err* values.
func (e *Error) Unwrap() error {
	for _, r := range rules {
		if r.Error() == e.Rule {
			return r
		}
	}
	return nil
}

// newError copies s and tok: the caller's string may point into a buffer
// that is reused once the error is returned.
func newError(s string, pattern bool, pos int, tok string, rule error) *Error {
	return &Error{
		Subject: strings.Clone(s),
		Pattern: pattern,
		Pos:     pos,
		Token:   strings.Clone(tok),
		Rule:    rule.Error(),
	}
}
