package model

import (
	"errors"
	"fmt"
)

// ErrBadInput is what every error about malformed client input matches (errors.Is): a malformed
// id, a page size out of range, a search too long. It reveals nothing about stored data, so it
// may be told before visibility is checked (DESIGN §3: BAD_USER_INPUT).
var ErrBadInput = errors.New("bad input")

// InputError is malformed client input, with a message fit for the client: the one type of bad
// input, whichever layer finds it.
type InputError struct{ Msg string }

func (e *InputError) Error() string { return e.Msg }

// Is makes errors.Is(err, ErrBadInput) hold.
func (e *InputError) Is(target error) bool { return target == ErrBadInput }

// BadInput makes an InputError.
func BadInput(format string, args ...any) error {
	return &InputError{Msg: fmt.Sprintf(format, args...)}
}

// malformedID says that a string is not an id of the type prefix names ("" for any type).
func malformedID(s, prefix string) error {
	what := "id"
	if prefix != "" {
		what = prefix + "_ id"
	}
	if len(s) > 2*MaxIDLength {
		// Far too long to be an id: not worth repeating to the client.
		return BadInput("a value of %d bytes is not a well-formed %s", len(s), what)
	}
	return BadInput("%q is not a well-formed %s", s, what)
}
