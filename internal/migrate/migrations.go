package migrate

import (
	"strings"

	"gorm.io/gorm"
)

// All is the ordered, append-only list of migrations.
var All = []Migration{
	{ID: "0001_initial", Up: initial},
	{ID: "0002_task_pages_by_organization", Up: taskPagesByOrganization},
	{ID: "0003_json_kept_as_given", Up: jsonKeptAsGiven},
	{ID: "0004_viewers_changed_notify", Up: viewersChangedNotify},
	{ID: "0005_webhooks", Up: webhooks},
}

// Channel is the PostgreSQL channel on which the server processes of one database hear of each
// other's changes, and of changes made by hand (0004_viewers_changed_notify).
const Channel = "taskql"

// ddl fills in the few types that differ between the dialects. This is the one place they differ.
// {json} is JSONB on PostgreSQL as 0001_initial was released; 0003_json_kept_as_given made those
// columns JSON, which a new JSON column should be too.
func ddl(d Dialect, s string) string {
	var ts, js string
	switch d {
	case Postgres:
		ts, js = "TIMESTAMPTZ", "JSONB"
	default:
		ts, js = "DATETIME", "TEXT"
	}
	return strings.NewReplacer("{ts}", ts, "{json}", js).Replace(s)
}

func initial(tx *gorm.DB, d Dialect) error {
	stmts := make([]string, len(initialSchema))
	for i, s := range initialSchema {
		stmts[i] = ddl(d, s)
	}
	return execAll(tx, stmts...)
}

