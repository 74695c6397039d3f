package store_test

import (
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/taskql/taskql/internal/store"
	"github.com/taskql/taskql/internal/testdb"
	"github.com/taskql/taskql/model"
)

// DESIGN §11: a replica that cannot take reads never costs a read an error; the reads go to the
// primary. Here the replica is a port nobody listens on, or a server that is no standby (the
// primary itself): neither ever becomes usable, and every read is answered. internal/scale tests
// a real streaming replica.
func TestReadsGoToThePrimaryWhileTheReplicaCannotTakeThem(t *testing.T) {
	url := testdb.PostgresURL(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	for name, replica := range map[string]string{
		"unreachable": fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?connect_timeout=1", closed),
		"no standby":  url,
	} {
		t.Run(name, func(t *testing.T) {
			st, err := store.Open(t.Context(), url, store.WithReplica(replica, time.Second))
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			sc := store.Scope{OrganizationID: "org_none"}
			deadline := time.Now().Add(time.Second) // a few probes
			for time.Now().Before(deadline) {
				if _, err := st.UsersByID(t.Context(), sc, []model.UserID{"usr_nobody"}); err != nil {
					t.Fatalf("a read with the replica %s: %v", name, err)
				}
				if s := st.ReplicaStats(); !s.Configured || s.Usable || s.Reads > 0 {
					t.Fatalf("replica %s: %+v, want configured, never usable, no read", name, s)
				}
				time.Sleep(20 * time.Millisecond) // the prober's turns
			}
		})
	}
}
