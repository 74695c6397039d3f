package model

import (
	"crypto/rand"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/oklog/ulid/v2"
)

// Typed ids (DESIGN §1): a prefix naming the type, "_", and 1–27 characters of [0-9A-Za-z]. A
// distinct Go type per prefix means a user id can never reach a task lookup.
type (
	OrganizationID string
	CompanyID      string
	UserID         string
	ProjectID      string
	PhaseID        string
	TaskID         string
	EventID        string
	TaskDataID     string
	WebhookID      string
	// WebhookDeliveryID names one attempt to deliver an event to a webhook.
	WebhookDeliveryID string
)

// Prefixes of the ids, which tell an id's type (used by node(id:)).
const (
	PrefixOrganization = "org"
	PrefixCompany      = "cmp"
	PrefixUser         = "usr"
	PrefixProject      = "prj"
	PrefixPhase        = "phs"
	PrefixTask         = "tsk"
	PrefixEvent        = "evt"
	PrefixTaskData     = "tdt"
	PrefixWebhook      = "whk"
	PrefixDelivery     = "whd"
)

// MaxIDLength is the longest id, as in the first seed document.
const MaxIDLength = 32

// PrefixOf returns the type prefix of a well-formed id of any type, or false.
func PrefixOf(s string) (string, bool) {
	prefix, rest, ok := strings.Cut(s, "_")
	if !ok || len(s) > MaxIDLength || len(prefix) == 0 || !validSuffix(rest) {
		return "", false
	}
	return prefix, true
}

func validSuffix(s string) bool {
	if len(s) < 1 || len(s) > 27 {
		return false
	}
	for _, c := range []byte(s) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

func parse[T ~string](prefix, s string) (T, error) {
	if p, ok := PrefixOf(s); !ok || p != prefix {
		return "", malformedID(s, prefix)
	}
	return T(s), nil
}

// ParseOrganizationID checks that s is a well-formed org_ id.
func ParseOrganizationID(s string) (OrganizationID, error) {
	return parse[OrganizationID](PrefixOrganization, s)
}

// ParseCompanyID checks that s is a well-formed cmp_ id.
func ParseCompanyID(s string) (CompanyID, error) { return parse[CompanyID](PrefixCompany, s) }

// ParseUserID checks that s is a well-formed usr_ id.
func ParseUserID(s string) (UserID, error) { return parse[UserID](PrefixUser, s) }

// ParseProjectID checks that s is a well-formed prj_ id.
func ParseProjectID(s string) (ProjectID, error) { return parse[ProjectID](PrefixProject, s) }

// ParsePhaseID checks that s is a well-formed phs_ id.
func ParsePhaseID(s string) (PhaseID, error) { return parse[PhaseID](PrefixPhase, s) }

// ParseTaskID checks that s is a well-formed tsk_ id.
func ParseTaskID(s string) (TaskID, error) { return parse[TaskID](PrefixTask, s) }

// ParseEventID checks that s is a well-formed evt_ id.
func ParseEventID(s string) (EventID, error) { return parse[EventID](PrefixEvent, s) }

// ParseTaskDataID checks that s is a well-formed tdt_ id.
func ParseTaskDataID(s string) (TaskDataID, error) { return parse[TaskDataID](PrefixTaskData, s) }

// ParseWebhookID checks that s is a well-formed whk_ id.
func ParseWebhookID(s string) (WebhookID, error) { return parse[WebhookID](PrefixWebhook, s) }

// NodeID is a well-formed id of a known type, whichever (node(id:), DESIGN §4).
type NodeID string

// knownPrefixes are the prefixes of the types with ids.
var knownPrefixes = []string{PrefixOrganization, PrefixCompany, PrefixUser, PrefixProject, PrefixPhase,
	PrefixTask, PrefixEvent, PrefixTaskData, PrefixWebhook, PrefixDelivery}

// ParseNodeID checks that s is a well-formed id of a known type.
func ParseNodeID(s string) (NodeID, error) {
	prefix, ok := PrefixOf(s)
	switch {
	case !ok:
		return "", malformedID(s, "")
	case !slices.Contains(knownPrefixes, prefix):
		return "", BadInput("%q is not the id of a known type", s)
	}
	return NodeID(s), nil
}

// Prefix is the prefix of the id, which tells its type.
func (id NodeID) Prefix() string {
	p, _, _ := strings.Cut(string(id), "_")
	return p
}

// ParseUserIDs parses every id of a list, failing on the first malformed one.
func ParseUserIDs(ss []string) ([]UserID, error) { return parseAll(ss, ParseUserID) }

// ParseTaskIDs parses every id of a list, failing on the first malformed one.
func ParseTaskIDs(ss []string) ([]TaskID, error) { return parseAll(ss, ParseTaskID) }

// parseAll parses every id of a list, failing on the first malformed one.
func parseAll[ID any](ss []string, parse func(string) (ID, error)) ([]ID, error) {
	ids := make([]ID, len(ss))
	for i, s := range ss {
		id, err := parse(s)
		if err != nil {
			return nil, err
		}
		ids[i] = id
	}
	return ids, nil
}

var (
	entropyMu sync.Mutex
	entropy   = ulid.Monotonic(rand.Reader, 0)
)

// NewID returns a fresh id with the given prefix whose suffix is a ULID, so that ids sort by
// creation time (DESIGN §1), which keyset pagination and index locality rely on.
func NewID[T ~string](prefix string) T {
	entropyMu.Lock()
	defer entropyMu.Unlock()
	return T(prefix + "_" + ulid.MustNew(ulid.Timestamp(time.Now()), entropy).String())
}
