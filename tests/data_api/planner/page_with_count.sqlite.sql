-- { allTask(where: { done: { eq: false } }, sort: { field: endDate, order: DESC }, limit: 2) { totalCount results { id name endDate project { name } } } }
-- result: {"totalCount": 14, "results": [{"id": 20, "name": "Celebrate launch", "endDate": "2025-05-26", "project": {"name": "Marketing"}}, {"id": 19, "name": "Collect feedback", "endDate": "2025-05-19", "project": {"name": "Office move"}}]}

SELECT json_object('id', t1.id, 'name', t1."Task.name", 'endDate', t1."Task.endDate", 'project', json((
      SELECT json_object('name', t2."Project.name")
      FROM "Project" t2
      WHERE t2.id = t1."Task.project" AND 1 = 1))), (
  SELECT count(*)
  FROM "Task" t0
  WHERE (t0."Task.done" = %s) AND 1 = 1), 1
FROM (
  SELECT *
  FROM "Task" t1
  WHERE (t1."Task.done" = %s) AND 1 = 1
  ORDER BY t1."Task.endDate" DESC NULLS FIRST, t1.id ASC
  LIMIT %s OFFSET %s) t1
ORDER BY t1."Task.endDate" DESC NULLS FIRST, t1.id ASC
-- params: [false, false, 2, 0]
