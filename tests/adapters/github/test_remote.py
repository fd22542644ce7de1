"""The repository a remote URL names."""

from __future__ import annotations

import pytest

from alpha.adapters.github.errors import GitHubError
from alpha.adapters.github.remote import parse_remote
from alpha.iac.ports import Repository


@pytest.mark.parametrize(
    ("url", "host", "repository"),
    [
        ("https://github.com/shop/infra.git", "github.com", Repository("shop", "infra")),
        ("https://github.com/shop/infra", "github.com", Repository("shop", "infra")),
        (
            "https://x-access-token:abc@github.com/shop/infra.git",
            "github.com",
            Repository("shop", "infra"),
        ),
        ("git@github.com:shop/infra.git", "github.com", Repository("shop", "infra")),
        (
            "ssh://git@ghe.example.com:2222/platform/iam-policies.git",
            "ghe.example.com",
            Repository("platform", "iam-policies"),
        ),
        ("github.com:shop/infra", "github.com", Repository("shop", "infra")),
    ],
)
def test_https_and_ssh_urls(url: str, host: str, repository: Repository) -> None:
    assert parse_remote(url) == (host, repository)


@pytest.mark.parametrize(
    "url",
    [
        "/srv/git/infra.git",
        "file:///srv/git/infra.git",
        "https://github.com/shop",
        "git@github.com:infra.git",
    ],
)
def test_anything_else_is_said(url: str) -> None:
    with pytest.raises(GitHubError, match="names no hosted repository"):
        parse_remote(url)
