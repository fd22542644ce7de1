"""The IAM account exports under tests/data/accounts; its README.md says what each one holds."""

from __future__ import annotations

from pathlib import Path

ACCOUNTS = Path(__file__).resolve().parent / "data" / "accounts"
GENERATED_ACCOUNT = ACCOUNTS / "account-455383650158.json"
EDGE_CASES_ACCOUNT = ACCOUNTS / "edge-cases.json"
EDGE_CASES_PAGES = ACCOUNTS / "edge-cases-pages.json"
