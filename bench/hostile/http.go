package main

// HTTP: clients, one request's reply, and how a reply is named in the status/code column.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// maxKeep is how much of a response body is kept (the rest is read and counted, not kept), so that
// a huge response does not hurt this tool.
const maxKeep = 4 << 20

// newClient is a loopback client with no proxy and no connection reuse: every request has a
// connection of its own, closed afterwards.
func newClient(timeout time.Duration) *http.Client {
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			Proxy:             nil,
			DisableKeepAlives: true,
			DialContext:       (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// reply is what one request got: a response (Status > 0), a transport error, or both (an error
// while reading the body).
type reply struct {
	Status int
	Header http.Header
	Body   []byte // at most maxKeep bytes
	Size   int64  // body bytes received
	Err    error
	Wall   time.Duration
}

func do(c *http.Client, req *http.Request) reply {
	start := time.Now()
	resp, err := c.Do(req)
	if err != nil {
		return reply{Err: err, Wall: time.Since(start)}
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	n, err := io.Copy(&buf, io.LimitReader(resp.Body, maxKeep))
	if err == nil {
		var m int64
		m, err = io.Copy(io.Discard, resp.Body)
		n += m
	}
	return reply{Status: resp.StatusCode, Header: resp.Header, Body: buf.Bytes(), Size: n, Err: err, Wall: time.Since(start)}
}

// postGraphQL sends body to /query with the token (none when empty) and extra headers.
func postGraphQL(ctx context.Context, c *http.Client, base string, body []byte, token string, hdr http.Header) reply {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/query", bytes.NewReader(body))
	if err != nil {
		return reply{Err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, vs := range hdr {
		req.Header[k] = vs
	}
	return do(c, req)
}

func get(ctx context.Context, c *http.Client, url string) reply {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return reply{Err: err}
	}
	return do(c, req)
}

// gqlBody is a GraphQL request's JSON body.
func gqlBody(query string, vars map[string]any) []byte {
	p := map[string]any{"query": query}
	if vars != nil {
		p["variables"] = vars
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(p)
	return bytes.TrimRight(b.Bytes(), "\n")
}

type gqlResponse struct {
	Data   json.RawMessage `json:"data"`
	Errors []struct {
		Message    string         `json:"message"`
		Extensions map[string]any `json:"extensions"`
	} `json:"errors"`
}

func (r reply) gql() (gqlResponse, bool) {
	var g gqlResponse
	if r.Size > int64(len(r.Body)) || json.Unmarshal(r.Body, &g) != nil {
		return g, false
	}
	return g, true
}

func (g gqlResponse) hasData() bool {
	d := bytes.TrimSpace(g.Data)
	return len(d) > 0 && !bytes.Equal(d, []byte("null"))
}

// label names the reply for the status/code column: "200 data", "200 GRAPHQL_VALIDATION_FAILED",
// "413 (not JSON)", "timeout", "connection reset", ...
func (r reply) label() string {
	if r.Status == 0 {
		return transportLabel(r.Err)
	}
	s := strconv.Itoa(r.Status)
	if r.Err != nil {
		return fmt.Sprintf("%s, then %s after %d body bytes", s, transportLabel(r.Err), r.Size)
	}
	if r.Size > int64(len(r.Body)) {
		return fmt.Sprintf("%s (%.0f MB body, not parsed)", s, float64(r.Size)/(1<<20))
	}
	g, ok := r.gql()
	if !ok {
		if r.Size == 0 {
			return s + " (empty body)"
		}
		return s + " (not JSON)"
	}
	var parts []string
	if g.hasData() {
		parts = append(parts, "data")
	}
	var codes tally
	for _, e := range g.Errors {
		code, _ := e.Extensions["code"].(string)
		if code == "" {
			code = "error without code"
		}
		codes.add(code)
	}
	if len(codes.order) > 0 {
		parts = append(parts, codes.String())
	}
	if len(parts) == 0 {
		return s + " (no data, no errors)"
	}
	return s + " " + strings.Join(parts, " + ")
}

// ok is true for 200 with data and no errors.
func (r reply) ok() bool {
	g, ok := r.gql()
	return r.Err == nil && r.Status == http.StatusOK && ok && g.hasData() && len(g.Errors) == 0
}

func (r reply) timedOut() bool { return r.Err != nil && isTimeout(r.Err) }

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

// transportLabel names an error below HTTP honestly.
func transportLabel(err error) string {
	switch {
	case err == nil:
		return "no response"
	case isTimeout(err):
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "interrupted"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	case errors.Is(err, syscall.EPIPE):
		return "broken pipe (server closed while we sent)"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection closed (EOF)"
	}
	return "transport error: " + err.Error()
}

// tally counts labels in the order first seen: "200 data ×60" or "200 data ×58, timeout".
type tally struct {
	order []string
	n     map[string]int
}

func (t *tally) add(s string) {
	if t.n == nil {
		t.n = map[string]int{}
	}
	if t.n[s] == 0 {
		t.order = append(t.order, s)
	}
	t.n[s]++
}

func (t *tally) total() int {
	n := 0
	for _, c := range t.n {
		n += c
	}
	return n
}

func (t *tally) String() string {
	parts := make([]string, len(t.order))
	for i, s := range t.order {
		parts[i] = s
		if t.n[s] > 1 {
			parts[i] = fmt.Sprintf("%s ×%d", s, t.n[s])
		}
	}
	return strings.Join(parts, ", ")
}

// rawHead is an HTTP/1.1 request head written by hand (F3c, F4).
func rawHead(method, host, path string, contentLength int, hdr map[string]string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n", method, path, host, contentLength)
	keys := make([]string, 0, len(hdr))
	for k := range hdr {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "%s: %s\r\n", k, hdr[k])
	}
	b.WriteString("\r\n")
	return b.Bytes()
}
