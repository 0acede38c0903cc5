"""Building remote commands: argv lists quoted with shlex, never string formatting of user values."""

import shlex


def quote_argv(argv: list[str]) -> str:
    """One shell word per argument, whatever characters it holds."""
    return shlex.join(str(arg) for arg in argv)


def sh_c(script: str) -> str:
    """Run ``script`` with ``sh -c`` regardless of the login shell."""
    return quote_argv(["sh", "-c", script])


def shell_path(path: str) -> str:
    """A path as one shell word, with a leading ``~`` meaning the login user's home (as a person
    typing it expects), and nothing else expanded."""
    if path == "~":
        return '"$HOME"'
    if path.startswith("~/"):
        return '"$HOME"/' + shlex.quote(path[2:])
    return shlex.quote(path)
