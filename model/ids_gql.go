package model

import (
	"fmt"
	"io"
	"strconv"
)

// The GraphQL ID scalar binds to the typed ids for output (gqlgen.yml); input ids arrive as strings
// and are parsed by the Parse functions, whose errors are BAD_USER_INPUT.

func marshalID(w io.Writer, s string) { _, _ = io.WriteString(w, strconv.Quote(s)) }

func unmarshalID[T ~string](prefix string, v any) (T, error) {
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("%T is not an id", v)
	}
	return parse[T](prefix, s)
}

// MarshalGQL writes the id as a GraphQL ID.
func (id OrganizationID) MarshalGQL(w io.Writer) { marshalID(w, string(id)) }

// UnmarshalGQL reads a well-formed org_ id.
func (id *OrganizationID) UnmarshalGQL(v any) (err error) {
	*id, err = unmarshalID[OrganizationID](PrefixOrganization, v)
	return err
}

// MarshalGQL writes the id as a GraphQL ID.
func (id CompanyID) MarshalGQL(w io.Writer) { marshalID(w, string(id)) }

// UnmarshalGQL reads a well-formed cmp_ id.
func (id *CompanyID) UnmarshalGQL(v any) (err error) {
	*id, err = unmarshalID[CompanyID](PrefixCompany, v)
	return err
}

// MarshalGQL writes the id as a GraphQL ID.
func (id UserID) MarshalGQL(w io.Writer) { marshalID(w, string(id)) }

// UnmarshalGQL reads a well-formed usr_ id.
func (id *UserID) UnmarshalGQL(v any) (err error) {
	*id, err = unmarshalID[UserID](PrefixUser, v)
	return err
}

// MarshalGQL writes the id as a GraphQL ID.
func (id ProjectID) MarshalGQL(w io.Writer) { marshalID(w, string(id)) }

// UnmarshalGQL reads a well-formed prj_ id.
func (id *ProjectID) UnmarshalGQL(v any) (err error) {
	*id, err = unmarshalID[ProjectID](PrefixProject, v)
	return err
}

// MarshalGQL writes the id as a GraphQL ID.
func (id PhaseID) MarshalGQL(w io.Writer) { marshalID(w, string(id)) }

// UnmarshalGQL reads a well-formed phs_ id.
func (id *PhaseID) UnmarshalGQL(v any) (err error) {
	*id, err = unmarshalID[PhaseID](PrefixPhase, v)
	return err
}

// MarshalGQL writes the id as a GraphQL ID.
func (id TaskID) MarshalGQL(w io.Writer) { marshalID(w, string(id)) }

// UnmarshalGQL reads a well-formed tsk_ id.
func (id *TaskID) UnmarshalGQL(v any) (err error) {
	*id, err = unmarshalID[TaskID](PrefixTask, v)
	return err
}

// MarshalGQL writes the id as a GraphQL ID.
func (id EventID) MarshalGQL(w io.Writer) { marshalID(w, string(id)) }

// UnmarshalGQL reads a well-formed evt_ id.
func (id *EventID) UnmarshalGQL(v any) (err error) {
	*id, err = unmarshalID[EventID](PrefixEvent, v)
	return err
}

// MarshalGQL writes the id as a GraphQL ID.
func (id TaskDataID) MarshalGQL(w io.Writer) { marshalID(w, string(id)) }

// UnmarshalGQL reads a well-formed tdt_ id.
func (id *TaskDataID) UnmarshalGQL(v any) (err error) {
	*id, err = unmarshalID[TaskDataID](PrefixTaskData, v)
	return err
}

// MarshalGQL writes the id as a GraphQL ID.
func (id WebhookID) MarshalGQL(w io.Writer) { marshalID(w, string(id)) }

// UnmarshalGQL reads a well-formed whk_ id.
func (id *WebhookID) UnmarshalGQL(v any) (err error) {
	*id, err = unmarshalID[WebhookID](PrefixWebhook, v)
	return err
}

// MarshalGQL writes the id as a GraphQL ID.
func (id WebhookDeliveryID) MarshalGQL(w io.Writer) { marshalID(w, string(id)) }

// UnmarshalGQL reads a well-formed whd_ id.
func (id *WebhookDeliveryID) UnmarshalGQL(v any) (err error) {
	*id, err = unmarshalID[WebhookDeliveryID](PrefixDelivery, v)
	return err
}
