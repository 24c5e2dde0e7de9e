package subject

import (
	"cmp"
	"unicode"
	"unicode/utf8"
)

// Limits enforced by ValidateSubject and ValidatePattern.
const (
	// MaxLen is the longest subject or pattern, in bytes.
	MaxLen = 255
	// MaxTokens is the most tokens in a subject or pattern. It also bounds
	// the depth of an Index.
	MaxTokens = 32
)

// Wildcard tokens.
const (
	Star = "*" // matches exactly one token
	Full = ">" // matches one or more tokens; only as the last token
)

// ValidateSubject returns nil if s is a valid subject to publish to: a
// literal (no wildcard) that obeys the rules in the package doc.
// Otherwise it returns an *Error. It does not allocate on success.
func ValidateSubject(s string) error {
	return validate(s, false)
}

// ValidatePattern returns nil if p is a valid pattern: a subject that may
// use "*" as any token and ">" as the last token. Otherwise it returns an
// *Error. It does not allocate on success.
func ValidatePattern(p string) error {
	return validate(p, true)
}

func validate(s string, pattern bool) error {
	switch {
	case s == "":
		return newError(s, pattern, 0, "", ErrEmpty)
	case len(s) > MaxLen:
		return newError(s, pattern, 0, "", ErrTooLong)
	}
	for i, pos := 0, 1; ; pos++ {
		end, byteRule := scanToken(s, i, pattern)
		rule := checkToken(s[i:end], pos, pattern, end == len(s), byteRule)
		if rule != nil {
			return newError(s, pattern, pos, s[i:end], rule)
		}
		if end == len(s) {
			return nil
		}
		i = end + 1
	}
}

// checkToken returns the rule that token tok, at 1-based position pos,
// breaks, or nil. byteRule is the rule broken by its first bad byte.
func checkToken(tok string, pos int, pattern, last bool, byteRule error) error {
	switch {
	case pos > MaxTokens:
		return ErrTooManyTokens
	case tok == "":
		return ErrEmptyToken
	case pattern && tok == Star:
		return nil
	case pattern && tok == Full && !last:
		return ErrFullWildcardNotLast
	case pattern && tok == Full:
		return nil
	}
	return byteRule
}

// Byte classes for scanToken.
const (
	plain = iota
	dot
	control // or whitespace
	wild    // '*' or '>'
	high    // part of a multi-byte sequence
)

var byteClass = func() (c [256]uint8) {
	for b := range c {
		switch {
		case b <= ' ' || b == 0x7f:
			c[b] = control
		case b == '.':
			c[b] = dot
		case b == '*' || b == '>':
			c[b] = wild
		case b >= utf8.RuneSelf:
			c[b] = high
		}
	}
	return c
}()

// scanToken finds the end of the token of s that starts at i: the index
// of the next dot, or len(s). It also returns the rule broken by the
// token's first bad byte, taking any '*' or '>' as bad.
func scanToken(s string, i int, pattern bool) (int, error) {
	var rule error
	for ; i < len(s); i++ {
		switch byteClass[s[i]] {
		case dot:
			return i, rule
		case control:
			rule = cmp.Or(rule, ErrInvalidChar)
		case wild:
			rule = cmp.Or(rule, wildcardRule(pattern))
		case high:
			r, n := utf8.DecodeRuneInString(s[i:])
			rule = cmp.Or(rule, checkRune(r, n))
			i += n - 1
		}
	}
	return i, rule
}

func checkRune(r rune, n int) error {
	switch {
	case r == utf8.RuneError && n == 1:
		return ErrInvalidUTF8
	case unicode.IsSpace(r) || unicode.IsControl(r):
		return ErrInvalidChar
	}
	return nil
}

func wildcardRule(pattern bool) error {
	if pattern {
		return ErrPartialWildcard
	}
	return ErrWildcardInSubject
}
