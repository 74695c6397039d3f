-- page: the one-statement SQL equivalent of
--   tasks(filter: {projectId}, first: 50) { nodes { id label status phase { id name internal }
--                                                    assignees { id name email } } }
-- for a random project, as its organization's admin sees it (docs/PERFORMANCE.md).
\set p random(1, :projects)
\set o ((:p - 1) % :orgs) + 1
SELECT t.id, t.label, t.status, ph.id AS phase_id, ph.name AS phase_name, ph.internal,
       COALESCE((SELECT json_agg(json_build_object('id', u.id, 'name', u.first_name || ' ' || u.last_name, 'email', u.email)
                                 ORDER BY a.assigned_at, a.user_id)
                 FROM task_assignees a JOIN users u ON u.id = a.user_id
                 WHERE a.task_id = t.id), '[]') AS assignees
FROM tasks t JOIN phases ph ON ph.id = t.phase_id
WHERE t.organization_id = 'org_' || lpad(:o::text, 4, '0')
  AND t.project_id = 'prj_' || lpad(:p::text, 5, '0')
ORDER BY t.id
LIMIT 50;
