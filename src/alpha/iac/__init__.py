"""Where a principal's policies are written in an infrastructure-as-code repository, and how
to rewrite them as a proposal says: CloudFormation templates (JSON and YAML), Terraform, and
plain policy files named in alpha.toml. Pure: it is given the repository's text and gives back
the edited text; reading and writing files, git and GitHub are the adapters' and the
application's (`alpha.adapters.github`, `alpha.app.pull_requests`)."""

# Nothing is exported from the package itself: other packages import from its modules,
# each of which lists its public names in its own __all__.
__all__: list[str] = []
