package graph

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"sync"
	"time"

	coderws "github.com/coder/websocket"

	"github.com/99designs/gqlgen/graphql/handler/transport"
)

// The close codes of graphql-transport-ws that taskql sends (DESIGN §4), and two of RFC 6455.
const (
	closeGoingAway       = 1001 // the server shuts down
	closeTryAgainLater   = 1013 // the database cannot check the token now
	closeInvalidMessage  = 4400
	closeUnauthorized    = 4401 // a subscribe before connection_ack
	closeForbidden       = 4403 // a missing or bad token
	closeInitTimeout     = 4408 // no connection_init in time
	closeDuplicateID     = 4409
	closeTooManyInitials = 4429 // a second connection_init
)

// Times of DESIGN §4 for WebSocket connections (and server-sent events' keep-alive).
const (
	initTimeout = 3 * time.Second
	keepAlive   = 15 * time.Second
)

// sockets accepts WebSocket connections for gqlgen's transport, and holds each to the parts of
// the graphql-transport-ws protocol gqlgen leaves out: the close codes 4400 (an invalid or too
// large message), 4401 (a subscribe before connection_ack), 4408 (no connection_init within
// 3 s), 4409 (a subscription id already in use) and 4429 (a second connection_init). Origins are
// checked like CORS origins. It keeps the open connections, to close them with 1001 on shutdown.
type sockets struct {
	accept     transport.CoderWebsocketImplementation
	maxMessage int64

	mu    sync.Mutex
	open  map[*socket]struct{}
	drain bool
}

// newSockets accepts pages of the same origin, of the allowed origins (as for CORS), and
// clients that send no Origin (which are not browsers); a client's message holds at most
// maxMessage bytes.
func newSockets(origins []string, maxMessage int64) *sockets {
	opts := coderws.AcceptOptions{}
	if slices.Contains(origins, "*") {
		opts.InsecureSkipVerify = true
	}
	for _, o := range origins {
		if u, err := url.Parse(o); err == nil && u.Host != "" {
			opts.OriginPatterns = append(opts.OriginPatterns, u.Host)
		}
	}
	return &sockets{accept: transport.CoderWebsocketImplementation{AcceptOptions: opts}, maxMessage: maxMessage, open: map[*socket]struct{}{}}
}

var _ transport.WebsocketImplementation = (*sockets)(nil)

// Accept upgrades the request and starts the clock of connection_init.
func (s *sockets) Accept(w http.ResponseWriter, r *http.Request, o transport.WebsocketAcceptOptions) (transport.WebsocketConn, error) {
	c, err := s.accept.Accept(w, r, o)
	if err != nil {
		return nil, err
	}
	sock := &socket{WebsocketConn: c, owner: s, active: map[string]bool{}}
	s.mu.Lock()
	draining := s.drain
	s.open[sock] = struct{}{}
	s.mu.Unlock()
	if draining {
		sock.refuse(closeGoingAway, "server shutting down")
		return sock, nil
	}
	sock.initTimer = time.AfterFunc(initTimeout, func() {
		if !sock.initialised() {
			sock.refuse(closeInitTimeout, "Connection initialisation timeout")
		}
	})
	return sock, nil
}

// closeAll closes every open connection with 1001, and any that opens from now on.
func (s *sockets) closeAll() {
	s.mu.Lock()
	s.drain = true
	open := make([]*socket, 0, len(s.open))
	for sock := range s.open {
		open = append(open, sock)
	}
	s.mu.Unlock()
	for _, sock := range open {
		sock.refuse(closeGoingAway, "server shutting down")
	}
}

// socket is one connection, as gqlgen's transport reads and writes it.
type socket struct {
	transport.WebsocketConn
	owner     *sockets
	initTimer *time.Timer

	mu     sync.Mutex
	inited bool
	acked  bool
	closed bool
	active map[string]bool
}

func (c *socket) initialised() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.inited
}

// refuse closes the connection with code, once.
func (c *socket) refuse(code int, reason string) {
	c.mu.Lock()
	done := c.closed
	c.closed = true
	c.mu.Unlock()
	if !done {
		_ = c.WebsocketConn.WriteClose(code, reason)
	}
}

// initialise stops the clock of connection_init; c.mu is held.
func (c *socket) initialise() {
	c.inited = true
	if c.initTimer != nil {
		c.initTimer.Stop()
	}
}

