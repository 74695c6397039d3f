package store_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/taskql/taskql/internal/store"
	"github.com/taskql/taskql/internal/testdb"
	"github.com/taskql/taskql/model"
)

// DESIGN §4 UserFilter.search is a case-insensitive substring of the name or the email: for every
// letter, not only ASCII ones, and the same on SQLite and on PostgreSQL whatever the database's
// locale. In a database created with the C locale PostgreSQL's lower('É') is 'É'.
//
// Case-insensitive means that two letters match when their lower cases (Unicode's simple mapping,
// one letter for one) are the same: É and é, ẞ (the capital of ß) and ß, İ and i and I, Σ and σ.
// It is not spelling: ß does not match "ss", as STRASSE is not STRAUẞ.
func TestUserSearchFoldsCaseWhateverTheLocale(t *testing.T) {
	tests := []searchCase{
		{"é", ids("usr_elodie", "usr_emile")}, // élodie@ is an email
		{"É", ids("usr_elodie", "usr_emile")},
		{"émile", ids("usr_emile")},
		{"ÉMILE", ids("usr_emile")},
		{"ÉMILE ZOLA", ids("usr_emile")},
		{"zOLA", ids("usr_emile")},
		{"ÉLODIE@", ids("usr_elodie")},            // the email
		{"ß", ids("usr_strauss", "usr_strauss2")}, // Strauß and STRAUẞ
		{"ẞ", ids("usr_strauss", "usr_strauss2")},
		{"STRAUß", ids("usr_strauss", "usr_strauss2")},
		{"ss", nil},
		{"SS", nil},
		{"ilker", ids("usr_ilker")}, // İlker: İ lowers to i
		{"İLKER", ids("usr_ilker")},
		{"ΟΔΥΣΣΕΑΣ", ids("usr_greek")},
		{"οδυσσεασ", ids("usr_greek")},
		{"ΣΣ", ids("usr_greek")},
		{"ＡＢＣ", ids("usr_wide")}, // fullwidth letters have cases too
		{"ａｂｃ", ids("usr_wide")},
		// The text is matched literally: neither a LIKE pattern nor a regular expression.
		{".", ids("usr_elodie", "usr_emile", "usr_greek", "usr_ilker", "usr_punct", "usr_strauss", "usr_strauss2", "usr_wide")},
		{"a.c", nil}, {".*", nil}, {"[a-z]", nil}, {"a|e", nil}, {"()", nil}, {"^j", nil}, {"z$", nil}, {`\d`, nil},
		{"a%c", nil}, {"a_c", nil}, {`\\`, nil}, {"''", nil},
	}
	for _, engine := range []struct {
		name string
		open func(testing.TB) *store.Store
	}{{"sqlite", testdb.SQLite}, {"postgres", testdb.Postgres}, {"postgres_c_locale", testdb.PostgresCLocale}} {
		t.Run(engine.name, func(t *testing.T) {
			t.Parallel()
			st := engine.open(t)
			users := []model.User{
				user("usr_emile", "Émile", "Zola", "ez@lettres.test"),
				user("usr_elodie", "Lo", "Dupont", "élodie@poste.test"),
				user("usr_strauss", "Johann", "Strauß", "johann@wien.test"),
				user("usr_strauss2", "JOHANN", "STRAUẞ", "jr@wien.test"),
				user("usr_ilker", "İlker", "Başbuğ", "ib@ank.test"),
				user("usr_greek", "ΟΔΥΣΣΕΑΣ", "ΕΛΥΤΗΣ", "oe@ath.test"),
				user("usr_wide", "ＡＢＣ", "Wide", "abc@wide.test"),
				user("usr_punct", "Sym-bols", "O'Neil (x)", `a.b+c_d%e\f[g]^h$i|j*k?l{m}n~o#p&q!r"s<t>u=v,w;x:y/z@sym.test`),
			}
			newWorld(t, st, users...)
			// Each printable ASCII character alone finds whom Go finds by the same rule: none is an
			// operator of LIKE or of a regular expression.
			cases := slices.Clone(tests)
			for c := ' '; c <= '~'; c++ {
				cases = append(cases, searchCase{string(c), holding(users, string(c))})
			}
			for _, tt := range cases {
				f := store.UserFilter{Search: tt.search}
				l, err := st.Users(t.Context(), admin, f, store.Page{Limit: 50})
				if err != nil {
					t.Fatalf("search %q: %v", tt.search, err)
				}
				got := make([]model.UserID, len(l.Items))
				for i, u := range l.Items {
					got[i] = u.ID
				}
				if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("search %q (-want +got):\n%s", tt.search, diff)
				}
				if n, err := st.CountUsers(t.Context(), admin, f); err != nil || n != len(tt.want) {
					t.Errorf("search %q: count = %d, %v; want %d", tt.search, n, err, len(tt.want))
				}
			}
		})
	}
}

// searchCase is a search and the users it finds, by id.
type searchCase struct {
	search string
	want   []model.UserID
}

func ids(s ...model.UserID) []model.UserID { return slices.Clone(s) }

// holding lists, by id, the users whose name or email holds text by the rule of
// TestUserSearchFoldsCaseWhateverTheLocale, computed in Go.
func holding(users []model.User, text string) []model.UserID {
	var found []model.UserID
	text = strings.ToLower(text)
	for _, u := range users {
		if strings.Contains(strings.ToLower(u.Name()), text) || strings.Contains(strings.ToLower(u.Email), text) {
			found = append(found, u.ID)
		}
	}
	slices.Sort(found)
	return found
}
