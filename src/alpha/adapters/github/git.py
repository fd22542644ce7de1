"""`GitCheckout`: a branch of the local clone prepared in a worktree of its own, so the
clone's working tree, index and current branch are never touched: the base branch is
fetched from the remote, the branch made from it (`git worktree add -B`), the files written
and committed there, the branch pushed to the remote, and the worktree removed. The local
branch stays in the clone, for a look.

git runs as the user runs it: the clone's own identity and credentials (the API token is not
used to push). It is never asked to prompt for anything."""

from __future__ import annotations

import os
import posixpath
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from alpha.adapters.github.errors import GitHubError
from alpha.adapters.github.remote import parse_remote
from alpha.iac.ports import Repository

__all__ = ["GitCheckout", "git_checkout"]

MAX_FILE = 4 * 1024 * 1024
"""A larger file is no template a person edits; it is not read."""


def _git(where: Path, *args: str, stdin: str | None = None) -> str:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "", "LC_ALL": "C"}
    try:
        ran = subprocess.run(
            ["git", "-C", str(where), *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
    except FileNotFoundError as exc:
        raise GitHubError("git is not installed (or not on PATH)") from exc
    if ran.returncode != 0:
        said = [line for line in ran.stderr.splitlines() if line.strip()]
        reason = said[-1].strip() if said else f"exit {ran.returncode}"
        raise GitHubError(f"git {args[0]} in {where}: {reason}")
    return ran.stdout


class GitCheckout:
    def __init__(
        self, root: Path, *, repository: Repository, host: str, branch: str, remote: str
    ) -> None:
        self._root = root
        self._repository = repository
        self._host = host
        self._branch = branch
        self._remote = remote
        self._written: list[str] = []
        self.pushed = False

    @property
    def repository(self) -> Repository:
        return self._repository

    @property
    def branch(self) -> str:
        return self._branch

    def compare_url(self, base: str) -> str:
        name = self._repository.full_name
        return f"https://{self._host}/{name}/compare/{base}...{self._branch}?expand=1"

    def files(self, suffixes: tuple[str, ...]) -> Mapping[str, str]:
        listed = _git(self._root, "ls-files", "-z").split("\0")
        found: dict[str, str] = {}
        for path in listed:
            file = self._root / path
            if not path.endswith(suffixes) or not file.is_file() or file.is_symlink():
                continue
            if file.stat().st_size > MAX_FILE:
                continue
            try:
                found[path] = file.read_bytes().decode("utf-8")
            except UnicodeDecodeError:
                continue  # not text a template is written in
        return found

    def write(self, path: str, text: str) -> None:
        normal = posixpath.normpath(path)
        if normal.startswith(("/", "../")) or normal == "..":
            raise GitHubError(f"{path}: outside the repository")
        target = self._root / normal
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(text.encode("utf-8"))
        self._written.append(normal)

    def commit_and_push(self, message: str) -> str:
        if not self._written:
            raise GitHubError("nothing was written to commit")
        _git(self._root, "add", "--", *self._written)
        _git(self._root, "commit", "--quiet", "--file", "-", stdin=message)
        sha = _git(self._root, "rev-parse", "HEAD").strip()
        # The branch is alpha's own, one per proposal: a run again replaces what it pushed.
        refspec = f"+refs/heads/{self._branch}:refs/heads/{self._branch}"
        _git(self._root, "push", "--quiet", self._remote, refspec)
        self.pushed = True
        return sha


@contextmanager
def git_checkout(clone: Path, *, remote: str, base: str, branch: str) -> Iterator[GitCheckout]:
    """The branch `branch` made from `remote`'s `base`, in a temporary worktree of `clone`."""
    if not (clone / ".git").exists():
        raise GitHubError(f"{clone}: not a git clone (no .git)")
    try:
        url = _git(clone, "config", "--get", f"remote.{remote}.url").strip()
    except GitHubError as exc:
        raise GitHubError(f"{clone}: no remote named {remote!r}") from exc
    host, repository = parse_remote(url)
    _git(clone, "fetch", "--quiet", remote, f"refs/heads/{base}")
    with tempfile.TemporaryDirectory(prefix="alpha-pr-") as folder:
        root = Path(folder) / "worktree"
        _git(clone, "worktree", "add", "--quiet", "-B", branch, str(root), "FETCH_HEAD")
        checkout = GitCheckout(root, repository=repository, host=host, branch=branch, remote=remote)
        try:
            yield checkout
        finally:
            _git(clone, "worktree", "remove", "--force", str(root))
            if not checkout.pushed:  # nothing shipped: leave the clone as it was
                _git(clone, "branch", "--quiet", "-D", branch)
