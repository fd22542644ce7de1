"""Real git repositories for the tests: a bare repository standing for GitHub's copy, and a
clone of it whose `origin` says `https://github.com/shop/infra.git` (what a user's clone says)
while git is told to use the bare repository in its place (`url.<bare>.insteadOf`)."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from alpha.iac.ports import Repository

REMOTE_URL = "https://github.com/shop/infra.git"
SHOP = Repository("shop", "infra")
IDENTITY = ("-c", "user.name=Dana Ops", "-c", "user.email=dana@example.com")


def git(where: Path, *args: str) -> str:
    ran = subprocess.run(
        ["git", "-C", str(where), *args], capture_output=True, text=True, check=True
    )
    return ran.stdout


@dataclass(frozen=True, slots=True)
class Remote:
    bare: Path
    clone: Path

    def head(self, branch: str) -> str | None:
        ran = subprocess.run(
            [
                "git",
                "--git-dir",
                str(self.bare),
                "rev-parse",
                "--verify",
                "-q",
                f"refs/heads/{branch}",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        return ran.stdout.strip() or None

    def show(self, branch: str, path: str) -> str:
        """The file's bytes on the branch, as text (line endings as stored)."""
        command = ["git", "--git-dir", str(self.bare), "show", f"{branch}:{path}"]
        return subprocess.run(command, capture_output=True, check=True).stdout.decode()

    def log(self, branch: str) -> str:
        return git(self.bare, "log", "--format=%an <%ae>%n%B", "-1", branch)

    def heads(self, repository: Repository, branch: str) -> str | None:
        """What GitHub would say `branch` is at (a `FakeChangeRequester` head resolver)."""
        return self.head(branch) if repository == SHOP else None


def make_remote(tmp_path: Path, files: dict[str, str]) -> Remote:
    """A bare repository whose `main` holds `files`, and a user's clone of it."""
    if shutil.which("git") is None:
        raise RuntimeError("the GitHub tests need git")
    bare, seed, clone = tmp_path / "github" / "infra.git", tmp_path / "seed", tmp_path / "clone"
    subprocess.run(["git", "init", "--quiet", "--bare", "-b", "main", str(bare)], check=True)
    subprocess.run(["git", "init", "--quiet", "-b", "main", str(seed)], check=True)
    for path, text in files.items():
        (seed / path).parent.mkdir(parents=True, exist_ok=True)
        (seed / path).write_bytes(text.encode())
    git(seed, "add", ".")
    git(seed, *IDENTITY, "commit", "--quiet", "-m", "The shop's infrastructure")
    git(seed, "push", "--quiet", str(bare), "main")
    subprocess.run(["git", "clone", "--quiet", str(bare), str(clone)], check=True)
    git(clone, "remote", "set-url", "origin", REMOTE_URL)
    git(clone, "config", f"url.{bare}.insteadOf", REMOTE_URL)
    git(clone, "config", "user.name", "Dana Ops")
    git(clone, "config", "user.email", "dana@example.com")
    return Remote(bare, clone)
