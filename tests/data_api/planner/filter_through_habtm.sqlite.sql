-- { allWebUser(where: { roles: { name: { eq: "editor" } } }) { results { email roles(sort: { field: name }) { name } } } }
-- result: {"results": [{"email": "betty@example.com", "roles": [{"name": "admin"}, {"name": "editor"}]}, {"email": "bob@example.com", "roles": [{"name": "editor"}]}]}

SELECT json_object('email', t1."WebUser.email", 'roles', json((
      SELECT coalesce(json_group_array(json(s.j)), json('[]'))
      FROM (
        SELECT json_object('name', t4."Role.name") AS j
        FROM "Role" t4
        JOIN "WebUser.roles links" t5 ON t5.b_id = t4.id
        WHERE t5.a_id = t1.id AND 1 = 1 AND 1 = 1
        ORDER BY t4."Role.name" ASC NULLS LAST, t4.id ASC
        LIMIT %s OFFSET %s) AS s))), 1
FROM (
  SELECT *
  FROM "WebUser" t1
  WHERE (EXISTS (
      SELECT 1
      FROM "Role" t6
      JOIN "WebUser.roles links" t7 ON t7.b_id = t6.id
      WHERE t7.a_id = t1.id AND (t6."Role.name" = %s) AND 1 = 1)) AND 1 = 1
  ORDER BY t1.id ASC
  LIMIT %s OFFSET %s) t1
ORDER BY t1.id ASC
-- params: [50, 0, "editor", 50, 0]
