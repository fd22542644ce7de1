"""AWS sources of CloudTrail usage: S3 delivery buckets, the LookupEvents API and Athena.

Only this package imports boto3. Every adapter takes its client as a parameter; the small
`make_*_client` factories build one with botocore's adaptive retry mode, which backs off on
throttling (`ThrottlingException`, `SlowDown`, ...) and rate-limits the client afterwards.
"""

# Nothing is exported from the package itself: other packages import from its modules,
# each of which lists its public names in its own __all__.
__all__: list[str] = []
