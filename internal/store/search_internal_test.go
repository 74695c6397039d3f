package store

import (
	"testing"
	"unicode"

	"github.com/google/go-cmp/cmp"
)

// PostgreSQL's search finds what SQLite's finds only if lettersLowering holds every letter that
// Go lowers to another: a letter outside unicode.CaseRanges would be missed.
func TestLettersLoweringHoldsEveryLetterWithAnotherLowerCase(t *testing.T) {
	want := map[rune][]rune{}
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if l := unicode.ToLower(r); l != r {
			want[l] = append(want[l], r)
		}
	}
	if diff := cmp.Diff(want, lettersLowering); diff != "" {
		t.Errorf("lettersLowering (-want +got):\n%s", diff)
	}
}

func TestCaselessWritesEachCharacterAsTheSetOfItsCases(t *testing.T) {
	for text, want := range map[string]string{
		"Éa.ß":  `[éÉ][aA]\U0000002E[ßẞ]`,
		"ik2":   "[iI\u0130][kK\u212a]2", // İ, and the Kelvin sign
		"(a|b)": `\U00000028[aA]\U0000007C[bB]\U00000029`,
		"中文":    `中文`,
		"Σς":    `[σΣ]ς`,
	} {
		if got := caseless(text); got != want {
			t.Errorf("caseless(%q) = %#q, want %#q", text, got, want)
		}
	}
}
