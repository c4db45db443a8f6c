"""The pure parts of tools/mutation.py: the equivalents file, the score, choosing modules from a
git diff, the budgeted sample and what a changed test sends back. mutmut itself never runs here
(tests/e2e/test_mutation_run.py runs it once, for real)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.mutation import (
    Equivalent,
    Invalidation,
    ToolError,
    format_table,
    invalidation_for_test_changes,
    module_name_of_path,
    module_of_mutant,
    parse_equivalents,
    plan_run,
    scope_modules_touched,
    score_modules,
    should_reset,
    stale_equivalents,
)

MONEY = "voucher_app.domain.money"


def mutant(number: int, function: str = "x_format_amount", module: str = MONEY) -> str:
    return f"{module}.{function}__mutmut_{number}"


def equivalents(*names: str) -> dict[str, Equivalent]:
    return {name: Equivalent(name, "same behaviour", line) for line, name in enumerate(names, 1)}


# --- the equivalents file --------------------------------------------------------------------


def test_equivalents_file_reads_names_and_reasons_and_skips_comments_and_blank_lines() -> None:
    text = (
        "# header\n\n"
        f"{mutant(2)}  rounding half-even and half-up agree on whole fen\n"
        f"{MONEY}.xǁMoneyǁ__add____mutmut_1   the sum is commutative\n"
    )

    entries = parse_equivalents(text)

    assert list(entries) == [mutant(2), f"{MONEY}.xǁMoneyǁ__add____mutmut_1"]
    assert entries[mutant(2)].reason == "rounding half-even and half-up agree on whole fen"
    assert entries[mutant(2)].line == 3


def test_the_file_as_committed_parses() -> None:
    path = Path(__file__).resolve().parents[1] / "mutation_equivalents.txt"

    entries = parse_equivalents(path.read_text(encoding="utf-8"))
    assert "voucher_app.ledger.audit.x__audit__mutmut_27" in entries


@pytest.mark.parametrize(
    ("line", "complaint"),
    [
        (f"{mutant(2)} one space only", "two spaces"),
        (f"{mutant(2)}", "two spaces"),
        (f"{mutant(2)}  ", "two spaces"),
        ("voucher_app.domain.money.format_amount  not a mutant", "not a mutant name"),
        (f"{MONEY}.x_format_amount__mutmut_  no number", "not a mutant name"),
    ],
)
def test_equivalents_file_refuses_a_malformed_line_naming_it(line: str, complaint: str) -> None:
    with pytest.raises(ToolError, match=complaint) as refused:
        parse_equivalents(f"# header\n{line}\n")

    assert "line 2" in str(refused.value)


def test_equivalents_file_refuses_a_mutant_listed_twice() -> None:
    text = f"{mutant(2)}  one reason\n{mutant(2)}  another\n"

    with pytest.raises(ToolError, match=r"line 2: .* already listed on line 1"):
        parse_equivalents(text)


def test_mutant_names_map_to_their_module_for_functions_methods_and_packages() -> None:
    assert module_of_mutant(mutant(7)) == MONEY
    assert module_of_mutant(f"{MONEY}.xǁMoneyǁsplit__mutmut_3") == MONEY
    assert module_name_of_path(Path("voucher_app/domain/money.py")) == MONEY
    assert module_name_of_path(Path("voucher_app/domain/__init__.py")) == "voucher_app.domain"


# --- scoring ---------------------------------------------------------------------------------


def test_score_counts_timeouts_as_killed_no_tests_as_surviving_and_documented_as_equivalent() -> (
    None
):
    statuses = {
        MONEY: {
            mutant(1): "killed",
            mutant(2): "timeout",
            mutant(3): "survived",
            mutant(4): "survived",
            mutant(5): "no tests",
            mutant(6): "not checked",
        }
    }

    (row,) = score_modules(statuses, equivalents(mutant(3)))

    assert (row.killed, row.equivalent, row.surviving, row.not_run) == (
        2,
        1,
        [mutant(4), mutant(5)],
        1,
    )
    assert row.mutants == 5
    assert row.score == pytest.approx(3 / 5)


def test_a_module_whose_mutants_are_killed_or_equivalent_scores_100_percent() -> None:
    statuses = {MONEY: {mutant(1): "killed", mutant(2): "survived"}}

    (row,) = score_modules(statuses, equivalents(mutant(2)))

    assert row.score == 1.0
    assert row.surviving == []


def test_an_interrupted_verdict_counts_as_surviving_until_rerun() -> None:
    (row,) = score_modules({MONEY: {mutant(1): "suspicious"}}, {})

    assert row.surviving == [mutant(1)]


def test_table_has_a_row_per_module_and_a_total() -> None:
    statuses = {
        MONEY: {mutant(1): "killed", mutant(2): "survived"},
        "voucher_app.signing.note": {mutant(1, module="voucher_app.signing.note"): "killed"},
    }

    table = format_table(score_modules(statuses, {})).splitlines()

    assert table[0].split() == [
        *("module", "mutants", "killed", "equivalent", "surviving", "not", "run", "score")
    ]
    assert table[2].split() == [MONEY, "2", "1", "0", "1", "0", "50.0%"]
    assert table[3].split() == ["voucher_app.signing.note", "1", "1", "0", "0", "0", "100.0%"]
    assert table[5].split() == ["total", "3", "2", "0", "1", "0", "66.7%"]


def test_an_equivalent_that_a_test_now_kills_is_stale() -> None:
    statuses = {MONEY: {mutant(1): "killed", mutant(2): "survived"}}

    stale = stale_equivalents(equivalents(mutant(1), mutant(2)), statuses, [MONEY])

    assert [(item.entry.name, item.why) for item in stale] == [
        (mutant(1), "a test now kills it (killed)")
    ]


def test_an_equivalent_naming_no_mutant_is_stale_even_outside_the_run() -> None:
    statuses = {MONEY: {mutant(1): "survived"}}
    gone = mutant(99)
    elsewhere = mutant(1, module="voucher_app.services.claims")
    not_run = mutant(1, module="voucher_app.signing.note")

    stale = stale_equivalents(
        equivalents(gone, elsewhere, not_run), statuses, [MONEY, "voucher_app.signing.note"]
    )

    assert [(item.entry.name, item.why) for item in stale] == [
        (gone, "no such mutant"),
        (elsewhere, "voucher_app.services.claims is not in the mutation scope"),
    ]


# --- choosing modules from a git diff --------------------------------------------------------

SCOPE = [
    Path("voucher_app/domain/money.py"),
    Path("voucher_app/domain/entries.py"),
    Path("voucher_app/signing/note.py"),
]


def test_changed_scope_modules_are_chosen_and_other_files_ignored() -> None:
    changed = ["voucher_app/signing/note.py", "voucher_app/services/claims.py", "README.md"]

    assert scope_modules_touched(changed, SCOPE, {}) == [Path("voucher_app/signing/note.py")]


def test_a_changed_unit_test_chooses_the_scope_modules_it_imports() -> None:
    test_source = (
        "from voucher_app.domain.money import format_yuan\n"
        "from voucher_app.domain import entries\n"
        "import voucher_app.services.claims\n"
    )

    chosen = scope_modules_touched(
        ["tests/unit/test_x.py"], SCOPE, {"tests/unit/test_x.py": test_source}
    )

    assert chosen == [Path("voucher_app/domain/entries.py"), Path("voucher_app/domain/money.py")]


def test_a_change_outside_the_scope_chooses_nothing() -> None:
    assert scope_modules_touched(["docs/testing.md", "voucher_app/app.py"], SCOPE, {}) == []


# --- the budget ------------------------------------------------------------------------------

PENDING = [mutant(number) for number in range(1000)]


def test_everything_runs_when_the_estimate_fits_the_budget() -> None:
    plan = plan_run(
        PENDING, seconds_per_mutant=0.25, overhead_seconds=100, budget_seconds=400, seed="s"
    )

    assert not plan.sampled
    assert plan.mutants == tuple(sorted(PENDING))
    assert plan.estimated_seconds == 350


def test_over_budget_a_sample_fits_the_budget() -> None:
    plan = plan_run(
        PENDING, seconds_per_mutant=0.25, overhead_seconds=100, budget_seconds=200, seed="s"
    )

    assert plan.sampled
    assert len(plan.mutants) == 400
    assert set(plan.mutants) <= set(PENDING)
    assert plan.estimated_seconds <= 200
    assert plan.pending == 1000


def test_the_sample_depends_only_on_the_seed_and_the_mutants() -> None:
    def sample(pending: list[str], seed: str) -> tuple[str, ...]:
        return plan_run(
            pending, seconds_per_mutant=1, overhead_seconds=0, budget_seconds=50, seed=seed
        ).mutants

    assert sample(PENDING, "abc") == sample(list(reversed(PENDING)), "abc")
    assert sample(PENDING, "abc") != sample(PENDING, "abd")


def test_a_budget_smaller_than_the_overhead_still_runs_one_mutant() -> None:
    plan = plan_run(
        PENDING, seconds_per_mutant=0.25, overhead_seconds=100, budget_seconds=50, seed="s"
    )

    assert len(plan.mutants) == 1


def test_nothing_pending_plans_nothing() -> None:
    plan = plan_run([], seconds_per_mutant=0.25, overhead_seconds=100, budget_seconds=1, seed="s")

    assert (plan.mutants, plan.estimated_seconds, plan.sampled) == ((), 0.0, False)


# --- what a changed test sends back ----------------------------------------------------------

TESTS_BY_FUNCTION = {
    f"{MONEY}.x_format_amount": ["tests/unit/test_domain_money.py::test_format"],
    f"{MONEY}.x_parse_amount": ["tests/unit/test_domain_entries.py::test_parse"],
}
FINGERPRINT = {"tests/unit/test_domain_money.py": "a", "tests/conftest.py": "b"}


def test_first_run_and_unchanged_tests_send_nothing_back() -> None:
    assert not invalidation_for_test_changes({}, FINGERPRINT, TESTS_BY_FUNCTION).anything
    assert not invalidation_for_test_changes(FINGERPRINT, FINGERPRINT, TESTS_BY_FUNCTION).anything


def test_a_changed_test_file_sends_back_what_it_covers_and_every_survivor() -> None:
    changed = {**FINGERPRINT, "tests/unit/test_domain_money.py": "a2"}

    invalidation = invalidation_for_test_changes(FINGERPRINT, changed, TESTS_BY_FUNCTION)

    assert invalidation == Invalidation(
        functions=frozenset({f"{MONEY}.x_format_amount"}), survivors=True
    )
    assert should_reset(invalidation, mutant(1), "killed")
    assert should_reset(invalidation, mutant(1, "x_parse_amount"), "survived")
    assert should_reset(invalidation, mutant(1, "x_parse_amount"), "no tests")
    assert not should_reset(invalidation, mutant(1, "x_parse_amount"), "killed")


def test_a_changed_helper_sends_everything_back() -> None:
    changed = {**FINGERPRINT, "tests/conftest.py": "b2"}

    invalidation = invalidation_for_test_changes(FINGERPRINT, changed, TESTS_BY_FUNCTION)

    assert invalidation.everything
    assert should_reset(invalidation, mutant(1, "x_parse_amount"), "killed")


def test_unfinished_verdicts_are_always_rerun_and_verdicts_kept_otherwise() -> None:
    nothing = Invalidation()

    assert should_reset(nothing, mutant(1), "suspicious")
    assert should_reset(nothing, mutant(1), "check was interrupted by user")
    assert not should_reset(nothing, mutant(1), "survived")
    assert not should_reset(nothing, mutant(1), "killed")
