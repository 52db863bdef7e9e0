"""The per-application GraphQL data API (read side): schema, planner, endpoint."""
