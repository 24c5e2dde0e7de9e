// Package subject parses, validates and matches subjects, and indexes
// patterns for routing.
//
// # Model
//
// Every message has a subject: dot-separated tokens, such as
// "orders.eu.created". A pattern is a subject that may also use two
// wildcards, each only as a whole token:
//
//   - "*" matches exactly one token: "orders.*.created" matches
//     "orders.eu.created" but not "orders.created" nor "orders.eu.x.created".
//   - ">" matches one or more tokens and may only be the last token:
//     "orders.>" matches "orders.eu" and "orders.eu.created" but not
//     "orders".
//
// A wildcard in the first token does not match a first token that starts
// with '$': "$mqtt.retained" matches "$mqtt.>" but not ">" nor "*.retained".
// Such subjects belong to the system (the MQTT front-end keeps its state
// under them, as MQTT keeps $-topics from '#'), so that a stream or a
// subscriber of everything does not take them.
//
// A subject is the special case of a pattern without wildcards (a literal
// pattern). The subject space is global: protocol front-ends map their
// topics, routing keys and destinations onto it before calling this package.
//
// # Rules
//
// ValidateSubject and ValidatePattern enforce:
//
//   - not empty (ErrEmpty);
//   - at most MaxLen bytes (ErrTooLong);
//   - at most MaxTokens tokens (ErrTooManyTokens);
//   - no empty token: no leading, trailing or double dot (ErrEmptyToken);
//   - valid UTF-8 (ErrInvalidUTF8);
//   - no whitespace and no control character, NUL included: ASCII bytes
//     0x00-0x20 and 0x7F, and any rune for which unicode.IsSpace or
//     unicode.IsControl holds (ErrInvalidChar);
//   - in a subject, no '*' or '>' at all (ErrWildcardInSubject);
//   - in a pattern, '*' and '>' only as whole tokens (ErrPartialWildcard),
//     and '>' only as the last token (ErrFullWildcardNotLast).
//
// The two length rules are checked first. Then tokens are checked left to
// right and the first offending token is reported; within a token, the
// first offending byte decides the rule. Every error is an *Error that
// names the input, the 1-based token position and the rule, and
// errors.Is(err, ErrEmptyToken) and the like select a rule.
//
// The limits bound the work per message and the depth of an Index. Note
// that front-ends map foreign names onto subjects and may produce longer
// or emptier ones (an AMQP exchange and routing key may reach 511 bytes, an
// MQTT topic may have empty levels): they must validate after mapping.
//
// # Matching
//
// Match, Overlaps and Subsumes work on strings without allocating. They do
// not validate: validate at the edge, once, and match validated strings.
// On invalid input they never panic, but their answer is unspecified.
//
// Index maps patterns to values (subscribers, streams, groups) with a trie
// of tokens, one level per token, like nats-server's sublist. Index.Match
// reports each matching value once per call, however many of its patterns
// match; see Index for the details and the result cache.
package subject
