"""`alpha demo`: the whole loop on a bundled sample account and its CloudTrail."""