// incoming is what a client's message must hold.
type incoming struct {
	Type    string          `json:"type"`
	ID      string          `json:"id"`
	Payload json.RawMessage `json:"payload"`
}

// NextReader reads the client's next message and holds it to the protocol before gqlgen sees it.
func (c *socket) NextReader() (int, io.Reader, error) {
	typ, r, err := c.WebsocketConn.NextReader()
	if err != nil {
		return typ, r, err
	}
	data, err := io.ReadAll(io.LimitReader(r, c.owner.maxMessage+1))
	if err != nil {
		return typ, nil, err
	}
	if code, reason := c.check(data); code != 0 {
		c.refuse(code, reason)
		return typ, nil, transport.ErrWebsocketClosed
	}
	return typ, bytes.NewReader(data), nil
}

// check says how to close the connection for a client's message, or 0 to let it through.
func (c *socket) check(data []byte) (int, string) {
	var m incoming
	if int64(len(data)) > c.owner.maxMessage {
		return closeInvalidMessage, "Message too large"
	}
	if err := json.Unmarshal(data, &m); err != nil || m.Type == "" {
		return closeInvalidMessage, "Invalid message received"
	}
	if m.Type == "connection_init" && !objectOrNull(m.Payload) {
		// gqlgen cannot read such a payload, and then neither acknowledges nor closes: the
		// socket would hang, its clock of connection_init stopped.
		return closeInvalidMessage, "Invalid message received"
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.Subprotocol() != "graphql-transport-ws" {
		// The legacy graphql-ws protocol has no codes of its own: only the clock of its init.
		if m.Type == "connection_init" {
			c.initialise()
		}
		return 0, ""
	}
	switch m.Type {
	case "connection_init":
		if c.inited {
			return closeTooManyInitials, "Too many initialisation requests"
		}
		c.initialise()
	case "subscribe":
		switch {
		case !c.acked:
			return closeUnauthorized, "Unauthorized"
		case c.active[m.ID]:
			return closeDuplicateID, "Subscriber for " + m.ID + " already exists"
		}
		c.active[m.ID] = true
	case "complete":
		delete(c.active, m.ID)
	case "ping", "pong":
	default:
		return closeInvalidMessage, "Invalid message received"
	}
	return 0, ""
}

// objectOrNull tells whether a message's payload is absent, null or a JSON object.
func objectOrNull(payload json.RawMessage) bool {
	p := bytes.TrimSpace(payload)
	return len(p) == 0 || string(p) == "null" || p[0] == '{'
}

// WriteJSON writes gqlgen's message, noting the acknowledgement and the end of subscriptions.
func (c *socket) WriteJSON(v any) error {
	typ, id := messageTypeAndID(v)
	c.mu.Lock()
	switch typ {
	case "connection_ack":
		c.acked = true
	case "complete", "error":
		delete(c.active, id)
	}
	c.mu.Unlock()
	return c.WebsocketConn.WriteJSON(v)
}

// messageTypeAndID reads the Type and ID fields of one of gqlgen's (unexported) message structs.
func messageTypeAndID(v any) (string, string) {
	rv := reflect.Indirect(reflect.ValueOf(v))
	if rv.Kind() != reflect.Struct {
		return "", ""
	}
	str := func(name string) string {
		if f := rv.FieldByName(name); f.IsValid() && f.Kind() == reflect.String {
			return f.String()
		}
		return ""
	}
	return str("Type"), str("ID")
}

// WriteClose closes the connection with gqlgen's code, unless it is already closed with ours.
func (c *socket) WriteClose(code int, reason string) error {
	c.refuse(code, reason)
	return nil
}

// Close releases the connection and forgets it.
func (c *socket) Close() error {
	if c.initTimer != nil {
		c.initTimer.Stop()
	}
	c.owner.mu.Lock()
	delete(c.owner.open, c)
	c.owner.mu.Unlock()
	return c.WebsocketConn.Close()
}

// SetReadLimit and SetReadDeadline pass gqlgen's settings to the connection.
func (c *socket) SetReadLimit(limit int64) {
	if l, ok := c.WebsocketConn.(transport.WebsocketReadLimiter); ok {
		l.SetReadLimit(limit)
	}
}

func (c *socket) SetReadDeadline(t time.Time) error {
	if d, ok := c.WebsocketConn.(transport.WebsocketReadDeadliner); ok {
		return d.SetReadDeadline(t)
	}
	return nil
}
