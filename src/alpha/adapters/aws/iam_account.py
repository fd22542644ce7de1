"""The account read live: `GetAccountAuthorizationDetails`, every page, as an `AccountState`.

The pages are merged into one authorization-details document, the same JSON the AWS CLI writes
(`aws iam get-account-authorization-details`), so the file reader's parser builds the snapshot
and `alpha account export` writes a file that reads back the same. botocore decodes the policy
documents; its dates become ISO 8601 text. Throttling is retried by the client's retry config
(`alpha.adapters.aws.clients.retry_config`: adaptive backoff), never here.

An account is named `aws` (the default credentials chain) or `aws://PROFILE`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from alpha.account.errors import AccountError
from alpha.account.model import AccountSnapshot, EffectivePolicies, Principal
from alpha.adapters.local.authorization_details import LISTS, parse_authorization_details

__all__ = ["ALL_FILTERS", "LiveAccount", "fetch_authorization_details", "profile_of"]

JsonDict = dict[str, Any]
ALL_FILTERS = ("User", "Role", "Group", "LocalManagedPolicy", "AWSManagedPolicy")
_SCHEME = "aws://"
_PAGE = 1000  # the API's largest page: fewer round trips on a large account


def profile_of(text: str) -> str | None:
    """The profile an `aws://PROFILE` name gives (None: the default credentials chain)."""
    if text == "aws":
        return None
    profile = text.removeprefix(_SCHEME).strip("/")
    if not profile or "/" in profile:
        raise AccountError(f"{text!r}: name the account `aws` or `aws://PROFILE`")
    return profile


def fetch_authorization_details(
    client: Any, name: str = "aws", filters: Sequence[str] = ALL_FILTERS
) -> JsonDict:
    """Every page of `GetAccountAuthorizationDetails` merged into one JSON-ready document;
    `AccountError` naming `name` and AWS's error code when it cannot be read."""
    merged: JsonDict = {key: [] for key in LISTS}
    try:
        paginator = client.get_paginator("get_account_authorization_details")
        pages = paginator.paginate(Filter=list(filters), PaginationConfig={"PageSize": _PAGE})
        for page in pages:
            for key in LISTS:
                merged[key].extend(page.get(key) or [])
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code, message = error.get("Code", "?"), error.get("Message", "")
        raise AccountError(
            f"{name}: GetAccountAuthorizationDetails failed: {code}: {message}"
        ) from exc
    except BotoCoreError as exc:
        raise AccountError(f"{name}: GetAccountAuthorizationDetails failed: {exc}") from exc
    merged["IsTruncated"] = False
    ready: JsonDict = _json_ready(merged)
    return ready


def _json_ready(value: Any) -> Any:
    """Dates as ISO 8601 text; everything else as botocore decoded it."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: _json_ready(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_json_ready(item) for item in value]
    return value


class LiveAccount:
    """`AccountState` over the IAM API: read on first use, then kept (one run, one view)."""

    def __init__(self, client: Any, name: str = "aws") -> None:
        self._client = client
        self._name = name
        self._document: JsonDict | None = None
        self._snapshot: AccountSnapshot | None = None

    @property
    def name(self) -> str:
        return self._name

    def document(self) -> JsonDict:
        """The account as authorization-details JSON (what `alpha account export` writes)."""
        if self._document is None:
            self._document = fetch_authorization_details(self._client, self._name)
        return self._document

    def snapshot(self) -> AccountSnapshot:
        if self._snapshot is None:
            self._snapshot = parse_authorization_details(self.document(), self._name)
        return self._snapshot

    def principal(self, arn: str) -> Principal:
        return self.snapshot().principal(arn)

    def effective_policies(self, arn: str) -> EffectivePolicies:
        return self.snapshot().effective_policies(arn)