// initialSchema is the schema of 0001_initial, with {ts} and {json} for the dialect's types.
var initialSchema = []string{
	`CREATE TABLE organizations (
			id TEXT PRIMARY KEY CHECK (length(id) <= 32),
			name TEXT NOT NULL,
			created_at {ts} NOT NULL,
			modified_at {ts} NOT NULL)`,
	`CREATE TABLE companies (
			id TEXT PRIMARY KEY CHECK (length(id) <= 32),
			organization_id TEXT NOT NULL REFERENCES organizations (id),
			name TEXT NOT NULL,
			kind TEXT NOT NULL CHECK (kind IN ('AGENCY', 'CLIENT')),
			created_at {ts} NOT NULL,
			modified_at {ts} NOT NULL,
			UNIQUE (organization_id, id))`,
	// At most one agency company per organization (DESIGN §1).
	`CREATE UNIQUE INDEX companies_one_agency ON companies (organization_id) WHERE kind = 'AGENCY'`,
	`CREATE TABLE users (
			id TEXT PRIMARY KEY CHECK (length(id) <= 32),
			organization_id TEXT NOT NULL REFERENCES organizations (id),
			company_id TEXT NOT NULL,
			first_name TEXT NOT NULL,
			last_name TEXT NOT NULL,
			email TEXT NOT NULL,
			avatar TEXT,
			is_org_admin BOOLEAN NOT NULL DEFAULT FALSE,
			is_access_approved BOOLEAN NOT NULL DEFAULT TRUE,
			onboarding_required BOOLEAN NOT NULL DEFAULT FALSE,
			invited_by_id TEXT REFERENCES users (id),
			default_email_sender_id TEXT,
			thread_emails_sort_order TEXT NOT NULL DEFAULT 'ASC' CHECK (thread_emails_sort_order IN ('ASC', 'DESC')),
			created_at {ts} NOT NULL,
			modified_at {ts} NOT NULL,
			UNIQUE (organization_id, id),
			FOREIGN KEY (organization_id, company_id) REFERENCES companies (organization_id, id))`,
	`CREATE INDEX users_company_id ON users (company_id)`,
	`CREATE INDEX users_invited_by_id ON users (invited_by_id)`,
	`CREATE TABLE tokens (
			hash TEXT PRIMARY KEY,
			user_id TEXT NOT NULL REFERENCES users (id),
			created_at {ts} NOT NULL,
			revoked_at {ts})`,
	`CREATE INDEX tokens_user_id ON tokens (user_id)`,
	`CREATE TABLE projects (
			id TEXT PRIMARY KEY CHECK (length(id) <= 32),
			organization_id TEXT NOT NULL REFERENCES organizations (id),
			name TEXT NOT NULL,
			created_at {ts} NOT NULL,
			modified_at {ts} NOT NULL,
			UNIQUE (organization_id, id))`,
	`CREATE TABLE project_members (
			project_id TEXT NOT NULL REFERENCES projects (id),
			user_id TEXT NOT NULL REFERENCES users (id),
			PRIMARY KEY (project_id, user_id))`,
	`CREATE INDEX project_members_user_id ON project_members (user_id)`,
	`CREATE TABLE phases (
			id TEXT PRIMARY KEY CHECK (length(id) <= 32),
			project_id TEXT NOT NULL REFERENCES projects (id),
			name TEXT NOT NULL,
			position INTEGER NOT NULL,
			internal BOOLEAN NOT NULL DEFAULT FALSE,
			created_at {ts} NOT NULL,
			modified_at {ts} NOT NULL,
			UNIQUE (project_id, id))`,
	`CREATE TABLE events (
			id TEXT PRIMARY KEY CHECK (length(id) <= 32),
			organization_id TEXT NOT NULL REFERENCES organizations (id),
			name TEXT NOT NULL,
			actor_id TEXT REFERENCES users (id),
			entity TEXT NOT NULL,
			entity_id TEXT NOT NULL,
			message TEXT,
			data {json},
			timestamp {ts} NOT NULL)`,
	`CREATE INDEX events_entity ON events (entity_id, timestamp, id)`,
	`CREATE INDEX events_actor_id ON events (actor_id)`,
	`CREATE TABLE tasks (
			id TEXT PRIMARY KEY CHECK (length(id) <= 32),
			organization_id TEXT NOT NULL REFERENCES organizations (id),
			project_id TEXT NOT NULL,
			phase_id TEXT NOT NULL,
			label TEXT NOT NULL,
			description TEXT,
			type TEXT NOT NULL CHECK (type IN ('ACTIVITY_SUMMARY_OUTREACH', 'ACTIVITY_SUMMARY_PAYMENTS',
				'AUTO_RESPONSE_EMAIL', 'AUTO_RESPONSE_CALL', 'CALL_ANALYSIS', 'DISABLE_CONTACT',
				'RECOMMENDATION_NEW_CONTACT', 'SCHEDULED_EMAIL_APPROVAL', 'SCHEDULED_CALL_APPROVAL')),
			status TEXT NOT NULL DEFAULT 'OPEN' CHECK (status IN ('OPEN', 'COMPLETED', 'CLOSED', 'ARCHIVED',
				'FAILED', 'PROCESSING', 'ASSIGNED_TO_AGENT')),
			action_taken TEXT CHECK (action_taken IN ('COMPLETE', 'COMPLETE_WITH_ACTION', 'CLOSE')),
			close_reason TEXT,
			error_reason TEXT,
			completed_action {json},
			trigger_event_id TEXT REFERENCES events (id),
			created_at {ts} NOT NULL,
			modified_at {ts} NOT NULL,
			FOREIGN KEY (organization_id, project_id) REFERENCES projects (organization_id, id),
			FOREIGN KEY (project_id, phase_id) REFERENCES phases (project_id, id))`,
	`CREATE INDEX tasks_organization_id ON tasks (organization_id, id)`,
	`CREATE INDEX tasks_project_id ON tasks (project_id, id)`,
	`CREATE INDEX tasks_phase_id ON tasks (phase_id, id)`,
	`CREATE INDEX tasks_status ON tasks (organization_id, status, id)`,
	`CREATE INDEX tasks_type ON tasks (organization_id, type, id)`,
	`CREATE INDEX tasks_trigger_event_id ON tasks (trigger_event_id)`,
	`CREATE TABLE task_assignees (
			task_id TEXT NOT NULL REFERENCES tasks (id),
			user_id TEXT NOT NULL REFERENCES users (id),
			assigned_at {ts} NOT NULL,
			PRIMARY KEY (task_id, user_id))`,
	`CREATE INDEX task_assignees_user_id ON task_assignees (user_id, task_id)`,
	`CREATE TABLE task_data (
			id TEXT PRIMARY KEY CHECK (length(id) <= 32),
			task_id TEXT NOT NULL REFERENCES tasks (id),
			source TEXT NOT NULL CHECK (source IN ('EMAIL')),
			type TEXT NOT NULL CHECK (type IN ('RESPONSE')),
			data {json},
			created_at {ts} NOT NULL,
			modified_at {ts} NOT NULL)`,
	`CREATE INDEX task_data_task_id ON task_data (task_id, id)`,
}

// taskPagesByOrganization serves a page of a project's (or a phase's) tasks from one index range:
// the visibility condition always names the organization, and PostgreSQL, taking the two columns
// as independent, otherwise sorted every task of the project to cut a page of 50.
func taskPagesByOrganization(tx *gorm.DB, _ Dialect) error {
	return execAll(tx,
		`CREATE INDEX tasks_organization_project ON tasks (organization_id, project_id, id)`,
		`CREATE INDEX tasks_organization_phase ON tasks (organization_id, phase_id, id)`,
		`DROP INDEX tasks_project_id`,
		`DROP INDEX tasks_phase_id`,
	)
}

