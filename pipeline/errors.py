"""Errors a user can cause. The CLI prints their message as one sentence and exits non-zero."""

import click


class UserError(click.ClickException):
    """A mistake in how the tool was called or fed: one clear sentence, exit code 1."""

    exit_code = 1

    def show(self, file=None) -> None:  # no "Usage:" block, just the sentence
        click.echo(f"Error: {self.format_message()}", err=True, file=file)


class ConfigError(UserError):
    """sources.yaml (or an option standing in for it) is wrong: exit code 2, like a usage error."""

    exit_code = 2
