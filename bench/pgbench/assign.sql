-- assign: what an ideal server would run for
--   assignUsers(taskId, userIds: [u]) { id assignees { id } }  then
--   unassignUser(taskId, userId: u) { id assignees { id } }
-- on a random (task, assignable user) pair of bench.pairs (written by bench/gen): two
-- transactions, each locking the task, checking the user against rules 1-3, writing the change,
-- bumping modified_at, recording the event, and reading the assignees back (docs/PERFORMANCE.md).
\set k random(1, :pairs)
BEGIN;
-- Lock the task and check the user: exists in the organization, project member, agency on an
-- internal phase. The actor is the organization's admin, usr_ + the organization's number.
SELECT t.id AS tid, t.organization_id AS org, bp.user_id AS uid,
       'usr_' || lpad(substr(t.organization_id, 5)::int::text, 6, '0') AS actor,
       EXISTS (SELECT 1 FROM users u JOIN companies c ON c.id = u.company_id
               WHERE u.id = bp.user_id AND u.organization_id = t.organization_id
                 AND EXISTS (SELECT 1 FROM project_members m WHERE m.project_id = t.project_id AND m.user_id = u.id)
                 AND (NOT ph.internal OR c.kind = 'AGENCY')) AS ok
FROM bench.pairs bp JOIN tasks t ON t.id = bp.task_id JOIN phases ph ON ph.id = t.phase_id
WHERE bp.n = :k
FOR UPDATE OF t \gset
WITH ins AS (
       INSERT INTO task_assignees (task_id, user_id, assigned_at)
       SELECT :tid::text, :uid::text, clock_timestamp() WHERE :ok::boolean
       ON CONFLICT DO NOTHING
       RETURNING user_id, assigned_at),
     upd AS (
       UPDATE tasks SET modified_at = ins.assigned_at FROM ins WHERE tasks.id = :tid::text)
INSERT INTO events (id, organization_id, name, actor_id, entity, entity_id, data, timestamp)
SELECT 'evt_' || substr(md5(random()::text), 1, 26), :org::text, 'task.assignees_changed', :actor::text,
       'task', :tid::text, jsonb_build_object('added', jsonb_build_array(user_id), 'removed', '[]'::jsonb), assigned_at
FROM ins;
SELECT user_id FROM task_assignees WHERE task_id = :tid::text ORDER BY assigned_at, user_id;
COMMIT;
BEGIN;
-- Lock the task and check that the user exists in the organization.
SELECT t.id AS tid,
       EXISTS (SELECT 1 FROM users u WHERE u.id = :uid::text AND u.organization_id = t.organization_id) AS ok
FROM tasks t
WHERE t.id = :tid::text AND t.organization_id = :org::text
FOR UPDATE \gset
WITH del AS (
       DELETE FROM task_assignees WHERE task_id = :tid::text AND user_id = :uid::text AND :ok::boolean
       RETURNING user_id, clock_timestamp() AS at),
     upd AS (
       UPDATE tasks SET modified_at = del.at FROM del WHERE tasks.id = :tid::text)
INSERT INTO events (id, organization_id, name, actor_id, entity, entity_id, data, timestamp)
SELECT 'evt_' || substr(md5(random()::text), 1, 26), :org::text, 'task.assignees_changed', :actor::text,
       'task', :tid::text, jsonb_build_object('added', '[]'::jsonb, 'removed', jsonb_build_array(user_id)), at
FROM del;
SELECT user_id FROM task_assignees WHERE task_id = :tid::text ORDER BY assigned_at, user_id;
COMMIT;
