"""Loads the coopkit harness: the --impl option, friendly failures and the progress summary."""

pytest_plugins = ["coopkit.harness", "coopkit.progress"]
