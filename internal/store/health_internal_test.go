package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"
)

// An outage is logged once when it starts and once when statements have reached the database for
// recoverAfter with none failing; what fails or succeeds around either moment, a timeout or a lock
// wait, logs nothing more.
func TestHealthLogsAnOutageOncePerChange(t *testing.T) {
	var logs bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&logs, nil)))
	t.Cleanup(func() { slog.SetDefault(prev) })

	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	h := &health{now: func() time.Time { return clock }}
	refused := fmt.Errorf("dial: %w", syscall.ECONNREFUSED)
	killed := &pgconn.PgError{Code: "57P01", Message: "terminating connection due to administrator command"}
	steps := []struct {
		after time.Duration
		err   error
		down  bool // the state after the statement
		logs  string
	}{
		{0, nil, false, ""},
		{0, context.DeadlineExceeded, false, ""},                                               // a slow statement, or a lock held
		{0, &pgconn.PgError{Code: "55P03"}, false, ""},                                         // lock_timeout
		{0, gorm.ErrRecordNotFound, false, ""},                                                 // an answer
		{0, killed, true, "database unreachable"},                                              // the outage starts
		{time.Millisecond, nil, true, ""},                                                      // one in flight ends well
		{time.Millisecond, killed, true, ""},                                                   // another pooled connection learns it
		{time.Millisecond, refused, true, ""},                                                  // and the server is away
		{10 * time.Second, nil, true, ""},                                                      // back: the first answer
		{recoverAfter / 2, nil, true, ""},                                                      // not yet a second
		{recoverAfter / 2, nil, false, "database reachable again"},                             // a second without a failure
		{time.Millisecond, nil, false, ""},                                                     //
		{time.Millisecond, errors.Join(errors.New("x"), killed), true, "database unreachable"}, // the next outage
	}
	for i, s := range steps {
		clock = clock.Add(s.after)
		logs.Reset()
		h.observe(&gorm.DB{Statement: &gorm.Statement{}, Config: &gorm.Config{}, Error: s.err})
		if got := h.down.Load(); got != s.down {
			t.Errorf("step %d (%v): down %v, want %v", i, s.err, got, s.down)
		}
		if got := logs.String(); (s.logs == "") != (got == "") || !strings.Contains(got, s.logs) {
			t.Errorf("step %d (%v): logged %q, want %q", i, s.err, got, s.logs)
		}
	}
}
