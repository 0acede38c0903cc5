"""A path typed with a leading ~ means the login user's home on the host; nothing else expands."""

import subprocess

from hypothesis import given
from hypothesis import strategies as st

from workers.commands import shell_path

HOME = "/home/ascend user"


def expand(word: str) -> str:
    return subprocess.run(["sh", "-c", f"printf %s {word}"], env={"HOME": HOME, "PATH": "/usr/bin:/bin"},
                          capture_output=True, text=True, check=True).stdout


def test_a_tilde_is_the_home_directory():
    assert expand(shell_path("~")) == HOME
    assert expand(shell_path("~/code/my project")) == f"{HOME}/code/my project"
    assert expand(shell_path("/data/~x")) == "/data/~x"
    assert expand(shell_path("~other/x")) == "~other/x"  # only the user's own home


@given(st.text(alphabet=st.characters(blacklist_categories=["Cs", "Cc"]), min_size=1, max_size=40))
def test_anything_else_stays_one_word_as_typed(path):
    rest = path[2:] if path.startswith("~/") else None
    expected = f"{HOME}/{rest}" if rest is not None else (HOME if path == "~" else path)
    assert expand(shell_path(path)) == expected
