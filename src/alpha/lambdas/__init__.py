"""AWS Lambda handlers: the Step Functions workflow's steps (`alpha.lambdas.handlers`), thin
over `alpha.app` (parse the event, call one use case, return JSON), with Powertools for the
logger, metrics and idempotency."""

__all__: list[str] = []
