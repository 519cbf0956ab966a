"""Reports a parallel worker sends to the main process survive text that UTF-8 cannot carry."""

from types import SimpleNamespace

from tests.conftest import pytest_runtest_logreport


def test_a_report_quoting_lone_surrogates_is_sent_escaped():
    report = SimpleNamespace(
        sections=[("Captured log call", "WARNING user_id=\ud800"), ("Captured stdout call", "fine")],
        longrepr="AssertionError: sub \udfff",
    )
    pytest_runtest_logreport(report)
    assert report.sections == [("Captured log call", "WARNING user_id=\\ud800"), ("Captured stdout call", "fine")]
    assert report.longrepr == "AssertionError: sub \\udfff"
    assert report.longrepr.encode("utf-8")


def test_a_passing_report_keeps_its_failure_text_as_it_is():
    report = SimpleNamespace(sections=[], longrepr=None)
    pytest_runtest_logreport(report)
    assert (report.sections, report.longrepr) == ([], None)
