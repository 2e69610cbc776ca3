"""A crash log shows Python source lines only (pass 16b's note, issue 13 item 6): a template's frame
names the template's file, and a template hard-linked to `.env` would have put a line of values in
the log the user is asked to attach to a report."""

from __future__ import annotations

from tests.demofleet import CANARY


def _raised_from(path, source: str) -> BaseException:
    try:
        exec(compile(source, str(path), "exec"), {})
    except ZeroDivisionError as err:
        return err
    raise AssertionError("no exception")


def test_a_frame_of_a_non_python_file_shows_no_line_of_it(tmp_path):
    from juniper_rollout import crashlog

    values = tmp_path / "notes.j2"  # a template that is a hard link to `.env`, say
    values.write_text(f"API_TOKEN={CANARY}-crash\nx = 1 / 0\n")
    err = _raised_from(values, "\n" + "x = 1 / 0\n")  # the frame's line 2: the file's second line
    log = crashlog.describe(err, "rendering")
    assert f'File "{values}", line 2' in log  # where it happened is still said
    assert "x = 1 / 0" not in log and CANARY not in log


def test_a_python_frame_still_shows_its_line(tmp_path):
    from juniper_rollout import crashlog

    module = tmp_path / "mod.py"
    module.write_text("y = 2\nz = 1 / 0\n")
    err = _raised_from(module, module.read_text())
    assert "    z = 1 / 0" in crashlog.describe(err, "testing")
