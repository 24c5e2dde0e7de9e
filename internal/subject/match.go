package subject

import "strings"

// Match reports whether subject matches pattern. It does not allocate and
// does not validate; see the package doc. An empty pattern or subject
// matches nothing.
func Match(pattern, subject string) bool {
	if pattern == "" || subject == "" {
		return false
	}
	if pattern == subject {
		return true // by the token rules, whatever the tokens
	}
	if system(subject) && wildcardAt(pattern, 0) != 0 {
		return false
	}
	i, j := 0, 0 // the starts of the current tokens
	for {
		var ok bool
		switch wildcardAt(pattern, i) {
		case '>':
			return true // the subject has a token left
		case '*':
			i, j = i+1, tokenEnd(subject, j)
		default:
			if i, j, ok = matchToken(pattern, subject, i, j); !ok {
				return false
			}
		}
		if i == len(pattern) || j == len(subject) {
			return i == len(pattern) && j == len(subject)
		}
		i, j = i+1, j+1 // both at a dot
	}
}

// system reports whether p's first token starts with '$', which no
// wildcard matches.
func system(p string) bool { return p != "" && p[0] == '$' }

// wildcardAt returns '*' or '>' if the token of p that starts at i is that
// wildcard, and 0 otherwise. A '>' that is not last (an invalid pattern)
// is taken as a literal token, and so is an empty last token.
func wildcardAt(p string, i int) byte {
	if i == len(p) {
		return 0
	}
	last := i+1 == len(p)
	switch c := p[i]; {
	case c == '*' && (last || p[i+1] == '.'):
		return c
	case c == '>' && last:
		return c
	}
	return 0
}

// tokenEnd returns the index of the dot that ends the token of s starting
// at j, or len(s).
func tokenEnd(s string, j int) int {
	for j < len(s) && s[j] != '.' {
		j++
	}
	return j
}

// matchToken compares the literal token of p at i with the token of s at
// j; on success it returns the ends of both.
func matchToken(p, s string, i, j int) (int, int, bool) {
	for ; i < len(p) && p[i] != '.'; i, j = i+1, j+1 {
		if j == len(s) || s[j] != p[i] {
			return i, j, false
		}
	}
	return i, j, j == len(s) || s[j] == '.'
}

// IsLiteral reports whether p has no wildcard token, that is, whether it
// matches only itself.
func IsLiteral(p string) bool {
	for more := true; more; {
		var tok string
		tok, p, more = strings.Cut(p, ".")
		if tok == Star || tok == Full {
			return false
		}
	}
	return true
}
