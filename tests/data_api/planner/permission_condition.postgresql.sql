-- { allWebUser { totalCount results { email company { name } roles { name } } } }
-- result: {"totalCount": 1, "results": [{"email": "betty@example.com", "company": null, "roles": [{"name": "admin"}, {"name": "editor"}]}]}

SELECT (json_build_object('email', t1."WebUser.email", 'company', NULL, 'roles', (
      SELECT coalesce(json_agg(s.j), '[]'::json)
      FROM (
        SELECT json_build_object('name', t2."Role.name") AS j
        FROM "Role" t2
        JOIN "WebUser.roles links" t3 ON t3.b_id = t2.id
        WHERE t3.a_id = t1.id AND 1 = 1 AND 1 = 1
        ORDER BY t2.id ASC
        LIMIT %s OFFSET %s) AS s)))::text, (
  SELECT count(*)
  FROM "WebUser" t0
  WHERE 1 = 1 AND (t0."id" = %s)), 1
FROM (
  SELECT *
  FROM "WebUser" t1
  WHERE 1 = 1 AND (t1."id" = %s)
  ORDER BY t1.id ASC
  LIMIT %s OFFSET %s) t1
ORDER BY t1.id ASC
-- params: [50, 0, 1, 1, 50, 0]
