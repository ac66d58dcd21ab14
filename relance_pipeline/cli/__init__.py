"""The command line (click): each verb parses its options, calls one command, prints its result."""

from relance_pipeline.cli.main import main

__all__ = ["main"]
