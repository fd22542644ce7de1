"""The SQL of the DuckDB usage store (`duckdb_usage.py`): its tables and statements.

`usage` holds principals, actions and sessions as ids into `names`, and regions as ids into
`regions` (numbered from 0): a few thousand names repeat over a million rows, and a report
groups, sorts and gathers integers much faster than strings (see `USAGE`). Resources stay text:
most are one of a kind, so a dictionary would cost a join at every save and save little.
"""

from __future__ import annotations

# Any change to the tables below is a new version; a store of another is refused.
SCHEMA_VERSION = "3"
# What each older schema lacks, for the message that asks to start a new store.
OLD_SCHEMAS = {"1": "regions and source IPs", "2": "the names table"}
# A row's regions are gathered as bits of one integer; region ids from here on (only a store
# fed more distinct `awsRegion`s than AWS has regions) as a list, which is slower.
REGION_BITS = 64

SCHEMA = """
CREATE SEQUENCE IF NOT EXISTS batch_ids;
CREATE TABLE IF NOT EXISTS batches (
    id INTEGER PRIMARY KEY, key VARCHAR NOT NULL UNIQUE, version VARCHAR NOT NULL,
    size BIGINT NOT NULL, events BIGINT NOT NULL, ingested_at TIMESTAMPTZ NOT NULL);
CREATE TABLE IF NOT EXISTS batch_skipped (batch INTEGER NOT NULL, reason VARCHAR NOT NULL,
    count BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS batch_unmapped (batch INTEGER NOT NULL, event_source VARCHAR NOT NULL,
    event_name VARCHAR NOT NULL, count BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS names (id INTEGER PRIMARY KEY, name VARCHAR NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS regions (id INTEGER PRIMARY KEY, name VARCHAR NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS usage (batch INTEGER NOT NULL, principal INTEGER NOT NULL,
    session INTEGER, action INTEGER NOT NULL, resource VARCHAR NOT NULL, hour INTEGER NOT NULL,
    count BIGINT NOT NULL, denied BIGINT NOT NULL, first_seen BIGINT NOT NULL,
    last_seen BIGINT NOT NULL, region INTEGER);
CREATE TABLE IF NOT EXISTS batch_source_ips (batch INTEGER NOT NULL, principal VARCHAR NOT NULL,
    action VARCHAR NOT NULL, source_ip VARCHAR, count BIGINT NOT NULL);
"""

# The batches' names and regions (which they list) are added first; then their row files,
# one per batch and named by batch id (the id need not be in every row), are read once and
# inserted with the ids joined in. That is a fifth less work than staging the rows in a
# table to find their names there. $names and $regions are lists of text. A row naming
# anything not listed is left out (a session or region as well as a principal or action), so
# the store's count of what was inserted tells.
ADD_NAMES = """
INSERT INTO names
SELECT (SELECT coalesce(max(id), 0) FROM names) + row_number() OVER (), name FROM (
    SELECT DISTINCT unnest($names) AS name EXCEPT SELECT name FROM names)
"""
ADD_REGIONS = """
INSERT INTO regions
SELECT (SELECT count(*) FROM regions) + row_number() OVER () - 1, name FROM (
    SELECT DISTINCT unnest($regions) AS name EXCEPT SELECT name FROM regions)
"""
LOAD_ROWS = """
INSERT INTO usage SELECT parse_filename(s.filename, true)::INTEGER, p.id, n.id, a.id, s.j[4],
    s.j[5]::INTEGER, s.j[6]::BIGINT, s.j[7]::BIGINT, s.j[8]::BIGINT, s.j[9]::BIGINT, g.id
FROM read_json(?, format = 'newline_delimited', records = false, columns = {'j': 'VARCHAR[]'},
    filename = true) s
JOIN names p ON p.name = s.j[1] JOIN names a ON a.name = s.j[3]
    LEFT JOIN names n ON n.name = s.j[2] LEFT JOIN regions g ON g.name = s.j[10]
WHERE (s.j[2] IS NULL OR n.id IS NOT NULL) AND (s.j[10] IS NULL OR g.id IS NOT NULL)
"""
LOAD_SOURCE_IPS = """
INSERT INTO batch_source_ips SELECT parse_filename(filename, true)::INTEGER, j[1], j[2], j[3],
    j[4]::BIGINT
FROM read_json(?, format = 'newline_delimited', records = false, columns = {'j': 'VARCHAR[]'},
    filename = true)
"""
SOURCE_IPS = """
SELECT i.action, i.source_ip, sum(i.count)::BIGINT
FROM batch_source_ips i JOIN batches b ON i.batch = b.id JOIN wanted_keys w ON b.key = w.key
WHERE i.principal = ?
GROUP BY ALL
"""

# A semi-join on the few wanted batch ids, not a join of every usage row: ~20% faster. The
# same for a set of principals (`$among`: the query names one, in `wanted_principals`).
SELECTED = """
FROM usage u
WHERE u.batch IN (SELECT b.id FROM batches b JOIN wanted_keys w ON b.key = w.key)
  AND ($principal IS NULL OR u.principal = (SELECT id FROM names WHERE name = $principal))
  AND (NOT $among OR u.principal IN (
    SELECT n.id FROM names n JOIN wanted_principals w ON n.name = w.name))
  AND ($first IS NULL OR u.hour >= $first) AND ($last IS NULL OR u.hour < $last)
"""

