"""One help style for every command this distribution installs (``rolemodel``, ``rolemodel-conformance``).

Descriptions and epilogs are wrapped to the terminal like prose, except blocks a command lays out itself
(indented lines: examples, exit-code tables), which are kept as written. Every option that has a default
shows it, so no help text leaves the reader guessing what happens when the option is left out.
"""

from __future__ import annotations

import argparse
import textwrap
from typing import Any, NoReturn


class HelpFormatter(argparse.HelpFormatter):
    """Prose wrapped, laid-out blocks kept, and ``(default: X)`` added wherever a default exists."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        paragraphs = text.strip("\n").split("\n\n")
        out = []
        for paragraph in paragraphs:
            lines = paragraph.splitlines()
            if any(line.startswith(" ") for line in lines) or any(line.endswith(":") for line in lines[:1]):
                out.append("\n".join(indent + line for line in lines))
            else:
                out.append(textwrap.fill(" ".join(lines), width, initial_indent=indent, subsequent_indent=indent))
        return "\n\n".join(out)

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if "%(default)" in text or not action.option_strings or default in (None, False, argparse.SUPPRESS, []):
            return text
        return f"{text} (default: %(default)s)" if text else "(default: %(default)s)"


class ArgumentParser(argparse.ArgumentParser):
    """The parser of every command: this help style, and a usage mistake in one line with exit code 2.

    argparse prints the whole usage block before its error; the line that matters is lost in it. Here the
    error line names the command and points at its ``--help``. Subcommand parsers inherit this class.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see '{self.prog} --help')\n")
