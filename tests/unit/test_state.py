"""reconcile(): what each migration's state is, given the files and the history table's rows."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from dbfleet.engines.base import HistoryRow
from dbfleet.migrate.files import Kind, MigrationFile, MigrationSet, Version, discover
from dbfleet.migrate.state import (
    BASELINE,
    DELETE,
    SQL,
    UNDO_SQL,
    State,
    TargetState,
    reconcile,
)

INSTALLED_ON = datetime(2026, 3, 14, 9, 26, 53)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tmp_path / "migrations"


def files(folder: Path, *names: str, **edited: str) -> MigrationSet:
    """Write one small script per name (text from `edited` by description) and discover them."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).write_text(f"-- {name}\nselect 1;\n", encoding="utf-8")
    for name, text in edited.items():
        (folder / name).write_text(text, encoding="utf-8")
    return discover([folder])


class History:
    """Hand-made history rows, ranked in the order they are added."""

    def __init__(self) -> None:
        self.rows: list[HistoryRow] = []

    def add(
        self,
        version: str | None,
        description: str,
        *,
        type: str = SQL,
        script: str = "",
        checksum: str | None = None,
        success: bool = True,
    ) -> History:
        self.rows.append(
            HistoryRow(
                installed_rank=len(self.rows) + 1,
                version=version,
                description=description,
                type=type,
                script=script,
                checksum=checksum,
                installed_by="deploy",
                installed_on=INSTALLED_ON,
                execution_time=7,
                success=success,
            )
        )
        return self

    def applied(self, migration: MigrationFile, *, success: bool = True) -> History:
        """A row as `migrate` writes it for `migration`."""
        return self.add(
            str(migration.version) if migration.version else None,
            migration.description,
            script=migration.script,
            checksum=migration.checksum,
            success=success,
        )


def applied_all(found: MigrationSet) -> History:
    history = History()
    for migration in (*found.versioned, *found.repeatable):
        history.applied(migration)
    return history


def states(state: TargetState) -> dict[str, State]:
    """Each entry's state, keyed by version (versioned), R:description or 'baseline'."""
    result = {}
    for e in state.entries:
        if e.kind is None:
            key = "baseline"
        elif e.kind is Kind.REPEATABLE:
            key = f"R:{e.description}"
        else:
            key = str(e.version)
        result[key] = e.state
    return result


def pending_names(state: TargetState, **options: object) -> list[str]:
    return [
        str(e.version) if e.version else f"R:{e.description}"
        for e in state.pending(**options)  # type: ignore[arg-type]
    ]


def v(text: str) -> Version:
    return Version.parse(text)


# --- versioned migrations ---------------------------------------------------------------------


def test_without_history_every_file_is_pending_and_there_is_no_head(folder: Path) -> None:
    found = files(folder, "V1__a.sql", "V2__b.sql", "R__views.sql")

    state = reconcile(found, [], history_exists=False)

    assert states(state) == {"1": State.PENDING, "2": State.PENDING, "R:views": State.PENDING}
    assert state.head is None
    assert state.history_exists is False
    assert state.problems() == []


def test_applied_migrations_with_unchanged_files_are_applied_and_set_the_head(
    folder: Path,
) -> None:
    found = files(folder, "V1__a.sql", "V2__b.sql")
    history = History().applied(found.versioned[0])

    state = reconcile(found, history.rows, history_exists=True)

    assert states(state) == {"1": State.APPLIED, "2": State.PENDING}
    assert state.head == v("1")
    assert pending_names(state) == ["2"]
    assert state.entries[0].row == history.rows[0]
    assert state.entries[1].file == found.versioned[1]


def test_a_history_version_written_as_1_0_matches_the_file_v1(folder: Path) -> None:
    found = files(folder, "V1__a.sql")
    history = History().add("1.0", "a", checksum=found.versioned[0].checksum)

    assert states(reconcile(found, history.rows, history_exists=True)) == {"1": State.APPLIED}


