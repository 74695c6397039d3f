package main

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/taskql/taskql/internal/auth"
	"github.com/taskql/taskql/internal/store"
)

func TestTokenCreateAndRevoke(t *testing.T) {
	eachDatabase(t, func(t *testing.T, url string) {
		mustRun(t, "seed", "--file", writeFile(t, "good.json", goodWorld))
		st := openStore(t, url)

		create := func() string {
			t.Helper()
			out := mustRun(t, "token", "create", "--user", "usr_ada")
			token, ok := strings.CutSuffix(out, "\n")
			if !ok || token == "" || strings.ContainsAny(token, "\n \t") {
				t.Fatalf("token create printed %q, want one line with the token", out)
			}
			wantViewer(t, st, token, "usr_ada")
			return token
		}
		first, second := create(), create()
		if first == second {
			t.Fatalf("two token create gave the same token %q", first)
		}

		// Only the hashes are stored: no column of any token row holds a token's text.
		var stored []map[string]any
		if err := st.Gorm().Table("tokens").Find(&stored).Error; err != nil {
			t.Fatal(err)
		}
		if len(stored) != 4 {
			t.Fatalf("tokens table: %d rows, want 4 (2 of the file, 2 created)", len(stored))
		}
		hashes := map[string]bool{}
		for _, row := range stored {
			for col, v := range row {
				s := fmt.Sprint(v)
				for _, plain := range []string{first, second, "ada-secret-token"} {
					if strings.Contains(s, plain) {
						t.Errorf("tokens.%s holds the plain text of token %q", col, plain)
					}
				}
			}
			hashes[fmt.Sprint(row["hash"])] = true
		}
		for _, plain := range []string{first, second} {
			if !hashes[auth.HashToken(plain)] {
				t.Errorf("tokens has no row with the hash of %q", plain)
			}
		}

		// Revoke refuses every token of the user at once, the file's included, and only hers.
		out := mustRun(t, "token", "revoke", "--user", "usr_ada")
		if want := "taskql: revoked 3 token(s) of usr_ada\n"; out != want {
			t.Errorf("token revoke printed %q, want %q", out, want)
		}
		for _, tk := range []string{first, second, "ada-secret-token"} {
			wantRefused(t, st, tk)
		}
		wantViewer(t, st, "bea-secret-token", "usr_bea")
		if out := mustRun(t, "token", "revoke", "--user", "usr_ada"); !strings.Contains(out, "revoked 0 token(s)") {
			t.Errorf("a second revoke printed %q, want 0 revoked", out)
		}

		// A token created after the revocation works.
		create()
	})
}

func TestTokenCommandsRefuseBadUsers(t *testing.T) {
	url := sqliteURL(t)
	t.Setenv("DATABASE_URL", url)
	mustRun(t, "seed", "--file", writeFile(t, "good.json", goodWorld))
	st := openStore(t, url)
	before := count(t, st, "tokens")

	mustFail(t, []string{"token", "create", "--user", "bad"}, "--user", `"bad"`)
	mustFail(t, []string{"token", "create", "--user", "prj_site"}, "--user", "prj_site")
	mustFail(t, []string{"token", "create"}, "--user")
	mustFail(t, []string{"token", "revoke", "--user", "bad"}, "--user", `"bad"`)
	err := mustFail(t, []string{"token", "create", "--user", "usr_nobody"}, "usr_nobody")
	if !errors.Is(err, store.ErrNotFound) && !strings.Contains(err.Error(), "not found") {
		t.Errorf("token create for an unknown user: %v, want it to say the user is not found", err)
	}
	mustFail(t, []string{"token"}, "token create --user ID")
	mustFail(t, []string{"token", "delete", "--user", "usr_ada"}, "token create --user ID")

	if n := count(t, st, "tokens"); n != before {
		t.Errorf("refused token commands changed the tokens from %d to %d rows", before, n)
	}
}
