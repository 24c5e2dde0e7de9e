// Package deptest keeps Courier's dependencies pointing one way: protocol
// packages → broker → log → vfs; server and cmd wire things together; no
// core package reaches up. Its test reads the import graph with go list.
package deptest
