package auth

import (
	"strings"
	"testing"
)

// FuzzBearerToken holds what BearerToken promises for any Authorization header. It cuts the
// header, trimmed of Unicode white space (strings.TrimSpace), at its first ASCII space; the part
// before must be "Bearer" in any case, and the token is the rest, trimmed again. So:
//
//   - the token has no leading or trailing white space (Unicode's, not only ' ', '\t', '\n');
//   - a token comes only from a header that, trimmed, is "bearer" in any case, one ASCII space,
//     and the token with only white space around it (a tab or any other separator is no
//     header: RFC 6750 takes one SP);
//   - "Bearer " (any case, any white space around the header or after the space) followed by a
//     non-empty token that has no white space at either end gives that token back. A token with
//     white space at an end loses it: "Bearer a\u00a0" gives "a", "Bearer \v" gives "".
//     Spaces inside the token are kept: "Bearer a b" gives "a b", which no stored token matches.
//
// tok is a second, independent input for the last property; ws picks the white space around it.
//
//	go test -run '^$' -fuzz '^FuzzBearerToken$' -fuzztime 20s ./internal/auth
func FuzzBearerToken(f *testing.F) {
	for _, seed := range []struct {
		header, tok string
		ws          uint8
	}{
		{"Bearer tok-ada", "tok-ada", 0},
		{"bearer   abc.def_ghi ", "abc", 1},
		{"BEARER\tabc", "a b", 2},
		{"Basic dXNlcjpwYXNz", "dXNlcjpwYXNz", 3},
		{"Bearer", "x", 4},
		{"Bearer ", "\u00a0x\u00a0", 5},
		{" \u3000Bearer a b\v", "\vb", 6},
		{"Bearerx tok", "tok", 7},
		{"", "", 8},
		{"\xffBearer \xfe", "\xff", 9},
	} {
		f.Add(seed.header, seed.tok, seed.ws)
	}
	f.Fuzz(func(t *testing.T, header, tok string, ws uint8) {
		got := BearerToken(header)
		if got != strings.TrimSpace(got) {
			t.Errorf("BearerToken(%q) = %q, which has white space at an end", header, got)
		}
		if got != "" {
			h := strings.TrimSpace(header)
			if len(h) < len("Bearer ") || !strings.EqualFold(h[:len("Bearer")], "Bearer") || h[len("Bearer")] != ' ' {
				t.Errorf("BearerToken(%q) = %q from a header that does not start with \"Bearer \"", header, got)
			} else if rest := strings.TrimSpace(h[len("Bearer "):]); rest != got {
				t.Errorf("BearerToken(%q) = %q, want the rest of the header, %q", header, got, rest)
			}
			if !strings.Contains(header, got) {
				t.Errorf("BearerToken(%q) = %q, which the header does not contain", header, got)
			}
		}

		if tok == "" || tok != strings.TrimSpace(tok) {
			return
		}
		schemes := []string{"Bearer", "bearer", "BEARER", "bEaReR"}
		spaces := []string{"", " ", "\t", "\r\n", "\u00a0", "\u3000 "}
		before, after := spaces[int(ws)%len(spaces)], spaces[int(ws/8)%len(spaces)]
		h := before + schemes[int(ws/64)%len(schemes)] + " " + after + tok + before
		if got := BearerToken(h); got != tok {
			t.Errorf("BearerToken(%q) = %q, want %q", h, got, tok)
		}
	})
}
