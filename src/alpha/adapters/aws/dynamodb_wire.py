"""The DynamoDB store's items on the wire: plain Python values to DynamoDB's attribute values
and back, condition expressions, and what DynamoDB's errors say."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from alpha.adapters.aws.dynamodb_schema import TableSpec

__all__ = [
    "Condition",
    "Item",
    "absent",
    "at_revision",
    "deserialize",
    "error_code",
    "item_size",
    "key_of",
    "next_revision",
    "reasons",
    "serialize",
    "sort_of",
]

Item = dict[str, Any]
_SERIALIZER = TypeSerializer()
_DESERIALIZER = TypeDeserializer()


@dataclass(frozen=True, slots=True)
class Condition:
    """A condition expression with its names and values (plain Python values)."""

    expression: str
    names: dict[str, str] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)

    def request(self) -> dict[str, Any]:
        found: dict[str, Any] = {"ConditionExpression": self.expression}
        if self.names:
            found["ExpressionAttributeNames"] = self.names
        if self.values:
            found["ExpressionAttributeValues"] = serialize(self.values)
        return found


def absent(spec: TableSpec) -> Condition:
    """The item is not there yet."""
    return Condition("attribute_not_exists(#k)", {"#k": spec.partition[0]})


def at_revision(stored: Item | None, spec: TableSpec) -> Condition:
    """The item is still as it was read: absent, or at the revision read."""
    if stored is None:
        return absent(spec)
    if "rev" not in stored:  # written outside alpha: still only if nobody writes it meanwhile
        return Condition("attribute_not_exists(#rev)", {"#rev": "rev"})
    return Condition("#rev = :rev", {"#rev": "rev"}, {":rev": stored["rev"]})


def next_revision(stored: Item | None) -> int:
    """The revision an item written over `stored` gets."""
    found = None if stored is None else stored.get("rev")
    return found + 1 if isinstance(found, int) else 1


def serialize(item: Item) -> dict[str, Any]:
    return {name: _SERIALIZER.serialize(value) for name, value in item.items()}


def deserialize(item: dict[str, Any]) -> Item:
    return {name: _plain(_DESERIALIZER.deserialize(value)) for name, value in item.items()}


def _plain(value: Any) -> Any:
    """Numbers as int (the store keeps only whole numbers); binary as bytes."""
    if isinstance(value, Decimal):
        return int(value)
    if hasattr(value, "value") and isinstance(value.value, bytes):  # boto3's Binary
        return bytes(value.value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def key_of(spec: TableSpec, item: Item) -> tuple[Any, ...]:
    return tuple(item[name] for name in spec.key_names)


def sort_of(spec: TableSpec, item: Item) -> Any:
    return item[spec.sort[0]] if spec.sort is not None else None


def item_size(item: Item) -> int:
    """DynamoDB's measure, near enough: names plus values in UTF-8."""
    total = 0
    for name, value in item.items():
        total += len(name.encode())
        if isinstance(value, str):
            total += len(value.encode("utf-8", "surrogatepass"))
        elif isinstance(value, bytes):
            total += len(value)
        elif isinstance(value, dict):
            total += item_size(value) + 3
        else:
            total += 21
    return total


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def reasons(error: ClientError) -> list[str]:
    found = error.response.get("CancellationReasons") or []
    return [str(reason.get("Code", "None")) for reason in found]
