-- Counts every statement the targets send (targets/API.md, "Queries per
-- request"): the server preloads pg_stat_statements (docker-compose.yml's
-- command; local mode's start options) and the extension lives in the
-- targets' database. Run by the superuser, before the schema.
CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
