-- task: the one-statement SQL equivalent of task(id) { id label assignees { id name email } }
-- for a random task, as its organization's admin sees it (docs/PERFORMANCE.md).
\set t random(1, :tasks)
\set o ((((:t - 1) % :projects) + 1) - 1) % :orgs + 1
SELECT t.id, t.label,
       COALESCE((SELECT json_agg(json_build_object('id', u.id, 'name', u.first_name || ' ' || u.last_name, 'email', u.email)
                                 ORDER BY a.assigned_at, a.user_id)
                 FROM task_assignees a JOIN users u ON u.id = a.user_id
                 WHERE a.task_id = t.id), '[]') AS assignees
FROM tasks t
WHERE t.id = 'tsk_' || lpad(:t::text, 8, '0')
  AND t.organization_id = 'org_' || lpad(:o::text, 4, '0');
