"""AWS sources of CloudTrail usage: S3 delivery buckets, the LookupEvents API and Athena.

Only this package imports boto3. Every adapter takes its client as a parameter; the small
`make_*_client` factories build one with botocore's adaptive retry mode, which backs off on
throttling (`ThrottlingException`, `SlowDown`, ...) and rate-limits the client afterwards.
"""
