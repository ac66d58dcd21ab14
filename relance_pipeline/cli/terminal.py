"""Everything relance prints goes through `echo`: text from the books never drives the terminal.

A hold note, a client name or a server's answer may hold control characters (`ESC ] 0 ; … BEL` retitles a
terminal, others move the cursor, erase lines or fake a prompt). They are printed as `\\u001b`, readable, and
valid inside the JSON that `plan --format json` prints. Tabs and line ends stay; so does everything else.
"""

from __future__ import annotations

import re

import click

_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
"""C0 and C1 controls but tab and line feed, and the bidirectional overrides that reorder what is shown."""


def printable(text: str) -> str:
    return _CONTROL.sub(lambda found: f"\\u{ord(found.group()):04x}", text)


def echo(message: str = "", *, err: bool = False, nl: bool = True) -> None:
    click.echo(printable(message), err=err, nl=nl)