# Each report row comes out as one JSON object in the report's own shape (`UsageRow`'s fields,
# times RFC 3339 in UTC), built by DuckDB's vectorised engine. The CLI writes these as they are
# for JSON output; `usage()` has msgspec decode them into `UsageRow`s in C. Both are several
# times faster than building Python rows and datetimes value by value.
# What makes it fast (1M events: 790,000 hourly rows into 430,000 report rows, ~2x faster than
# grouping the strings; see benchmarks/README.md): grouping on integer ids; a row's regions as
# the bits of one integer (`list(DISTINCT region)` cost more than all the rest of the grouping),
# spelled out once per distinct set in `region_sets`; sessions (few rows have them: shared
# roles only) gathered apart and joined in; sorting on the names' ranks (one integer for
# principal and action), not on their text; each object written by one `concat` of JSON pieces
# (principal and action JSON once per name) rather than `to_json` of a struct.
USAGE = f"""
WITH rows AS (
    SELECT u.principal, u.action, u.resource, sum(u.count) AS count,
        sum(u.denied) AS denied, min(u.first_seen) AS first, max(u.last_seen) AS last,
        bit_or(CASE WHEN u.region < {REGION_BITS} THEN 1::UBIGINT << u.region END) AS bits,
        list(u.region) FILTER (WHERE u.region >= {REGION_BITS}) AS more
    {SELECTED}
    GROUP BY u.principal, u.action, u.resource
), sessions AS (
    SELECT u.principal, u.action, u.resource,
        to_json(list(DISTINCT n.name ORDER BY n.name)) AS sessions
    {SELECTED.replace("FROM usage u", "FROM usage u JOIN names n ON n.id = u.session")}
    GROUP BY u.principal, u.action, u.resource
), region_sets AS (
    SELECT m.bits, m.more, to_json(coalesce(
        list(g.name ORDER BY g.name) FILTER (WHERE g.name IS NOT NULL), [])) AS regions
    FROM (SELECT DISTINCT bits, more FROM rows) m LEFT JOIN regions g ON CASE
        WHEN g.id < {REGION_BITS} THEN (m.bits >> g.id) & 1 = 1
        ELSE list_contains(m.more, g.id) END
    GROUP BY m.bits, m.more
), ranked AS (
    SELECT id, to_json(name) AS json, row_number() OVER (ORDER BY name) AS rank FROM names
)
SELECT concat('{{"principal":', p.json, ',"action":', a.json, ',"resource":', to_json(r.resource),
    ',"count":', r.count, ',"denied":', r.denied,
    ',"first_seen":"', strftime(make_timestamp(r.first * 1000000), '%Y-%m-%dT%H:%M:%SZ'),
    '","last_seen":"', strftime(make_timestamp(r.last * 1000000), '%Y-%m-%dT%H:%M:%SZ'),
    '","sessions":', coalesce(s.sessions, '[]'), ',"regions":', g.regions, '}}')
FROM rows r JOIN ranked p ON p.id = r.principal JOIN ranked a ON a.id = r.action
    JOIN region_sets g ON g.bits IS NOT DISTINCT FROM r.bits
        AND g.more IS NOT DISTINCT FROM r.more
    LEFT JOIN sessions s ON s.principal = r.principal AND s.action = r.action
        AND s.resource = r.resource
ORDER BY (p.rank << 32) | a.rank, r.resource
"""

ACTIVE_DAYS = f"""
SELECT p.name, a.name, d.days FROM (
    SELECT u.principal, u.action, count(DISTINCT u.hour // 24)::BIGINT AS days
    {SELECTED} AND u.count > 0
    GROUP BY u.principal, u.action
) d JOIN names p ON p.id = d.principal JOIN names a ON a.id = d.action
"""

# Per principal, person (the row's session) and action: the people behind shared roles.
PEOPLE = f"""
SELECT p.name, s.name, a.name, g.calls, g.denied, g.first, g.last FROM (
    SELECT u.principal, u.session, u.action, sum(u.count)::BIGINT AS calls,
        sum(u.denied)::BIGINT AS denied, min(u.first_seen) AS first, max(u.last_seen) AS last
    {SELECTED} AND u.session IS NOT NULL
    GROUP BY u.principal, u.session, u.action
) g JOIN names p ON p.id = g.principal JOIN names s ON s.id = g.session
    JOIN names a ON a.id = g.action
ORDER BY p.name, s.name, a.name
"""

# Who has usage (with the number of stored rows each), which actions, the first and last call.
OUTLINE_PRINCIPALS = f"""
SELECT n.name, d.rows FROM (SELECT u.principal, count(*)::BIGINT AS rows {SELECTED}
    GROUP BY u.principal) d JOIN names n ON n.id = d.principal ORDER BY n.name
"""
OUTLINE_ACTIONS = f"""
SELECT n.name FROM (SELECT DISTINCT u.action {SELECTED}) d JOIN names n ON n.id = d.action
"""
OUTLINE_TIMES = f"SELECT min(u.first_seen), max(u.last_seen) {SELECTED}"
