"""TAP output from pgTAP -> assertions, with their diagnostics and directives."""

from __future__ import annotations

from dbfleet.sqltest.pgtap import parse_tap


def _lines(text: str, line: int = 1) -> list[tuple[int, str]]:
    return [(line, t) for t in text.split("\n")]


def test_plan_assertions_and_the_diagnostics_after_a_failure():
    tap = parse_tap(
        _lines(
            '1..3\nok 1 - has tenants\nnot ok 2 - four plans\n# Failed test 2: "four plans"\n'
            "#         have: 3\n#         want: 4\nok 3\n# Looks like you failed 1 test of 3"
        )
    )
    assert tap.plan == 3
    assert [(a.number, a.ok, a.description) for a in tap.assertions] == [
        (1, True, "has tenants"),
        (2, False, "four plans"),
        (3, True, ""),
    ]
    assert tap.assertions[1].diagnostics == ('Failed test 2: "four plans"', "have: 3", "want: 4")
    assert tap.assertions[2].diagnostics == ()  # "Looks like you ..." is dbfleet's to say


def test_skip_and_todo_directives():
    tap = parse_tap(_lines("ok 1 - a # SKIP no network\nnot ok 2 - b # TODO later\nok 3 - c \\# d"))
    a, b, c = tap.assertions
    assert (a.directive, a.reason) == ("skip", "no network")
    assert (b.directive, b.reason, b.ok) == ("todo", "later", False)
    assert c.directive is None and c.description == "c # d"


def test_subtests_of_runtests_belong_to_the_summary_line_after_them():
    tap = parse_tap(
        _lines(
            "    # Subtest: public.test_x()\n    not ok 1 - inner\n    1..1\n"
            "not ok 1 - public.test_x\n1..1"
        )
    )
    (summary,) = tap.assertions
    assert not summary.ok and summary.description == "public.test_x"
    assert "not ok 1 - inner" in summary.diagnostics


def test_lines_that_are_not_tap_are_ignored_and_lines_are_kept():
    tap = parse_tap([(4, "hello"), (5, "ok 1 - x")])
    assert [(a.line, a.description) for a in tap.assertions] == [(5, "x")]
