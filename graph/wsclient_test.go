package graph_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// wsClient speaks graphql-transport-ws (or the legacy graphql-ws) to the server, as a test reads
// it: one message at a time, each wait bounded.
type wsClient struct {
	t    *testing.T
	conn *websocket.Conn
	// held are messages read while waiting for another subscription's.
	held []wsMessage
}

// wsMessage is a message of either protocol.
type wsMessage struct {
	Type    string          `json:"type"`
	ID      string          `json:"id,omitempty"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// dialWS opens a WebSocket to the API with the subprotocol, and the upgrade's headers.
func (a *api) dialWS(protocol string, header http.Header) *wsClient {
	a.t.Helper()
	ctx, cancel := context.WithTimeout(a.t.Context(), 5*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(a.srv.URL, "http")+"/query", &websocket.DialOptions{
		Subprotocols: []string{protocol}, HTTPHeader: header,
	})
	if err != nil {
		a.t.Fatalf("dial: %v", err)
	}
	c := &wsClient{t: a.t, conn: conn}
	a.t.Cleanup(func() { _ = conn.CloseNow() })
	return c
}

// connect opens a graphql-transport-ws connection authenticated by token and waits for its ack.
func (a *api) connect(token string) *wsClient {
	a.t.Helper()
	c := a.dialWS("graphql-transport-ws", nil)
	c.send(wsMessage{Type: "connection_init", Payload: json.RawMessage(`{"Authorization": "Bearer ` + token + `"}`)})
	c.expect("connection_ack")
	return c
}

func (c *wsClient) send(m wsMessage) {
	c.t.Helper()
	b, err := json.Marshal(m)
	if err != nil {
		c.t.Fatal(err)
	}
	c.sendRaw(b)
}

func (c *wsClient) sendRaw(b []byte) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.t.Context(), 5*time.Second)
	defer cancel()
	if err := c.conn.Write(ctx, websocket.MessageText, b); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// subscribe starts a subscription with the document and variables.
func (c *wsClient) subscribe(id, query string, vars map[string]any) {
	c.t.Helper()
	p, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		c.t.Fatal(err)
	}
	c.send(wsMessage{Type: "subscribe", ID: id, Payload: p})
}

// next reads the next message other than pings and keep-alives, within 10 s.
func (c *wsClient) next() (wsMessage, error) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.t.Context(), 10*time.Second)
	defer cancel()
	for {
		_, b, err := c.conn.Read(ctx)
		if err != nil {
			return wsMessage{}, err
		}
		var m wsMessage
		if err := json.Unmarshal(b, &m); err != nil {
			c.t.Fatalf("a message that is not JSON: %q", b)
		}
		switch m.Type {
		case "ping":
			c.send(wsMessage{Type: "pong"})
		case "pong", "ka":
		default:
			return m, nil
		}
	}
}

// expect reads the next message and wants its type.
func (c *wsClient) expect(typ string) wsMessage {
	c.t.Helper()
	m, err := c.next()
	if err != nil {
		c.t.Fatalf("waiting for %s: %v", typ, err)
	}
	if m.Type != typ {
		c.t.Fatalf("got %s %s, want %s", m.Type, m.Payload, typ)
	}
	return m
}

// of reads the next message of subscription id, holding those of others for later.
func (c *wsClient) of(id string) wsMessage {
	c.t.Helper()
	for i, m := range c.held {
		if m.ID == id {
			c.held = append(c.held[:i], c.held[i+1:]...)
			return m
		}
	}
	for {
		m, err := c.next()
		if err != nil {
			c.t.Fatalf("waiting for a message of %s: %v", id, err)
		}
		if m.ID == id {
			return m
		}
		c.held = append(c.held, m)
	}
}

// wantRefused reads subscription id's answer and wants it refused with code: an error message,
// or (as gqlgen answers a resolver's error) a next message with errors.
func (c *wsClient) wantRefused(id, code string) {
	c.t.Helper()
	m := c.of(id)
	if (m.Type != "error" && m.Type != "next") || !strings.Contains(string(m.Payload), `"code":"`+code+`"`) {
		c.t.Errorf("subscription %s: %s %s, want it refused with %s", id, m.Type, m.Payload, code)
	}
}

// closed waits for the server to close the socket, and returns its close code.
func (c *wsClient) closed() websocket.StatusCode {
	c.t.Helper()
	for {
		m, err := c.next()
		if err == nil {
			c.t.Logf("before the close: %s %s", m.Type, m.Payload)
			continue
		}
		var ce websocket.CloseError
		if !errors.As(err, &ce) {
			c.t.Fatalf("the socket ended without a close frame: %v", err)
		}
		return ce.Code
	}
}

// wantClosed waits for the close and wants its code.
func (c *wsClient) wantClosed(code websocket.StatusCode) {
	c.t.Helper()
	if got := c.closed(); got != code {
		c.t.Errorf("closed with %d, want %d", got, code)
	}
}
