"""Job messages are kept as msgid + parameters and read in the reader's language."""

from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from workers.errors import PermanentError, Reason, Text, localize

EXITED = "The command exited with code %(code)s (%(hint)s). Last output: %(last)s"


def test_a_message_reads_in_the_active_language_with_its_parameters_as_they_were():
    text = Text(EXITED, {"code": 127, "hint": Text("command not found"), "last": "sh: foo: not found"})
    assert text.english == "The command exited with code 127 (command not found). Last output: sh: foo: not found"
    with translation.override("zh-hans"):
        assert text.localized == "命令以退出码 127 结束（未找到命令）。最后的输出：sh: foo: not found"
    with translation.override("en"):
        assert text.localized == text.english


def test_a_stored_message_is_read_back_in_each_language():
    stored = PermanentError("Timed out connecting to %(host)s.", Reason.CONNECTION,
                            host="root@10.0.0.8:22").text.as_json()
    with translation.override("zh-hans"):
        assert localize(stored) == "连接 root@10.0.0.8:22 超时。"
    with translation.override("en"):
        assert localize(stored) == "Timed out connecting to root@10.0.0.8:22."


def test_rows_from_before_message_details_show_their_stored_text():
    assert localize({}, "Picked up by a worker.") == "Picked up by a worker."
    assert localize(None, "old") == "old" and localize({"msgid": 3}, "old") == "old"


def test_a_message_whose_parameters_do_not_fit_still_shows_the_english_text():
    assert Text("Finished.").localized == "Finished."
    assert Text("%(missing)s and %(here)s", {"here": "x", "missing": "y"}).english == "y and x"
    assert Text("%(a)s", {"b": 1}).english == "%(a)s"  # never raises in a page


@given(st.text(), st.dictionaries(st.from_regex(r"[a-z]{1,8}", fullmatch=True),
                                  st.one_of(st.integers(), st.text(), st.floats(allow_nan=False))))
def test_a_message_survives_its_json_round_trip(msgid, params):
    text = Text(msgid, params)
    again = Text.from_json(text.as_json())
    assert again == text and again.english == text.english
