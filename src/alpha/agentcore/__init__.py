"""The Amazon Bedrock AgentCore entrypoint: ALPHA's agent tools (scan, explain a proposal,
propose; never approve or roll out) behind AgentCore's invocation contract. See app.py."""

__all__: list[str] = []
