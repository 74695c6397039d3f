// Package seed loads fixture worlds (DESIGN §5): organizations, companies, users and their
// tokens, projects, phases, events and tasks with given ids, from a JSON file or from Go, into
// a database, all or nothing. `go run . seed --file F.json` and `seed --demo` use it, and so do
// the tests, which describe the world they need instead of inserting rows.
package seed

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"github.com/taskql/taskql/model"
)

// World is a fixture file (DESIGN §5). Ids and enum values are kept as the file spells them;
// Load checks them. A reference may name a row of the same world or one already in the database.
type World struct {
	Organizations []Organization `json:"organizations,omitempty"`
	Companies     []Company      `json:"companies,omitempty"`
	Users         []User         `json:"users,omitempty"`
	Tokens        []Token        `json:"tokens,omitempty"`
	Projects      []Project      `json:"projects,omitempty"`
	Phases        []Phase        `json:"phases,omitempty"`
	Events        []Event        `json:"events,omitempty"`
	Tasks         []Task         `json:"tasks,omitempty"`
}

// Organization is a tenant of the world.
type Organization struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Company is an organization's agency (Kind "AGENCY", one per organization) or a client
// ("CLIENT").
type Company struct {
	ID             string `json:"id"`
	OrganizationID string `json:"organizationId"`
	Name           string `json:"name"`
	Kind           string `json:"kind"`
}

// User is a person of an organization, member of one of its companies. IsAccessApproved
// defaults to true; InvitedByID, when set, names a user listed earlier or already stored.
type User struct {
	ID                 string  `json:"id"`
	OrganizationID     string  `json:"organizationId"`
	CompanyID          string  `json:"companyId"`
	FirstName          string  `json:"firstName"`
	LastName           string  `json:"lastName"`
	Email              string  `json:"email"`
	Avatar             *string `json:"avatar,omitempty"`
	IsOrgAdmin         bool    `json:"isOrgAdmin,omitempty"`
	IsAccessApproved   *bool   `json:"isAccessApproved,omitempty"`
	OnboardingRequired bool    `json:"onboardingRequired,omitempty"`
	InvitedByID        string  `json:"invitedById,omitempty"`
}

// Token is a bearer token of a user, in plain text; only its hash is stored (DESIGN §2).
type Token struct {
	UserID string `json:"userId"`
	Token  string `json:"token"`
}

// Project is a project of an organization; MemberIDs are its members (DESIGN §3, rule 2).
type Project struct {
	ID             string   `json:"id"`
	OrganizationID string   `json:"organizationId"`
	Name           string   `json:"name"`
	MemberIDs      []string `json:"memberIds,omitempty"`
}

// Phase is a stage of a project. Position defaults to the phase's place among its project's
// phases in the world, from 1; an internal phase is agency-only work (rule 3).
type Phase struct {
	ID        string `json:"id"`
	ProjectID string `json:"projectId"`
	Name      string `json:"name"`
	Position  *int   `json:"position,omitempty"`
	Internal  bool   `json:"internal,omitempty"`
}

// Event is something that happened in an organization, such as a task's trigger event.
// Timestamp defaults to the time of loading.
type Event struct {
	ID             string     `json:"id"`
	OrganizationID string     `json:"organizationId"`
	Name           string     `json:"name"`
	ActorID        string     `json:"actorId,omitempty"`
	Entity         string     `json:"entity"`
	EntityID       string     `json:"entityId"`
	Message        *string    `json:"message,omitempty"`
	Data           model.JSON `json:"data,omitempty"`
	Timestamp      *time.Time `json:"timestamp,omitempty"`
}

// Task is a task in a phase of its project. OrganizationID defaults to the project's (and must
// be it when given), Status to "OPEN". AssigneeIDs are its assignees, first the primary one:
// they are stored as assigned in that order.
type Task struct {
	ID              string     `json:"id"`
	OrganizationID  string     `json:"organizationId,omitempty"`
	ProjectID       string     `json:"projectId"`
	PhaseID         string     `json:"phaseId"`
	Label           string     `json:"label"`
	Description     *string    `json:"description,omitempty"`
	Type            string     `json:"type"`
	Status          string     `json:"status,omitempty"`
	ActionTaken     *string    `json:"actionTaken,omitempty"`
	CloseReason     *string    `json:"closeReason,omitempty"`
	ErrorReason     *string    `json:"errorReason,omitempty"`
	CompletedAction model.JSON `json:"completedAction,omitempty"`
	Data            []TaskData `json:"data,omitempty"`
	TriggerEventID  string     `json:"triggerEventId,omitempty"`
	AssigneeIDs     []string   `json:"assigneeIds,omitempty"`
}

// TaskData is an entry of a task's data (the first seed document's data[]). Source defaults to
// "EMAIL" and Type to "RESPONSE", their only values.
type TaskData struct {
	ID     string     `json:"id"`
	Source string     `json:"source,omitempty"`
	Type   string     `json:"type,omitempty"`
	Data   model.JSON `json:"data,omitempty"`
}

// Parse reads a world from its JSON text. It is strict: an unknown field (a misspelt one) or
// anything after the world's object is an error, with the line it was found on.
func Parse(r io.Reader) (*World, error) {
	text, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("parse world: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(text))
	dec.DisallowUnknownFields()
	var w World
	if err := dec.Decode(&w); err != nil {
		if off, ok := errorOffset(text, err); ok {
			return nil, fmt.Errorf("parse world: line %d: %w", lineAt(text, off), err)
		}
		return nil, fmt.Errorf("parse world: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("parse world: line %d: more after the world's object", lineAt(text, dec.InputOffset()))
	}
	return &w, nil
}

// errorOffset finds where in text a decoding error is. encoding/json gives the offset of syntax
// and type errors; an unknown field carries only its name, so its first use as a key is taken.
func errorOffset(text []byte, err error) (int64, bool) {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return syntax.Offset, true
	case errors.As(err, &typ):
		return typ.Offset, true
	}
	name, ok := strings.CutPrefix(err.Error(), "json: unknown field ")
	if !ok {
		return 0, false
	}
	key := regexp.MustCompile(regexp.QuoteMeta(name) + `\s*:`).FindIndex(text)
	if key == nil {
		return 0, false
	}
	return int64(key[0]), true
}

// lineAt is the line number, from 1, of a byte offset.
func lineAt(text []byte, offset int64) int {
	return bytes.Count(text[:min(offset, int64(len(text)))], []byte("\n")) + 1
}
