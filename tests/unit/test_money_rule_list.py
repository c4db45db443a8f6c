"""The money rules' list (`tests/money_rules.toml`) still points at the code: `make rules`
breaks each rule where its text stands, so a text that no longer occurs exactly once in its file
would leave that rule unchecked. `make rules` runs for many minutes outside CI; this is its
first step, in every test run."""

from __future__ import annotations

from tools.rule_check import load_rules


def test_every_rule_names_text_that_occurs_once_in_its_file_and_tests_that_catch_it() -> None:
    rules = load_rules()  # raises RuleListError naming the first rule that lost its text
    assert len(rules) > 100
    assert all(rule.tests for rule in rules)
