"""GitHub: git through subprocess (a branch prepared in a worktree of the local clone, committed
and pushed) and the REST API through an httpx client it is given (pull requests, reviews)."""

__all__: list[str] = []
