"""Usage: from CloudTrail events to what each principal really did."""