def test_a_file_edited_after_it_was_applied_is_changed_and_the_fix_is_restore_or_repair(
    folder: Path,
) -> None:
    found = files(folder, "V1__a.sql")
    history = applied_all(found)
    edited = files(folder, **{"V1__a.sql": "select 2;\n"})

    state = reconcile(edited, history.rows, history_exists=True)

    assert states(state) == {"1": State.CHANGED}
    assert state.head == v("1")
    [problem] = state.problems()
    assert "V1__a.sql was edited after it was applied" in problem
    assert "restore it" in problem
    assert "dbfleet repair" in problem


def test_a_file_renamed_after_it_was_applied_is_renamed_and_the_fix_is_rename_back_or_repair(
    folder: Path,
) -> None:
    found = files(folder, "V1__create_users.sql")
    history = History().add(
        "1",
        "create user table",
        script="V1__create_user_table.sql",
        checksum=found.versioned[0].checksum,
    )

    state = reconcile(found, history.rows, history_exists=True)

    assert states(state) == {"1": State.RENAMED}
    assert state.entries[0].description == "create users"
    [problem] = state.problems()
    assert "from 'create user table' to 'create users'" in problem
    assert "rename it back" in problem
    assert "dbfleet repair" in problem


def test_an_applied_migration_whose_file_is_gone_is_missing_and_the_fix_is_restore_or_repair(
    folder: Path,
) -> None:
    found = files(folder, "V1__a.sql")
    history = applied_all(found).add("2", "b", script="V2__b.sql", checksum="c0ffee")

    state = reconcile(found, history.rows, history_exists=True)

    assert states(state) == {"1": State.APPLIED, "2": State.MISSING}
    assert state.entries[1].script == "V2__b.sql"
    [problem] = state.problems()
    assert "V2__b.sql was applied on 2026-03-14 09:26:53 but its file is gone" in problem
    assert "restore it" in problem
    assert "`dbfleet repair` to mark it deleted" in problem


def test_a_failed_migration_is_failed_not_the_head_and_the_fix_is_manual_then_repair(
    folder: Path,
) -> None:
    found = files(folder, "V1__a.sql", "V2__b.sql")
    history = History().applied(found.versioned[0]).applied(found.versioned[1], success=False)

    state = reconcile(found, history.rows, history_exists=True)

    assert states(state) == {"1": State.APPLIED, "2": State.FAILED}
    assert state.head == v("1")
    assert pending_names(state) == []
    [problem] = state.problems()
    assert "V2__b.sql failed on 2026-03-14 09:26:53 and may be partly applied" in problem
    assert "fix the database by hand, then run `dbfleet repair`" in problem


def test_a_later_successful_row_wins_over_an_earlier_failure(folder: Path) -> None:
    found = files(folder, "V1__a.sql")
    history = History().applied(found.versioned[0], success=False).applied(found.versioned[0])

    state = reconcile(found, history.rows, history_exists=True)

    assert states(state) == {"1": State.APPLIED}
    assert state.problems() == []


def test_a_new_file_below_the_head_is_out_of_order_and_only_runs_when_allowed(
    folder: Path,
) -> None:
    found = files(folder, "V1__a.sql", "V3__c.sql")
    history = applied_all(found)
    found = files(folder, "V2__b.sql", "V4__d.sql")

    state = reconcile(found, history.rows, history_exists=True)

    assert states(state) == {
        "1": State.APPLIED,
        "2": State.OUT_OF_ORDER,
        "3": State.APPLIED,
        "4": State.PENDING,
    }
    assert pending_names(state) == ["4"]
    assert pending_names(state, out_of_order=True) == ["2", "4"]
    [problem] = state.problems()
    assert "V2__b.sql is pending but older than the latest applied version 3" in problem
    assert "give it a newer version" in problem
    assert "--out-of-order" in problem
    assert state.problems(out_of_order=True) == []


def test_out_of_order_names_the_latest_applied_version_even_when_its_file_is_gone(
    folder: Path,
) -> None:
    found = files(folder, "V1__a.sql", "V3__c.sql")
    history = applied_all(found)
    (folder / "V3__c.sql").unlink()
    found = files(folder, "V2__b.sql")

    state = reconcile(found, history.rows, history_exists=True)

    assert states(state) == {"1": State.APPLIED, "2": State.OUT_OF_ORDER, "3": State.MISSING}
    assert state.head == v("3")
    assert any("older than the latest applied version 3:" in p for p in state.problems())


