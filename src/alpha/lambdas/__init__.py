"""AWS Lambda handlers, each thin over `alpha.app` (parse the event, call one use case,
return JSON): the Step Functions workflow's steps (`alpha.lambdas.handlers`, with Powertools for
the logger, metrics and idempotency) and the Slack app (`alpha.lambdas.slack_handler`)."""

# Nothing is exported from the package itself: other packages import from its modules,
# each of which lists its public names in its own __all__.
__all__: list[str] = []
