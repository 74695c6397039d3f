package scale

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// client is the HTTP client of every test: a few dozen concurrent requests to a few servers.
var client = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}

// answer is a GraphQL response, with the HTTP status it came with.
type answer struct {
	Status int                        `json:"-"`
	Data   map[string]json.RawMessage `json:"data"`
	Errors []struct {
		Message    string `json:"message"`
		Extensions struct {
			Code       string `json:"code"`
			Violations []struct {
				UserID string `json:"userId"`
				Reason string `json:"reason"`
			} `json:"violations"`
		} `json:"extensions"`
	} `json:"errors"`
}

// code is the first error's code, or "".
func (a answer) code() string {
	if len(a.Errors) == 0 {
		return ""
	}
	return a.Errors[0].Extensions.Code
}

// post sends one GraphQL request with the token; a failure to get a JSON answer fails the test.
func post(t *testing.T, base, tok, doc string, vars map[string]any) answer {
	t.Helper()
	a, err := send(t.Context(), base, tok, doc, vars)
	if err != nil {
		t.Fatalf("POST %s/query: %v", base, err)
	}
	return a
}

func send(ctx context.Context, base, tok, doc string, vars map[string]any) (answer, error) {
	body, err := json.Marshal(map[string]any{"query": doc, "variables": vars})
	if err != nil {
		return answer{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/query", bytes.NewReader(body))
	if err != nil {
		return answer{}, err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return answer{}, err
	}
	a := answer{Status: resp.StatusCode}
	if err := json.Unmarshal(raw, &a); err != nil {
		return a, fmt.Errorf("HTTP %d, not JSON: %.200s", resp.StatusCode, raw)
	}
	return a, nil
}

// field decodes one field of the answer's data into v.
func (a answer) field(t *testing.T, name string, v any) {
	t.Helper()
	if err := json.Unmarshal(a.Data[name], v); err != nil {
		t.Fatalf("field %s of %+v: %v", name, a, err)
	}
}

// stream is a subscription over server-sent events: the payloads of its "next" events as they
// come.
type stream struct {
	mu     sync.Mutex
	events []change
	done   chan struct{}
}

// change is what the subscription of the tests selects of a TaskAssigneesChange.
type change struct {
	ID   string `json:"id"`
	Task struct {
		ID string `json:"id"`
	} `json:"task"`
}

const changesDoc = `subscription { taskAssigneesChanged { id task { id } } }`

// subscribe subscribes to every change the token's viewer sees, over server-sent events; the
// stream ends with the test.
func subscribe(t *testing.T, base, tok string) *stream {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": changesDoc})
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, base+"/query", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := (&http.Client{}).Do(req) // no timeout: it lasts as long as the test
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("subscribe on %s: HTTP %d %s", base, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	s := &stream{done: make(chan struct{})}
	go s.read(resp.Body)
	t.Cleanup(func() { resp.Body.Close(); <-s.done })
	return s
}

// read keeps the payload of each "next" event until the stream ends.
func (s *stream) read(body io.Reader) {
	defer close(s.done)
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	next := false
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "event: next":
			next = true
		case next && strings.HasPrefix(line, "data: "):
			var p struct {
				Data struct {
					C change `json:"taskAssigneesChanged"`
				} `json:"data"`
			}
			if json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &p) == nil {
				s.mu.Lock()
				s.events = append(s.events, p.Data.C)
				s.mu.Unlock()
			}
			next = false
		}
	}
}

// received is what the stream heard so far.
func (s *stream) received() []change {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]change(nil), s.events...)
}

// waitFor waits, at most d, until the stream heard n changes, and returns them.
func (s *stream) waitFor(t *testing.T, n int, d time.Duration) []change {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		got := s.received()
		if len(got) >= n || time.Now().After(deadline) {
			return got
		}
		time.Sleep(10 * time.Millisecond) // events of another process: polled, bounded
	}
}