def test_files_at_or_below_the_baseline_are_below_baseline_and_never_run(folder: Path) -> None:
    found = files(folder, "V1__a.sql", "V2__b.sql", "V3__c.sql")
    history = History().add("2", "<< baseline >>", type=BASELINE)

    state = reconcile(found, history.rows, history_exists=True)

    assert states(state) == {
        "baseline": State.BASELINE,
        "1": State.BELOW_BASELINE,
        "2": State.BELOW_BASELINE,
        "3": State.PENDING,
    }
    assert state.baseline == v("2")
    assert state.head == v("2")
    assert state.entries[0].description == "<< baseline >>"
    assert pending_names(state) == ["3"]
    assert state.problems() == []


def test_a_file_added_below_a_later_migration_after_a_baseline_is_out_of_order(
    folder: Path,
) -> None:
    found = files(folder, "V5__e.sql")
    history = History().add("2", "<< baseline >>", type=BASELINE).applied(found.versioned[0])
    found = files(folder, "V3__c.sql")

    state = reconcile(found, history.rows, history_exists=True)

    assert states(state)["3"] is State.OUT_OF_ORDER


def test_an_undone_migration_is_pending_again_and_no_longer_the_head(folder: Path) -> None:
    found = files(folder, "V1__a.sql", "V2__b.sql", "U2__b.sql")
    history = applied_all(found).add("2", "b", type=UNDO_SQL, script="U2__b.sql", checksum="u")

    state = reconcile(found, history.rows, history_exists=True)

    assert states(state) == {"1": State.APPLIED, "2": State.UNDONE}
    assert state.entries[1].needs_run
    assert state.head == v("1")
    assert pending_names(state) == ["2"]
    assert state.problems() == []


def test_an_undone_migration_whose_file_is_gone_counts_as_deleted(folder: Path) -> None:
    found = files(folder, "V1__a.sql", "V2__b.sql")
    history = applied_all(found).add("2", "b", type=UNDO_SQL, script="U2__b.sql")
    (folder / "V2__b.sql").unlink()

    state = reconcile(discover([folder]), history.rows, history_exists=True)

    assert states(state) == {"1": State.APPLIED, "2": State.DELETED}
    assert state.problems() == []


def test_a_missing_migration_marked_deleted_by_repair_is_no_longer_a_problem(
    folder: Path,
) -> None:
    found = files(folder, "V1__a.sql", "V2__b.sql")
    history = applied_all(found).add("2", "b", type=DELETE, script="V2__b.sql")
    (folder / "V2__b.sql").unlink()

    state = reconcile(discover([folder]), history.rows, history_exists=True)

    assert states(state) == {"1": State.APPLIED, "2": State.DELETED}
    assert not state.entries[1].needs_run
    assert state.head == v("1")
    assert state.problems() == []


def test_a_deleted_migration_whose_file_comes_back_is_pending_again(folder: Path) -> None:
    found = files(folder, "V1__a.sql", "V2__b.sql")
    history = applied_all(found).add("2", "b", type=DELETE, script="V2__b.sql")

    state = reconcile(found, history.rows, history_exists=True)

    assert states(state) == {"1": State.APPLIED, "2": State.PENDING}
    assert state.entries[1].row is None
    assert pending_names(state) == ["2"]


def test_a_deleted_migration_that_comes_back_below_the_head_is_out_of_order(folder: Path) -> None:
    found = files(folder, "V1__a.sql", "V2__b.sql", "V3__c.sql")
    history = applied_all(found).add("2", "b", type=DELETE, script="V2__b.sql")

    state = reconcile(found, history.rows, history_exists=True)

    assert states(state)["2"] is State.OUT_OF_ORDER


# --- repeatable migrations --------------------------------------------------------------------


def test_a_new_repeatable_is_pending(folder: Path) -> None:
    state = reconcile(files(folder, "R__views.sql"), [], history_exists=True)

    assert states(state) == {"R:views": State.PENDING}
    assert pending_names(state) == ["R:views"]


