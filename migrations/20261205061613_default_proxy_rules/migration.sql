-- Default proxy rules (data only, no schema change; written by hand since `npm run db:migration` writes only
-- schema diffs): browsers fetch /favicon.ico and crawlers /robots.txt on their own, without a token and
-- without showing a page, so challenging them only fills logs with redirects nobody can solve. Inserted
-- once, when this migration is applied; an operator who deletes or disables them keeps that choice (a
-- migration never runs twice). docs/proxy.md, "Default rules".
INSERT INTO "proxy_rules" ("pattern", "match_type", "priority", "enabled")
VALUES ('/favicon.ico', 'exact', 0, true), ('/robots.txt', 'exact', 0, true);
