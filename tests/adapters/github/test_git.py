"""`git_checkout` on real git: the branch is made from the remote's base in a worktree of its
own, committed with the message given and pushed to the remote; the user's clone (its
working tree, index and current branch) is never touched."""

from __future__ import annotations

from pathlib import Path

import pytest

from alpha.adapters.github.errors import GitHubError
from alpha.adapters.github.git import git_checkout
from tests.adapters.github.repos import SHOP, git, make_remote

FILES = {
    "stacks/shop.yaml": "Resources: {}\n",
    "policies/orders.json": "{}\n",
    "README.md": "# infra\n",
    "crlf.tf": 'locals {\r\n  a = "b"\r\n}\r\n',
}


def test_a_branch_is_prepared_committed_and_pushed(tmp_path: Path) -> None:
    remote = make_remote(tmp_path, FILES)
    (remote.clone / "README.md").write_text("a change of the user's, not committed\n")
    with git_checkout(remote.clone, remote="origin", base="main", branch="alpha/x") as checkout:
        assert checkout.repository == SHOP
        assert checkout.compare_url("main") == (
            "https://github.com/shop/infra/compare/main...alpha/x?expand=1"
        )
        files = checkout.files((".json", ".yaml", ".tf"))
        assert files == {k: v for k, v in FILES.items() if k != "README.md"}
        checkout.write("policies/orders.json", '{"Version": "2012-10-17"}\n')
        checkout.write("crlf.tf", files["crlf.tf"].replace('"b"', '"c"'))
        sha = checkout.commit_and_push("alpha: least privilege\n\nWhy: because.\n")
    assert remote.head("alpha/x") == sha
    assert remote.show("alpha/x", "policies/orders.json") == '{"Version": "2012-10-17"}\n'
    assert remote.show("alpha/x", "crlf.tf") == 'locals {\r\n  a = "c"\r\n}\r\n'
    assert (
        remote.log("alpha/x")
        == "Dana Ops <dana@example.com>\nalpha: least privilege\n\nWhy: because.\n\n"
    )
    # The user's clone: same branch, same uncommitted change, no worktree left behind.
    assert git(remote.clone, "branch", "--show-current").strip() == "main"
    assert "a change of the user's" in (remote.clone / "README.md").read_text()
    assert len(git(remote.clone, "worktree", "list").splitlines()) == 1


def test_running_again_replaces_alpha_s_own_branch(tmp_path: Path) -> None:
    remote = make_remote(tmp_path, FILES)
    shas = []
    for text in ("{}\n", '{"a": 1}\n'):
        with git_checkout(remote.clone, remote="origin", base="main", branch="alpha/x") as checkout:
            checkout.write("policies/orders.json", text + " ")
            shas.append(checkout.commit_and_push("again"))
    assert remote.head("alpha/x") == shas[-1]


@pytest.mark.parametrize(
    ("remote_name", "base", "error"),
    [
        ("upstream", "main", "no remote named 'upstream'"),
        ("origin", "trunk", "git fetch"),
    ],
)
def test_a_missing_remote_or_base_is_said(
    tmp_path: Path, remote_name: str, base: str, error: str
) -> None:
    remote = make_remote(tmp_path, FILES)
    with (
        pytest.raises(GitHubError, match=error),
        git_checkout(remote.clone, remote=remote_name, base=base, branch="alpha/x"),
    ):
        pass


def test_not_a_clone_and_paths_outside_are_refused(tmp_path: Path) -> None:
    with (
        pytest.raises(GitHubError, match="not a git clone"),
        git_checkout(tmp_path, remote="origin", base="main", branch="alpha/x"),
    ):
        pass
    remote = make_remote(tmp_path, FILES)
    with git_checkout(remote.clone, remote="origin", base="main", branch="alpha/x") as checkout:
        with pytest.raises(GitHubError, match="outside the repository"):
            checkout.write("../escape.json", "{}")
        with pytest.raises(GitHubError, match="nothing was written"):
            checkout.commit_and_push("empty")
    # Nothing was pushed: the branch made for it is gone from the clone again.
    assert "alpha/x" not in git(remote.clone, "branch", "--list", "alpha/x")
