package store

import (
	"database/sql/driver"
	"fmt"
	"strings"
	"unicode"

	gosqlite "github.com/glebarez/go-sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/taskql/taskql/internal/migrate"
)

// A user search (DESIGN §4 UserFilter.search) finds the text in the name or the email whatever
// the case of either, for every letter, and the same on both databases: two letters match when
// their lower cases are the same, as Go's unicode.ToLower gives them (Unicode's simple case
// mapping, one letter for one). So É matches é, İ matches i, Σ matches σ, and ẞ, the capital of
// ß, matches ß; ß does not match "ss", which is spelling, not case (a full case folding would
// also change the text's length and what a substring is), and the final ς, a lower case of its
// own, matches only itself.
//
// The rule is computed by Go on both databases, never by the database's own lower(): SQLite's
// lowers ASCII letters only, and PostgreSQL's follows the database's LC_CTYPE (in a database
// created with the C locale lower('É') is 'É') or, under an ICU collation, ICU's full mapping
// (İ becomes two characters, a final Σ becomes ς), and a server may be built without ICU.

// search is the SQL condition that a user's name or email holds text, case-insensitively.
func (s *Store) search(text string) clause.Expr {
	if s.dialect == migrate.SQLite {
		// SQLite lowers both sides with Go's function, and the pattern is matched literally.
		pattern := "%" + escapeLike(strings.ToLower(text)) + "%"
		return gorm.Expr(`(`+sqliteLower+`(users.first_name || ' ' || users.last_name) LIKE ? ESCAPE '\' OR `+
			sqliteLower+`(users.email) LIKE ? ESCAPE '\')`, pattern, pattern)
	}
	// PostgreSQL matches the columns as they are against a regular expression in which each
	// letter is the set of the letters with its lower case: the same rule, whatever the locale.
	// A trigram index (pg_trgm) on the columns as stored could serve it; a lower() would have to
	// be indexed as an expression that the locale decides.
	pattern := caseless(text)
	return gorm.Expr(`((users.first_name || ' ' || users.last_name) ~ ? OR users.email ~ ?)`, pattern, pattern)
}

// escapeLike makes every character of s match itself in a LIKE pattern.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// caseless is a PostgreSQL regular expression (ARE) that matches text wherever it occurs, each
// character standing for every character with its lower case: "Éa." is `[éÉ][aA]\U0000002E`.
// Letters and digits are written as they are, anything else as an escape, so that no character
// of text is ever an operator.
func caseless(text string) string {
	var b strings.Builder
	for _, r := range text {
		lower := unicode.ToLower(r)
		others := lettersLowering[lower]
		if len(others) > 0 {
			b.WriteByte('[')
		}
		writeLiteral(&b, lower)
		for _, o := range others {
			writeLiteral(&b, o)
		}
		if len(others) > 0 {
			b.WriteByte(']')
		}
	}
	return b.String()
}

// writeLiteral writes a character that matches itself, in a bracket expression or out of one.
func writeLiteral(b *strings.Builder, r rune) {
	if unicode.IsLetter(r) || unicode.IsDigit(r) {
		b.WriteRune(r)
		return
	}
	fmt.Fprintf(b, `\U%08X`, r)
}

// lettersLowering maps a lower case to the other letters that lower to it, in code point order:
// 'e' to "E", 'i' to "Iİ", 'k' to "KK" (the Kelvin sign), 'ß' to "ẞ".
var lettersLowering = func() map[rune][]rune {
	m := map[rune][]rune{}
	// unicode.ToLower changes only the letters of CaseRanges.
	for _, cr := range unicode.CaseRanges {
		for r := rune(cr.Lo); r <= rune(cr.Hi); r++ {
			if l := unicode.ToLower(r); l != r {
				m[l] = append(m[l], r)
			}
		}
	}
	return m
}()

// sqliteLower is SQLite's Unicode-aware lower(): SQLite's own folds ASCII letters only.
const sqliteLower = "taskql_lower"

func init() {
	gosqlite.MustRegisterDeterministicScalarFunction(sqliteLower, 1, func(_ *gosqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
		switch v := args[0].(type) {
		case string:
			return strings.ToLower(v), nil
		case []byte:
			return strings.ToLower(string(v)), nil
		}
		return args[0], nil
	})
}
