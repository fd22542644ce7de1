"""Path options and arguments whose names may be anything a user can type."""

from __future__ import annotations

import os
from typing import Any

import click

__all__ = ["ACCOUNT_HELP", "AccountSource", "UserPath"]


class UserPath(click.Path):
    """`click.Path`, except that a name the system cannot take (a NUL in it) passes through to
    the command's reader, which names it in one line (`a\\x00b: cannot read: embedded null
    byte`): click's own check calls `os.stat`, whose ValueError would be a traceback."""

    def convert(
        self,
        value: str | os.PathLike[str],
        param: click.Parameter | None,
        ctx: click.Context | None,
    ) -> Any:
        if "\0" in os.fspath(value):
            return self.coerce_path_result(value)
        return super().convert(value, param, ctx)


class AccountSource(UserPath):
    """An account: a `get-account-authorization-details` file, or `aws` / `aws://PROFILE` (the
    account the credentials reach, read live), passed on as the text given."""

    name = "account"

    def convert(
        self,
        value: str | os.PathLike[str],
        param: click.Parameter | None,
        ctx: click.Context | None,
    ) -> Any:
        text = os.fspath(value)
        if text == "aws" or text.startswith("aws://"):
            return text
        return super().convert(value, param, ctx)


ACCOUNT_HELP = (
    "The account: `aws iam get-account-authorization-details` output, or `aws` / "
    "`aws://PROFILE` to read it live (GetAccountAuthorizationDetails)."
)
