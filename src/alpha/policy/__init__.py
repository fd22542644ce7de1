"""The policy engine: model, parse, validate, normalise, evaluate, compare, diff."""
