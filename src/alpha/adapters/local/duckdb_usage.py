"""The usage store in a DuckDB file (`.alpha/usage.duckdb` by default).

Tables: `batches` (one row per ingested log batch: key, version, size, records, when), the
per-batch `batch_skipped` and `batch_unmapped` counts, `usage`, the hourly rows of every batch
(keyed by principal, session, action, resource, hour and region), and `batch_source_ips`, per
batch and (principal, action) at most `MAX_SOURCE_IPS` source IPs with their allowed calls plus
an overflow row (`source_ip` NULL) counting the calls from any other IP.
Keeping rows per batch is what lets a report cover exactly the sources given, whether their files
were read now or in an earlier run, and lets a changed file replace just its own rows.

`usage` keeps principals, actions, sessions and regions as ids into the `names` and `regions`
tables (see `duckdb_usage_sql.py`, which holds the SQL).

Rows reach DuckDB as newline-delimited JSON files read with `read_json`, one per batch: written
here from memory, or already written by an ingest worker (a `RowFile`, linked in, not copied).
For hundreds of thousands of rows that is an order of magnitude faster than parameter binding
(`executemany`, or `unnest` over Python lists), and needs no pandas or Arrow. Each batch lists
the names and regions its rows use, so they are added first and the rows read once.

A file that is not a DuckDB database, or one made by another schema version, is an error naming
the file; it is never silently recreated, nor changed.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from types import TracebackType
from typing import Self

import duckdb
import msgspec

from alpha.adapters.local import duckdb_usage_sql as sql
from alpha.usage.aggregate import (
    RowFile,
    SourceIpCount,
    SourceIps,
    StoredBatch,
    StoredSummary,
    UnmappedCount,
    UsageOutline,
    UsageQuery,
    UsageRow,
    source_ips_of,
)
from alpha.usage.errors import UsageError
from alpha.usage.people import PersonUse

__all__ = ["DuckDBUsageStore", "UsageStoreBusyError"]


DEFAULT_STORE = Path(".alpha") / "usage.duckdb"
_DECODE_SLICE = 50_000
# Memory stays flat: DuckDB spills large aggregations to disk rather than grow past this, and
# need not keep insertion order (every query orders its result).
# Never fetch an extension: a file that is not ours must not make DuckDB go to the internet.
_CONFIG = (
    ("memory_limit", "512MB"),
    ("preserve_insertion_order", False),
    ("autoinstall_known_extensions", False),
    ("autoload_known_extensions", False),
)


class UsageStoreBusyError(UsageError):
    """Another process has the usage store open (DuckDB allows one writer process)."""


class DuckDBUsageStore:
    """A `UsageStore` in one DuckDB file. Use as a context manager, or call `close()`."""

    def __init__(self, path: Path = DEFAULT_STORE) -> None:
        self.path = path
        self._con = _open(path)
        self._ensure_schema()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._con.close()

    def versions(self, keys: Collection[str]) -> dict[str, str]:
        with self._errors("read"):
            self._set_wanted(keys)
            found = self._con.execute(
                "SELECT b.key, b.version FROM batches b JOIN wanted_keys w ON b.key = w.key"
            ).fetchall()
        return dict(found)

    def save(self, batches: Sequence[StoredBatch]) -> None:
        if not batches:
            return
        needed = sum(_in_memory(b.usage.rows) + _in_memory(b.usage.source_ips) for b in batches)
        spool = spool_folder(needed)
        with (
            self._errors("write"),
            tempfile.TemporaryDirectory(prefix="alpha-usage-", dir=spool) as tmp,
        ):
            con = self._con
            con.begin()
            try:
                self._forget([b.key for b in batches])
                ids = [
                    i
                    for (i,) in con.execute(
                        "SELECT nextval('batch_ids') FROM range(?)", [len(batches)]
                    ).fetchall()
                ]
                self._insert_batches(batches, ids)
                files, ip_files = _write_rows(Path(tmp), batches, ids)
                if files:
                    self._load_rows(batches, files)
                if ip_files:
                    con.execute(sql.LOAD_SOURCE_IPS, [ip_files])
                con.commit()
            except BaseException:
                con.rollback()
                raise

    def spool_base(self, needed: int) -> str:
        """The RAM folder when it has room for twice `needed` bytes (see `spool_folder`), else
        the system's temporary folder."""
        return spool_folder(needed) or tempfile.gettempdir()

    def usage(self, query: UsageQuery) -> list[UsageRow]:
        rows: list[UsageRow] = []
        for documents in self.usage_documents(query):
            rows.extend(_usage_decoder().decode("[" + ",".join(documents) + "]"))
        return rows

    def usage_documents(self, query: UsageQuery) -> Iterator[list[str]]:
        with self._errors("read"):
            params = self._select(query)
            result = self._con.execute(sql.USAGE, params)
            # In slices, so the JSON text of a large report is never held whole.
            while chunk := result.fetchmany(_DECODE_SLICE):
                yield [document for (document,) in chunk]

    def outline(self, query: UsageQuery) -> UsageOutline:
        with self._errors("read"):
            params = self._select(query)
            principals = self._con.execute(sql.OUTLINE_PRINCIPALS, params).fetchall()
            actions = self._con.execute(sql.OUTLINE_ACTIONS, params).fetchall()
            first, last = self._con.execute(sql.OUTLINE_TIMES, params).fetchone() or (None, None)
        return UsageOutline(
            principals=tuple((name, rows) for name, rows in principals),
            actions=frozenset(name for (name,) in actions),
            first_seen=None if first is None else datetime.fromtimestamp(first, UTC),
            last_seen=None if last is None else datetime.fromtimestamp(last, UTC),
        )

    def active_days(self, query: UsageQuery) -> dict[str, dict[str, int]]:
        found: dict[str, dict[str, int]] = {}
        with self._errors("read"):
            params = self._select(query)
            for principal, action, days in self._con.execute(sql.ACTIVE_DAYS, params).fetchall():
                found.setdefault(principal, {})[action] = days
        return found

    def people(self, query: UsageQuery) -> list[PersonUse]:
        with self._errors("read"):
            params = self._select(query)
            found = self._con.execute(sql.PEOPLE, params).fetchall()
        return [
            PersonUse(principal, person, action, calls, denied, _utc(first), _utc(last))
            for principal, person, action, calls, denied, first, last in found
        ]

    def source_ips(self, keys: Collection[str], principal: str) -> dict[str, tuple[str, ...]]:
        """Per action, the source IPs `principal`'s allowed calls came from in these batches:
        at most `MAX_SOURCE_IPS`, most calls first. A list may be incomplete (a batch keeps
        only the first `MAX_SOURCE_IPS` distinct IPs per action); `source_ip_counts` says by
        how many calls, and gives the counts."""
        return {
            action: found.ips for action, found in self.source_ip_counts(keys, principal).items()
        }

    def source_ip_counts(self, keys: Collection[str], principal: str) -> dict[str, SourceIps]:
        """Per action, `principal`'s source IPs with their allowed calls, and the overflow:
        calls from IPs not listed (0 when the list is complete)."""
        with self._errors("read"):
            self._set_wanted(keys)
            found = self._con.execute(sql.SOURCE_IPS, [principal]).fetchall()
        return source_ips_of(
            (SourceIpCount(principal, action, ip, count) for action, ip, count in found), principal
        )

    def summary(self, keys: Collection[str]) -> StoredSummary:
        with self._errors("read"):
            self._set_wanted(keys)
            files, events = self._con.execute(
                "SELECT count(*), coalesce(sum(events), 0)::BIGINT FROM batches b"
                " JOIN wanted_keys w ON b.key = w.key"
            ).fetchone() or (0, 0)
            skipped = self._con.execute(
                "SELECT reason, sum(count)::BIGINT FROM batch_skipped s"
                " JOIN batches b ON s.batch = b.id JOIN wanted_keys w ON b.key = w.key"
                " GROUP BY reason ORDER BY reason"
            ).fetchall()
            unmapped = self._con.execute(
                "SELECT event_source, event_name, sum(count)::BIGINT AS n FROM batch_unmapped m"
                " JOIN batches b ON m.batch = b.id JOIN wanted_keys w ON b.key = w.key"
                " GROUP BY ALL ORDER BY n DESC, event_source, event_name"
            ).fetchall()
        return StoredSummary(
            files=files,
            events=events,
            skipped=dict(skipped),
            unmapped=tuple(UnmappedCount(s, n, c) for s, n, c in unmapped),
        )

    def _load_rows(self, batches: Sequence[StoredBatch], files: list[str]) -> None:
        """The batches' new names and regions into `names` and `regions`, then the rows of
        these files into `usage`. A row naming something the batches did not list would be
        lost in the join: that is caught by the count, and nothing is saved."""
        con = self._con
        names = sorted({name for b in batches for name in b.usage.names})
        regions = sorted({region for b in batches for region in b.usage.regions})
        con.execute(sql.ADD_NAMES, {"names": names})
        con.execute(sql.ADD_REGIONS, {"regions": regions})
        found = con.execute(sql.LOAD_ROWS, [files]).fetchone()
        expected = sum(b.usage.row_count for b in batches)
        if found is None or found[0] != expected:
            loaded = found[0] if found else 0
            raise UsageError(
                f"{self.path}: {expected - loaded} of {expected} rows name a principal, action, "
                "session or region their batch did not list; nothing was saved"
            )

    def _ensure_schema(self) -> None:
        with self._errors("open"):
            # The version first: a store of another schema is refused as it is, not added to.
            self._con.execute(
                "CREATE TABLE IF NOT EXISTS store_meta"
                " (name VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)"
            )
            found = self._con.execute(
                "SELECT value FROM store_meta WHERE name = 'schema'"
            ).fetchone()
            if found is None:
                self._con.execute(sql.SCHEMA)
                self._con.execute(
                    "INSERT INTO store_meta VALUES ('schema', ?)", [sql.SCHEMA_VERSION]
                )
            elif found[0] != sql.SCHEMA_VERSION:
                lacks = sql.OLD_SCHEMAS.get(found[0])
                made = (
                    f"made by an older alpha (schema {found[0]}, without {lacks})"
                    if lacks
                    else f"of schema {found[0]}"
                )
                raise UsageError(
                    f"{self.path}: usage store {made}; this alpha reads schema "
                    f"{sql.SCHEMA_VERSION}: move or delete the file, and the next run reads the "
                    "logs again into a new store"
                )
            self._con.execute("CREATE TEMP TABLE IF NOT EXISTS wanted_keys (key VARCHAR)")
            self._con.execute("CREATE TEMP TABLE IF NOT EXISTS wanted_principals (name VARCHAR)")

    def _select(self, query: UsageQuery) -> dict[str, object]:
        """The query's batches and principals in their temporary tables, and the parameters
        of `sql.SELECTED`."""
        self._set_wanted(query.keys)
        self._con.execute("DELETE FROM wanted_principals")
        if query.principals:
            self._con.execute(
                "INSERT INTO wanted_principals SELECT DISTINCT unnest(?)", [list(query.principals)]
            )
        first, last = query.hour_range()
        return {
            "principal": query.principal,
            "among": query.principals is not None,
            "first": first,
            "last": last,
        }

    def _set_wanted(self, keys: Collection[str]) -> None:
        self._con.execute("DELETE FROM wanted_keys")
        if keys:
            self._con.execute("INSERT INTO wanted_keys SELECT DISTINCT unnest(?)", [list(keys)])

    def _forget(self, keys: list[str]) -> None:
        """Delete the stored rows of these keys' earlier versions, if any."""
        self._set_wanted(keys)
        old = [
            i
            for (i,) in self._con.execute(
                "SELECT b.id FROM batches b JOIN wanted_keys w ON b.key = w.key"
            ).fetchall()
        ]
        if not old:
            return
        for table in ("usage", "batch_skipped", "batch_unmapped", "batch_source_ips"):
            self._con.execute(f"DELETE FROM {table} WHERE list_contains(?, batch)", [old])
        self._con.execute("DELETE FROM batches WHERE list_contains(?, id)", [old])

    def _insert_batches(self, batches: Sequence[StoredBatch], ids: list[int]) -> None:
        now = datetime.now(UTC)
        pairs = list(zip(ids, batches, strict=True))
        _insert_columns(
            self._con,
            "batches",
            [(i, b.key, b.version, b.size, b.usage.events, now) for i, b in pairs],
        )
        _insert_columns(
            self._con,
            "batch_skipped",
            [(i, r, n) for i, b in pairs for r, n in b.usage.skipped.items()],
        )
        _insert_columns(
            self._con,
            "batch_unmapped",
            [
                (i, u.event_source, u.event_name, u.count)
                for i, b in pairs
                for u in b.usage.unmapped
            ],
        )

    @contextmanager
    def _errors(self, doing: str) -> Iterator[None]:
        try:
            yield
        except duckdb.Error as exc:
            raise UsageError(f"{self.path}: cannot {doing} the usage store: {exc}") from exc
        except OSError as exc:  # the temporary row files: disk full, no temp folder, ...
            detail = f"{exc.filename}: {exc.strerror}" if exc.filename else str(exc)
            raise UsageError(f"{self.path}: cannot {doing} the usage store: {detail}") from exc


