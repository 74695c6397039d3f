package main

// The findings that hold connections to the server open or drop them: F3c hangs up on an
// expensive request, F4 trickles request bodies a byte a second.

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// F3c: F3a, but the client hangs up after 1 s; what the server spends in the next 10 s.
func f3cHangUp(t *trial) {
	body := gqlBody(repeatedIDQuery(), nil)
	conn, err := net.DialTimeout("tcp", t.srv.addr, 5*time.Second)
	if err != nil {
		t.res.Status = transportLabel(err)
		return
	}
	head := rawHead("POST", t.srv.addr, "/query", len(body), map[string]string{
		"Authorization": "Bearer " + adaToken, "Content-Type": "application/json", "Connection": "close"})
	_ = conn.SetDeadline(time.Now().Add(1 * time.Second))
	_, werr := conn.Write(append(head, body...))
	resp, rerr := http.ReadResponse(bufio.NewReader(conn), nil)
	switch {
	case werr != nil:
		t.res.Status = "client hung up at 1 s while still sending (" + transportLabel(werr) + ")"
	case rerr == nil:
		b, _ := io.ReadAll(io.LimitReader(resp.Body, maxKeep))
		r := reply{Status: resp.StatusCode, Body: b, Size: int64(len(b))}
		t.res.Status = r.label() + " within 1 s (answered before the hang-up)"
	case isTimeout(rerr):
		t.res.Status = "client hung up at 1 s, no answer yet"
	default:
		t.res.Status = "before the hang-up: " + transportLabel(rerr)
	}
	conn.Close()
	atHangUp := t.m.cpuSeconds()
	t.sleep(10 * time.Second)
	after := t.m.cpuSeconds() - atHangUp
	t.note("server CPU in the 10 s after the client hung up: %.2f s", after)
	t.extra("cpu_after_hangup_s", after)
}

// F4: 8 slow clients trickle their bodies while a normal request is timed.
func f4SlowClients(t *trial) {
	const conns = 8
	body := []byte(`{"query":"{ viewer { id } }"}`)
	body = append(body, bytes.Repeat([]byte(" "), 100-len(body))...)
	head := rawHead("POST", t.srv.addr, "/query", len(body), map[string]string{
		"Authorization": "Bearer " + adaToken, "Content-Type": "application/json"})

	sc := startSlowClients(t, conns, head, body)
	t.sleep(1 * time.Second) // the slow requests are in their handlers by now

	r := postGraphQL(t.ctx, newClient(40*time.Second), t.srv.base, gqlBody(viewerQuery, nil), adaToken, nil)
	t.reportReply(r)
	t.setWall(r.Wall)
	t.note("wall = the normal request's, sent 1 s after %d slow clients started", len(sc.open))
	t.note("slow clients: %s", sc.finish())
}

// slowClients are F4's connections, each sending a request head and then its body a byte a second.
type slowClients struct {
	start    time.Time
	open     []net.Conn
	stop     chan struct{} // closed: stop trickling
	closing  sync.Map      // conns this tool closed
	outcomes chan slowOutcome
}

// slowOutcome is how one slow client's request ended, and when (since the clients started).
type slowOutcome struct {
	label string
	at    time.Duration
}

// startSlowClients opens up to n connections, writes head on each, and starts trickling body on
// those that took it; a connection that failed is noted and left out.
func startSlowClients(t *trial, n int, head, body []byte) *slowClients {
	sc := &slowClients{start: time.Now(), stop: make(chan struct{}), outcomes: make(chan slowOutcome, n)}
	for i := 0; i < n; i++ {
		c, err := net.DialTimeout("tcp", t.srv.addr, 5*time.Second)
		if err == nil {
			_, err = c.Write(head)
		}
		if err != nil {
			t.note("slow client %d: %s", i+1, transportLabel(err))
			if c != nil {
				c.Close()
			}
			continue
		}
		sc.open = append(sc.open, c)
		go sc.trickle(c, body)
		go sc.await(c)
	}
	return sc
}

// trickle writes body to c one byte a second, until it is all sent, a write fails, or stop closes.
func (sc *slowClients) trickle(c net.Conn, body []byte) {
	for i := range body {
		if _, err := c.Write(body[i : i+1]); err != nil {
			return
		}
		select {
		case <-sc.stop:
			return
		case <-time.After(time.Second):
		}
	}
}

// await reads the server's answer on c and sends its outcome: answered, closed by the server, or
// still open when this tool closed it.
func (sc *slowClients) await(c net.Conn) {
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	at := time.Since(sc.start)
	switch _, ours := sc.closing.Load(c); {
	case err == nil:
		resp.Body.Close()
		sc.outcomes <- slowOutcome{fmt.Sprintf("answered %d", resp.StatusCode), at}
	case ours:
		sc.outcomes <- slowOutcome{"still open when we closed it", at}
	default:
		sc.outcomes <- slowOutcome{"server: " + transportLabel(err), at}
	}
}

// finish stops the trickles, closes the connections and tallies their outcomes (waiting at most
// 5 s for each).
func (sc *slowClients) finish() string {
	close(sc.stop)
	for _, c := range sc.open {
		sc.closing.Store(c, true)
		c.Close()
	}
	var slow tally
	for range sc.open {
		select {
		case o := <-sc.outcomes:
			if strings.HasPrefix(o.label, "still open") {
				slow.add(o.label)
			} else {
				slow.add(fmt.Sprintf("%s after %.0f s", o.label, o.at.Seconds()))
			}
		case <-time.After(5 * time.Second):
			slow.add("no outcome")
		}
	}
	return slow.String()
}