// jsonKeptAsGiven makes PostgreSQL keep a JSON document's text as it was given, as SQLite's TEXT
// does and as the JSON scalar promises ("given and returned as it is"). jsonb stores a parsed form
// and gives back another text: keys reordered, spaces dropped, escapes decoded, numbers rewritten,
// a repeated key dropped. json stores the text itself, checked to be JSON. Nothing queries inside
// these documents, which is what jsonb is for. Rows written before keep jsonb's text: the text
// they were given is gone.
func jsonKeptAsGiven(tx *gorm.DB, d Dialect) error {
	switch d {
	case Postgres:
		return execAll(tx,
			`ALTER TABLE events ALTER COLUMN data TYPE JSON USING data::json`,
			`ALTER TABLE tasks ALTER COLUMN completed_action TYPE JSON USING completed_action::json`,
			`ALTER TABLE task_data ALTER COLUMN data TYPE JSON USING data::json`,
		)
	default:
		return nil // SQLite keeps the text already.
	}
}

// viewersChangedNotify makes PostgreSQL publish, on Channel, that tokens, users or companies
// changed, whoever changed them (a server, `taskql token revoke`, an operator in psql): each
// server process then forgets the viewers it keeps (rules.WithViewerCache), and a revoked token
// or a withdrawn access stops working at its next request. One message per statement, and one
// per transaction when the same (PostgreSQL folds equal notifications). SQLite has no sessions to
// notify; a server on it keeps no viewers.
func viewersChangedNotify(tx *gorm.DB, d Dialect) error {
	if d != Postgres {
		return nil
	}
	stmts := []string{`CREATE FUNCTION taskql_viewers_changed() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			PERFORM pg_notify('` + Channel + `', '{"kind":"viewers"}');
			RETURN NULL;
		END $$`}
	for _, table := range []string{"tokens", "users", "companies"} {
		stmts = append(stmts, `CREATE TRIGGER `+table+`_viewers_changed AFTER UPDATE OR DELETE OR TRUNCATE ON `+table+
			` FOR EACH STATEMENT EXECUTE FUNCTION taskql_viewers_changed()`)
	}
	return execAll(tx, stmts...)
}

// webhooks holds DESIGN §10's webhooks: the endpoints (their secrets, which sign and so are kept
// as given), the outbox (one row per event and webhook, written in the change's transaction; a
// row is due when next_attempt_at has passed and done_at is unset, and claiming it moves
// next_attempt_at past the lease, so a row whose worker died is due again once the lease ends)
// and every delivery attempt, at most one per attempt number of a row. Removing a webhook removes
// its rows.
func webhooks(tx *gorm.DB, d Dialect) error {
	stmts := []string{
		`CREATE TABLE webhooks (
			id TEXT PRIMARY KEY CHECK (length(id) <= 32),
			organization_id TEXT NOT NULL REFERENCES organizations (id),
			url TEXT NOT NULL,
			secret TEXT NOT NULL,
			created_by_id TEXT REFERENCES users (id),
			created_at {ts} NOT NULL)`,
		`CREATE INDEX webhooks_organization_id ON webhooks (organization_id, id)`,
		`CREATE TABLE webhook_outbox (
			webhook_id TEXT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
			event_id TEXT NOT NULL REFERENCES events (id),
			attempts INTEGER NOT NULL DEFAULT 0,
			next_attempt_at {ts} NOT NULL,
			created_at {ts} NOT NULL,
			done_at {ts},
			delivered BOOLEAN NOT NULL DEFAULT FALSE,
			PRIMARY KEY (webhook_id, event_id))`,
		`CREATE INDEX webhook_outbox_due ON webhook_outbox (next_attempt_at) WHERE done_at IS NULL`,
		`CREATE INDEX webhook_outbox_event_id ON webhook_outbox (event_id)`,
		`CREATE TABLE webhook_deliveries (
			id TEXT PRIMARY KEY CHECK (length(id) <= 32),
			webhook_id TEXT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
			event_id TEXT NOT NULL,
			attempt INTEGER NOT NULL,
			at {ts} NOT NULL,
			duration_ms INTEGER NOT NULL,
			outcome TEXT NOT NULL CHECK (outcome IN ('DELIVERED', 'REJECTED', 'UNREACHABLE', 'REFUSED')),
			status_code INTEGER,
			error TEXT,
			UNIQUE (webhook_id, event_id, attempt),
			FOREIGN KEY (webhook_id, event_id) REFERENCES webhook_outbox (webhook_id, event_id) ON DELETE CASCADE)`,
	}
	for i, s := range stmts {
		stmts[i] = ddl(d, s)
	}
	return execAll(tx, stmts...)
}
