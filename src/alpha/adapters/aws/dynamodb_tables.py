"""The DynamoDB store's access to its tables: strongly consistent reads (every Query and Scan
paginated), and writes grouped into one TransactWriteItems per store transaction.

A transaction takes the store's write lock (an item in the leases table, taken with a
conditional put and lasting `lock_seconds`, so a crashed process frees it), buffers its
writes, and reads its own writes through the buffer. Its commit is one TransactWriteItems:
each item written at most once, put or deleted on the condition that it is still as this
transaction read it (absent, or at the revision read), and the lock released on the condition
that this transaction still holds it. If the lock ran out and another process wrote meanwhile,
nothing is written. A block that raises writes nothing; an inner block that raises undoes only
its own writes (a savepoint).
"""

from __future__ import annotations

import copy
import logging
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from alpha.adapters.aws.dynamodb_schema import LEASES, TableSpec
from alpha.adapters.aws.dynamodb_wire import (
    Condition,
    Item,
    deserialize,
    error_code,
    item_size,
    key_of,
    reasons,
    serialize,
    sort_of,
)
from alpha.store.errors import StoreError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

__all__ = ["LOCK_NAME", "Tables"]

log = logging.getLogger(__name__)

LOCK_NAME = "alpha:store-write-lock"
MAX_ACTIONS = 100  # TransactWriteItems' limit
MAX_ITEM_BYTES = 400 * 1024  # DynamoDB's item size limit
_RETRIED = ("ThrottlingError", "TransactionConflict", "ProvisionedThroughputExceeded")


@dataclass(slots=True)
class _Pending:
    spec: TableSpec
    key: Item
    image: Item | None  # None: deleted
    condition: Condition | None  # on the item as it was before the transaction


@dataclass(slots=True)
class _Buffer:
    token: str
    writes: dict[tuple[str, tuple[Any, ...]], _Pending] = field(default_factory=dict)
    after: list[Callable[[], None]] = field(default_factory=list)