def test_an_applied_repeatable_is_applied_until_its_file_is_edited_then_outdated(
    folder: Path,
) -> None:
    found = files(folder, "V1__a.sql", "R__views.sql")
    history = applied_all(found)

    assert states(reconcile(found, history.rows, history_exists=True))["R:views"] is State.APPLIED

    edited = files(folder, **{"R__views.sql": "create view v2 as select 2;\n"})
    state = reconcile(edited, history.rows, history_exists=True)

    assert states(state)["R:views"] is State.OUTDATED
    assert pending_names(state) == ["R:views"]
    assert state.problems() == [], "an edited repeatable is expected, not a problem"


def test_the_latest_row_of_a_repeatable_decides_its_state(folder: Path) -> None:
    old = files(folder, **{"R__views.sql": "create view v as select 1;\n"})
    history = applied_all(old)
    new = files(folder, **{"R__views.sql": "create view v as select 2;\n"})
    history.applied(new.repeatable[0])

    assert states(reconcile(new, history.rows, history_exists=True)) == {"R:views": State.APPLIED}


def test_a_failed_repeatable_is_failed(folder: Path) -> None:
    found = files(folder, "R__views.sql")
    history = History().applied(found.repeatable[0], success=False)

    state = reconcile(found, history.rows, history_exists=True)

    assert states(state) == {"R:views": State.FAILED}
    assert "R__views.sql failed on" in state.problems()[0]


def test_a_repeatable_whose_file_is_gone_is_missing_until_repair_marks_it_deleted(
    folder: Path,
) -> None:
    history = History().add(None, "views", script="R__views.sql", checksum="c")
    empty = files(folder)

    state = reconcile(empty, history.rows, history_exists=True)

    assert states(state) == {"R:views": State.MISSING}
    assert "R__views.sql was applied on" in state.problems()[0]

    history.add(None, "views", type=DELETE, script="R__views.sql")
    state = reconcile(empty, history.rows, history_exists=True)

    assert states(state) == {"R:views": State.DELETED}
    assert state.problems() == []


# --- what migrate runs ------------------------------------------------------------------------


def test_pending_runs_versioned_in_order_then_repeatables(folder: Path) -> None:
    found = files(
        folder,
        "V10__j.sql",
        "V2__b.sql",
        "V1.5__x.sql",
        "R__b_views.sql",
        "R__a_funcs.sql",
    )

    state = reconcile(found, [], history_exists=False)

    assert pending_names(state) == ["1.5", "2", "10", "R:a funcs", "R:b views"]


def test_pending_up_to_a_target_stops_at_that_version_and_leaves_repeatables_for_later(
    folder: Path,
) -> None:
    found = files(folder, "V1__a.sql", "V2__b.sql", "V3__c.sql", "R__views.sql")

    state = reconcile(found, [], history_exists=False)

    assert pending_names(state, target=v("2")) == ["1", "2"]
    assert pending_names(state, target=v("2.5")) == ["1", "2"]
    assert pending_names(state, target=v("0")) == []


def test_pending_up_to_the_newest_version_or_beyond_includes_repeatables(folder: Path) -> None:
    found = files(folder, "V1__a.sql", "V2__b.sql", "R__views.sql")

    state = reconcile(found, [], history_exists=False)

    assert pending_names(state, target=v("2")) == ["1", "2", "R:views"]
    assert pending_names(state, target=v("99")) == ["1", "2", "R:views"]


def test_pending_with_a_target_and_out_of_order_includes_only_versions_up_to_it(
    folder: Path,
) -> None:
    found = files(folder, "V1__a.sql", "V4__d.sql")
    history = applied_all(found)
    found = files(folder, "V2__b.sql", "V3__c.sql", "V5__e.sql")

    state = reconcile(found, history.rows, history_exists=True)

    assert pending_names(state, out_of_order=True, target=v("2")) == ["2"]
    assert pending_names(state, out_of_order=True) == ["2", "3", "5"]


def test_entries_list_the_baseline_then_versions_then_repeatables(folder: Path) -> None:
    found = files(folder, "V3__c.sql", "R__z.sql", "R__a.sql")
    history = History().add("1", "<< baseline >>", type=BASELINE)

    state = reconcile(found, history.rows, history_exists=True)

    assert list(states(state)) == ["baseline", "3", "R:a", "R:z"]