def _open(path: Path) -> duckdb.DuckDBPyConnection:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return duckdb.connect(str(path), config=dict(_CONFIG))
    except duckdb.IOException as exc:
        if "Conflicting lock" in str(exc):
            raise UsageStoreBusyError(f"{path}: in use by another process: {exc}") from exc
        raise UsageError(f"{path}: not a usable usage store: {exc}") from exc
    except duckdb.Error as exc:
        raise UsageError(f"{path}: not a usable usage store: {exc}") from exc
    except OSError as exc:
        raise UsageError(f"{path}: cannot open the usage store: {exc.strerror or exc}") from exc


@cache
def _usage_decoder() -> msgspec.json.Decoder[list[UsageRow]]:
    return msgspec.json.Decoder(list[UsageRow])


def _insert_columns(
    con: duckdb.DuckDBPyConnection, table: str, rows: list[tuple[object, ...]]
) -> None:
    """Insert rows as one list parameter per column: one statement, where `executemany` would
    run one per row (half a millisecond each)."""
    if not rows:
        return
    columns = [list(column) for column in zip(*rows, strict=True)]
    selects = ", ".join(f"unnest(${n + 1})" for n in range(len(columns)))
    con.execute(f"INSERT INTO {table} SELECT {selects}", columns)


# Row files live only until DuckDB has read them: in memory when the machine has a RAM folder
# with room to spare (writing ~70 MB a save to a disk's page cache costs several times more).
_RAM_FOLDER = Path("/dev/shm")


