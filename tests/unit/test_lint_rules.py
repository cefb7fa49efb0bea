"""Specification of the rule catalogue: stable codes, explanations, and the coverage floor."""

from __future__ import annotations

import re

import pytest

from dbfleet.lint.rules import RULES, find_rule

# squawk's public rules (squawk-cli 2.70) that dbfleet covers, by squawk's own names.
SQUAWK = """
adding-field-with-default adding-foreign-key-constraint adding-not-nullable-field
adding-required-field adding-serial-primary-key-field ban-char-field
ban-concurrent-index-creation-in-transaction ban-create-domain-with-constraint ban-drop-column
ban-drop-database ban-drop-not-null ban-drop-table ban-truncate-cascade changing-column-type
constraint-missing-not-valid disallowed-unique-constraint prefer-big-int prefer-bigint-over-int
prefer-bigint-over-smallint prefer-identity prefer-robust-stmts prefer-text-field
prefer-timestamptz renaming-column renaming-table require-concurrent-index-creation
require-concurrent-index-deletion transaction-nesting ban-alter-domain-with-add-constraint
require-timeout-settings ban-uncommitted-transaction require-lock-timeout
require-statement-timeout require-concurrent-partition-detach require-enum-value-ordering
identifier-too-long prefer-repack ban-drop-view ban-drop-function ban-drop-type
ban-drop-sequence ban-drop-domain ban-drop-trigger
""".split()  # noqa: SIM905
ATLAS = ["destructive", "data-dependent", "backward-incompatible", "concurrent-index"]


@pytest.mark.parametrize("name", SQUAWK)
def test_every_squawk_rule_has_a_dbfleet_rule(name):
    assert find_rule(name) is not None, name


@pytest.mark.parametrize("kind", ATLAS)
def test_every_atlas_analyzer_class_is_covered(kind):
    assert any(kind in rule.aliases for rule in RULES)


def test_codes_are_unique_stable_and_every_rule_explains_itself():
    codes = [rule.code for rule in RULES]
    assert len(codes) == len(set(codes))
    for rule in RULES:
        assert re.fullmatch(r"DF\d{3}", rule.code)
        assert rule.explanation.endswith(".") and len(rule.explanation) > 40, rule.code
        assert rule.alternative, rule.code
        assert rule.family in {
            "syntax", "data loss", "locking", "transactions", "backwards compatibility",
            "robustness", "conventions", "hygiene", "style",
        }  # fmt: skip


def test_a_suppression_that_suppresses_nothing_has_a_rule():
    assert find_rule("unused-suppression") is find_rule("DF004")
    assert find_rule("unused-ignore") is find_rule("DF004")  # squawk's name for it


def test_rules_are_found_by_code_in_any_case_or_by_name():
    assert (
        find_rule("df201")
        is find_rule("create-index-without-concurrently")
        is find_rule("require-concurrent-index-creation")
    )
