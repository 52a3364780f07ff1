"""The one error type of the command line: bad input, reported on one line with exit code 2."""


class UsageError(Exception):
    """Bad command-line input (unknown tool, malformed argument, bad path)."""