def spool_folder(needed: int, folder: Path = _RAM_FOLDER) -> str | None:
    """Where a save writes its row files: `folder` (the RAM folder) when it is writable and
    has twice `needed` bytes free, else None (the system's temporary folder)."""
    try:
        found = os.statvfs(folder)
    except OSError:
        return None
    free = found.f_bavail * found.f_frsize
    usable = os.access(folder, os.W_OK | os.X_OK)
    return str(folder) if usable and free >= 2 * needed else None


def _write_rows(
    folder: Path, batches: Sequence[StoredBatch], ids: list[int]
) -> tuple[list[str], list[str]]:
    """Each batch's rows as `<folder>/rows/<batch id>.ndjson` and its source IPs as
    `<folder>/ips/<batch id>.ndjson`; the files, of each kind. Rows already in a `RowFile`
    are linked there, not copied: the name carries the batch id into the rows."""
    files: list[str] = []
    ip_files: list[str] = []
    (folder / "rows").mkdir()
    (folder / "ips").mkdir()
    for batch_id, batch in zip(ids, batches, strict=True):
        if batch.usage.row_count:
            files.append(_place(folder / "rows" / f"{batch_id}.ndjson", batch.usage.rows))
        if batch.usage.source_ip_count:
            ip_files.append(_place(folder / "ips" / f"{batch_id}.ndjson", batch.usage.source_ips))
    return files, ip_files


def _place(path: Path, data: bytes | RowFile) -> str:
    if isinstance(data, RowFile):
        path.symlink_to(data.path)
    else:
        path.write_bytes(data)
    return str(path)


def _in_memory(data: bytes | RowFile) -> int:
    return 0 if isinstance(data, RowFile) else len(data)


def _utc(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)
