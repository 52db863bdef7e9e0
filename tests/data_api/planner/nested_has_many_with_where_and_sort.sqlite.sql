-- { allProject(limit: 2) { results { name tasks(where: { done: { eq: true } }, sort: { field: name, order: DESC }, limit: 2) { name done } } } }
-- result: {"results": [{"name": "Website", "tasks": [{"name": "Test on mobile", "done": true}, {"name": "Set up hosting", "done": true}]}, {"name": "Office move", "tasks": [{"name": "Design homepage", "done": true}, {"name": "Configure DNS", "done": true}]}]}

SELECT json_object('name', t1."Project.name", 'tasks', json((
      SELECT coalesce(json_group_array(json(s.j)), json('[]'))
      FROM (
        SELECT json_object('name', t2."Task.name", 'done', CASE WHEN t2."Task.done" IS NULL THEN NULL WHEN t2."Task.done" THEN json('true') ELSE json('false') END) AS j
        FROM "Task" t2
        WHERE t2."Task.project" = t1.id AND 1 = 1 AND (t2."Task.done" = %s)
        ORDER BY t2."Task.name" DESC NULLS FIRST, t2.id ASC
        LIMIT %s OFFSET %s) AS s))), 1
FROM (
  SELECT *
  FROM "Project" t1
  WHERE 1 = 1 AND 1 = 1
  ORDER BY t1.id ASC
  LIMIT %s OFFSET %s) t1
ORDER BY t1.id ASC
-- params: [true, 2, 0, 2, 0]