class Tables:
    """The tables of one store (`prefix`), through `client`. `clock` gives seconds since the
    epoch (the lock's expiry); `sleep` waits between attempts to take the lock; `page_size`
    caps the items of one Query or Scan page (None: DynamoDB's 1 MB pages)."""

    def __init__(
        self,
        client: DynamoDBClient,
        prefix: str,
        *,
        lock_seconds: float = 60.0,
        busy_timeout: float = 30.0,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        page_size: int | None = None,
    ) -> None:
        self.client = client
        self._page_size = page_size
        self.prefix = prefix
        self.where = f"dynamodb://{prefix}"
        self._lock_seconds = lock_seconds
        self._busy_timeout = busy_timeout
        self._clock = clock
        self._sleep = sleep
        self._buffer: _Buffer | None = None

    def name(self, spec: TableSpec) -> str:
        return spec.name(self.prefix)

    # Transactions ------------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[None]:
        if self._buffer is not None:
            yield from self._savepoint(self._buffer)
            return
        buffer = _Buffer(uuid.uuid4().hex)
        self._take_lock(buffer.token)
        self._buffer = buffer
        try:
            yield
            self._commit(buffer)
        except BaseException:
            self._buffer = None
            self._release_lock(buffer.token)
            raise
        finally:
            self._buffer = None
        for action in buffer.after:
            try:
                action()
            except StoreError as error:  # committed: what is left behind is only unused parts
                log.warning("%s: tidying up after a commit failed: %s", self.where, error)

    @property
    def in_transaction(self) -> bool:
        return self._buffer is not None

    def write(self, spec: TableSpec, image: Item, condition: Condition | None) -> None:
        """Put `image` at commit, if the item is then as `condition` says (the condition of
        the first write of an item in a transaction; later ones were checked in the buffer)."""
        self._pend(spec, {name: image[name] for name in spec.key_names}, image, condition)

    def delete(self, spec: TableSpec, key: Item, condition: Condition | None) -> None:
        self._pend(spec, key, None, condition)

    def after_commit(self, action: Callable[[], None]) -> None:
        """Run `action` once the transaction has committed (tidying up what it replaced)."""
        self._require_buffer().after.append(action)

    # Reads: consistent, through the transaction's buffer ---------------------------------
    def get(self, spec: TableSpec, key: Item) -> Item | None:
        if "" in key.values():
            return None  # DynamoDB takes no empty key, so no item has one
        pending = self._pending(spec, key_of(spec, key))
        if pending is not None:
            return copy.deepcopy(pending.image)
        try:
            found = self.client.get_item(
                TableName=self.name(spec), Key=serialize(key), ConsistentRead=True
            )
        except (ClientError, BotoCoreError) as error:
            raise self.error(f"reading {self.name(spec)}", error) from error
        return deserialize(found["Item"]) if "Item" in found else None

    def query(
        self,
        spec: TableSpec,
        partition: Any,
        *,
        after: Any = None,
        last: bool = False,
        committed: bool = False,
    ) -> list[Item]:
        """The partition's items in sort key order (with the buffer's writes, unless
        `committed`); `after`: only those whose sort key is greater; `last`: only the one
        with the greatest."""
        names = {"#p": spec.partition[0]}
        values: dict[str, Any] = {":p": partition}
        expression = "#p = :p"
        if after is not None and spec.sort is not None:
            names["#s"], values[":s"] = spec.sort[0], after
            expression += " AND #s > :s"
        request: dict[str, Any] = {
            "TableName": self.name(spec),
            "KeyConditionExpression": expression,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": serialize(values),
            "ConsistentRead": True,
        }
        if last:
            request.update(ScanIndexForward=False, Limit=1)
        found = self._pages("query", request, single=last)
        if committed:
            return found
        merged = self._merged(spec, found, lambda item: item[spec.partition[0]] == partition)
        merged = [item for item in merged if after is None or sort_of(spec, item) > after]
        return merged[-1:] if last else merged

    def scan(self, spec: TableSpec) -> list[Item]:
        """Every item of the table (with the buffer's writes)."""
        request = {"TableName": self.name(spec), "ConsistentRead": True}
        return self._merged(spec, self._pages("scan", request), lambda _: True)

    def pending_items(self, spec: TableSpec) -> list[Item]:
        """The items this transaction has written to `spec` so far, in the order written."""
        if self._buffer is None:
            return []
        return [
            copy.deepcopy(p.image)
            for p in self._buffer.writes.values()
            if p.spec is spec and p.image is not None
        ]

    # Direct writes (blob parts: immutable, written before the items that name them) -------
    def put_now(self, spec: TableSpec, items: list[Item]) -> None:
        for start in range(0, len(items), 25):
            requests = [{"PutRequest": {"Item": serialize(i)}} for i in items[start : start + 25]]
            self._batch_write({self.name(spec): requests})

    def delete_now(self, spec: TableSpec, keys: list[Item]) -> None:
        for start in range(0, len(keys), 25):
            requests = [{"DeleteRequest": {"Key": serialize(k)}} for k in keys[start : start + 25]]
            self._batch_write({self.name(spec): requests})

    def error(self, doing: str, error: Exception) -> StoreError:
        if isinstance(error, ClientError):
            code = error_code(error)
            message = " ".join(str(error.response.get("Error", {}).get("Message", "")).split())
            return StoreError(f"{self.where}: {doing} failed ({code}: {message[:200]})")
        return StoreError(f"{self.where}: {doing} failed ({type(error).__name__}: {error})")

    # Helpers -----------------------------------------------------------------------------
    def _require_buffer(self) -> _Buffer:
        if self._buffer is None:
            raise RuntimeError("a store write outside a transaction")  # the store's own bug
        return self._buffer

    def _pend(self, spec: TableSpec, key: Item, image: Item | None, cond: Condition | None) -> None:
        buffer = self._require_buffer()
        index = (spec.suffix, key_of(spec, key))
        earlier = buffer.writes.get(index)
        condition = earlier.condition if earlier is not None else cond
        buffer.writes[index] = _Pending(spec, dict(key), copy.deepcopy(image), condition)

    def _pending(self, spec: TableSpec, key: tuple[Any, ...]) -> _Pending | None:
        return None if self._buffer is None else self._buffer.writes.get((spec.suffix, key))

    def _merged(
        self, spec: TableSpec, found: list[Item], wanted: Callable[[Item], bool]
    ) -> list[Item]:
        if self._buffer is None:
            return found
        items = {key_of(spec, item): item for item in found}
        for (suffix, key), pending in self._buffer.writes.items():
            if suffix != spec.suffix:
                continue
            if pending.image is None:
                items.pop(key, None)
            elif wanted(pending.image):
                items[key] = copy.deepcopy(pending.image)
        return [items[key] for key in sorted(items)]

    def _pages(
        self, operation: str, request: dict[str, Any], *, single: bool = False
    ) -> list[Item]:
        items: list[Item] = []
        call = getattr(self.client, operation)
        if self._page_size is not None and not single:
            request = {**request, "Limit": self._page_size}
        while True:
            try:
                page = call(**request)
            except (ClientError, BotoCoreError) as error:
                raise self.error(f"reading {request['TableName']}", error) from error
            items.extend(deserialize(item) for item in page.get("Items", []))
            if single or "LastEvaluatedKey" not in page:
                return items
            request = {**request, "ExclusiveStartKey": page["LastEvaluatedKey"]}

    def _batch_write(self, requests: dict[str, Any]) -> None:
        delay = 0.05
        for _ in range(10):
            try:
                answer = self.client.batch_write_item(RequestItems=requests)
            except (ClientError, BotoCoreError) as error:
                raise self.error("writing a large value", error) from error
            requests = answer.get("UnprocessedItems") or {}
            if not requests:
                return
            self._sleep(delay)
            delay = min(delay * 2, 2.0)
        raise StoreError(f"{self.where}: DynamoDB kept throttling a write; try again later")

    def _savepoint(self, buffer: _Buffer) -> Iterator[None]:
        saved = (dict(buffer.writes), list(buffer.after))
        try:
            yield
        except BaseException:
            buffer.writes, buffer.after = dict(saved[0]), list(saved[1])
            raise

    # The write lock ----------------------------------------------------------------------
    def _take_lock(self, token: str) -> None:
        deadline = self._clock() + self._busy_timeout
        delay = 0.02
        while True:
            now = self._clock()
            condition = Condition(
                "attribute_not_exists(#n) OR #e < :now",
                {"#n": "name", "#e": "expires"},
                {":now": _millis(now)},
            )
            lock = {
                "name": LOCK_NAME,
                "holder": token,
                "expires": _millis(now + self._lock_seconds),
            }
            try:
                self.client.put_item(
                    TableName=self.name(LEASES), Item=serialize(lock), **condition.request()
                )
                return
            except ClientError as error:
                if error_code(error) != "ConditionalCheckFailedException":
                    raise self.error("taking the store's write lock", error) from error
            except BotoCoreError as error:
                raise self.error("taking the store's write lock", error) from error
            if now >= deadline:
                raise StoreError(
                    f"{self.where}: the store stayed locked by another alpha process for "
                    f"{self._busy_timeout:g} s; try again when it has finished"
                )
            self._sleep(delay)
            delay = min(delay * 2, 0.2)

    def _release_lock(self, token: str) -> None:
        try:
            self.client.delete_item(
                TableName=self.name(LEASES),
                Key=serialize({"name": LOCK_NAME}),
                **_held_by(token).request(),
            )
        except ClientError as error:
            if error_code(error) != "ConditionalCheckFailedException":  # it ran out: not ours now
                log.warning("%s: releasing the write lock failed: %s", self.where, error)
        except BotoCoreError as error:
            log.warning("%s: releasing the write lock failed: %s", self.where, error)

    # Commit ------------------------------------------------------------------------------
    def _commit(self, buffer: _Buffer) -> None:
        actions = [self._action(p) for p in buffer.writes.values()]
        actions.append(_lock_release(self.name(LEASES), buffer.token))
        if len(actions) > MAX_ACTIONS:
            raise StoreError(
                f"{self.where}: one transaction would write {len(actions) - 1} items, more "
                f"than DynamoDB's {MAX_ACTIONS - 1} in one transaction; nothing was written"
            )
        delay = 0.05
        for attempt in range(8):
            try:
                self.client.transact_write_items(
                    TransactItems=actions,  # type: ignore[arg-type]
                    ClientRequestToken=buffer.token,
                )
                return
            except ClientError as error:
                codes = reasons(error)
                if not codes or not all(r in ("None", *_RETRIED) for r in codes) or attempt == 7:
                    raise self._refused(error, codes, list(buffer.writes.values())) from error
            except BotoCoreError as error:
                raise self.error("committing a transaction", error) from error
            self._sleep(delay)
            delay = min(delay * 2, 1.0)

    def _action(self, pending: _Pending) -> dict[str, Any]:
        table = self.name(pending.spec)
        extra = pending.condition.request() if pending.condition is not None else {}
        if pending.image is None:
            return {"Delete": {"TableName": table, "Key": serialize(pending.key), **extra}}
        item = serialize(pending.image)
        size = item_size(pending.image)
        if size > MAX_ITEM_BYTES:
            raise StoreError(
                f"{self.where}: an item of {table} would be {size:,} bytes, over DynamoDB's "
                f"{MAX_ITEM_BYTES:,}; nothing was written"
            )
        return {"Put": {"TableName": table, "Item": item, **extra}}

    def _refused(self, error: ClientError, codes: list[str], writes: list[_Pending]) -> StoreError:
        if error_code(error) != "TransactionCanceledException":
            return self.error("committing a transaction", error)
        if codes and codes[-1] == "ConditionalCheckFailed":
            return StoreError(
                f"{self.where}: this alpha held the store's write lock past its "
                f"{self._lock_seconds:g} s and another process took it; nothing was written: "
                "try again"
            )
        changed = [writes[i] for i, r in enumerate(codes[:-1]) if r == "ConditionalCheckFailed"]
        if changed:
            key = key_of(changed[0].spec, changed[0].key)
            return StoreError(
                f"{self.where}: item {key} of {self.name(changed[0].spec)} was changed by "
                "another process meanwhile; nothing was written: try again"
            )
        return self.error("committing a transaction", error)


def _millis(seconds: float) -> int:
    """The lock's times in whole milliseconds (the store keeps only whole numbers)."""
    return int(seconds * 1000)


def _held_by(token: str) -> Condition:
    return Condition("#h = :h", {"#h": "holder"}, {":h": token})


def _lock_release(table: str, token: str) -> dict[str, Any]:
    return {
        "Delete": {
            "TableName": table,
            "Key": serialize({"name": LOCK_NAME}),
            **_held_by(token).request(),
        }
    }
