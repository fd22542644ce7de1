"""ALPHA: Autonomous Least-Privilege Hardening Agent for AWS IAM."""

__version__ = "0.1.0"
