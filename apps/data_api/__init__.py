"""The per-application GraphQL data API, in the stages a request passes through:

- `views` (HTTP) hands the request to `request/` (parse, validate, limits, dispatch);
- `read/` plans each read into one SQL statement; `write/` runs each mutation in a transaction;
- `schema/` builds each application's GraphQL schema; `sql/` is the SQL text and dialects;
- `kinds` says what each property kind is to the API; `errors` owns what a client sees.

Imports flow down that list: `write/` may use `read/` (to read records back), never the
reverse, and neither uses `schema/` (tests/test_layout.py keeps this).
"""
