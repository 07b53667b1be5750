"""Development tools: the sandbox courier, the demo seed and `make run`'s devstack.

Nothing in production imports this package (an import-linter contract in pyproject.toml
checks it in `make lint`), and the production package does not ship it.
"""
