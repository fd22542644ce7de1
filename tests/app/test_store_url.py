"""Where the store is: a path, or `dynamodb://PREFIX` by flag, variable or `[store] url`."""

from __future__ import annotations

from pathlib import Path

import pytest

from alpha.app.errors import SettingsError
from alpha.app.settings import Flags, load_settings

URL = "dynamodb://alpha-prod"


@pytest.mark.parametrize(
    ("flags", "env", "toml", "expected"),
    [
        (Flags(), {"ALPHA_STORE": URL}, "", URL),
        (Flags(store=URL), {"ALPHA_STORE": "local.db"}, "", URL),
        (Flags(), {}, f'[store]\nurl = "{URL}"\n', URL),
        (Flags(), {"ALPHA_STORE": "local.db"}, f'[store]\nurl = "{URL}"\n', None),
        (Flags(store="flag.db"), {"ALPHA_STORE": URL}, "", None),
        (Flags(), {"ALPHA_STORE": URL}, '[store]\npath = "x.db"\n', URL),
        (Flags(), {}, "", None),
    ],
)
def test_the_first_given_names_the_store(
    tmp_path: Path, flags: Flags, env: dict[str, str], toml: str, expected: str | None
) -> None:
    if toml:
        (tmp_path / "alpha.toml").write_text(toml)
    settings = load_settings(flags, env, tmp_path)
    assert settings.store_url == expected
    assert settings.store_shown == (expected or str(settings.store))


@pytest.mark.parametrize(
    ("env", "toml", "message"),
    [
        ({"ALPHA_STORE": "s3://bucket/alpha"}, "", "ALPHA_STORE: 's3://bucket/alpha': the store"),
        ({"ALPHA_STORE": "dynamodb://"}, "", "ALPHA_STORE: 'dynamodb://': the table prefix"),
        ({"ALPHA_STORE": "dynamodb://a/b"}, "", "the table prefix must be"),
        ({}, '[store]\nurl = "dynamodb://a b"\n', "alpha.toml: store.url: 'dynamodb://a b'"),
        ({}, '[store]\nurl = "dynamodb://a"\npath = "x.db"\n', "give either path or url"),
    ],
)
def test_a_store_url_that_names_no_store(
    tmp_path: Path, env: dict[str, str], toml: str, message: str
) -> None:
    if toml:
        (tmp_path / "alpha.toml").write_text(toml)
    with pytest.raises(SettingsError, match=message.replace("(", r"\(")):
        load_settings(Flags(), env, tmp_path)
