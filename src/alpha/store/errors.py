"""The store package's one base error."""

from __future__ import annotations

from alpha.errors import AlphaError

__all__ = ["ProposalNotFoundError", "StoreError", "TamperedStoreError"]


class StoreError(AlphaError):
    """The store cannot be opened or read, or a lookup or write it was asked for is invalid."""


class ProposalNotFoundError(StoreError):
    """No stored proposal has that id or id prefix."""


class AmbiguousProposalError(StoreError):
    """More than one stored proposal starts with the prefix the user typed."""


class TamperedStoreError(StoreError):
    """The store's content does not match its hash chain: it was changed outside alpha (or
    damaged). The message names the table, the row or chain entry, and what does not match."""
