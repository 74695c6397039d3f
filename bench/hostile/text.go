package main

// Short text for the notes and errors of the report.

import (
	"strings"
	"unicode/utf8"
)

// clip shortens s to at most n bytes, at a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// yesNo is "yes" or "no", for a note.
func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// tailString is the last n bytes of s, trimmed, for an error or a note.
func tailString(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		s = "…" + s[len(s)-n:]
	}
	return s
}
