"""The rule catalogue: stable codes, default severities, why each matters and what to do instead.

Codes never change meaning once released; retired rules keep their number. Names are the
squawk/Atlas names where one exists, so `--explain` finds a rule by either.
"""

from __future__ import annotations

from dataclasses import dataclass

from dbfleet.lint.findings import Severity

E, W, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    family: str
    severity: Severity
    explanation: str
    alternative: str
    aliases: tuple[str, ...] = ()  # squawk rule names and Atlas analyzer classes it covers
    enabled: bool = True


def _r(
    code: str,
    name: str,
    family: str,
    severity: Severity,
    explanation: str,
    alternative: str,
    aliases: tuple[str, ...] = (),
    enabled: bool = True,
) -> Rule:
    return Rule(
        code, name, family, severity, " ".join(explanation.split()), alternative, aliases, enabled
    )


RULES: tuple[Rule, ...] = (
    # --- the file itself ---------------------------------------------------------------------
    _r(
        "DF001",
        "syntax-error",
        "syntax",
        E,
        """The engine's own parser rejects this statement, so the migration fails when it runs
       and everything after it in the file never runs.""",
        "Fix the statement; the caret marks where the parser stopped.",
    ),
    _r(
        "DF002",
        "unreadable-file",
        "syntax",
        E,
        """The file is not UTF-8 text (binary content, another encoding, or NUL bytes). dbfleet
       refuses to run such a migration.""",
        "Save the file as UTF-8 text, or remove it from the migration folder.",
    ),
    _r(
        "DF003",
        "suppression-without-reason",
        "hygiene",
        E,
        """A `-- dbfleet:ignore CODE` comment must say why the finding is acceptable, so that a
       reviewer can judge it later.""",
        "Write the reason after the code: `-- dbfleet:ignore DF201 table has 10 rows`.",
    ),
    _r(
        "DF004",
        "unused-suppression",
        "hygiene",
        W,
        """A `-- dbfleet:ignore` comment suppresses nothing: the rule it names does not fire on
       the statement below it (or the code is unknown). Stale suppressions hide future
       problems.""",
        "Delete the comment, or move it to the line before the statement it is meant for.",
        ("unused-ignore",),
    ),
    # --- data loss -----------------------------------------------------------------------------
    _r(
        "DF101",
        "drop-table",
        "data loss",
        E,
        """Dropping a table deletes its rows for good, and every running application version
       that still reads it starts failing.""",
        "Stop using the table in the application first; drop it in a later release, after a "
        "backup, and suppress this finding with the reason.",
        ("ban-drop-table", "destructive"),
    ),
    _r(
        "DF102",
        "drop-column",
        "data loss",
        E,
        """Dropping a column deletes its data for good, and application versions still running
       that select or insert it fail (an ORM that lists columns breaks on the first query).""",
        "Remove every use of the column from the application and deploy that first; drop the "
        "column in a later migration.",
        ("ban-drop-column", "destructive"),
    ),
    _r(
        "DF103",
        "drop-schema",
        "data loss",
        E,
        "Dropping a schema deletes every object and row in it.",
        "Drop the objects one by one in reviewed migrations, or suppress with the reason.",
        ("destructive",),
    ),
    _r(
        "DF104",
        "drop-database",
        "data loss",
        E,
        "Dropping a database deletes everything in it; it has no place in a migration.",
        "Drop databases by hand, outside migrations.",
        ("ban-drop-database", "destructive"),
    ),
    _r(
        "DF105",
        "truncate",
        "data loss",
        W,
        "TRUNCATE deletes every row and takes an ACCESS EXCLUSIVE lock on the table.",
        "Delete the rows you mean with a WHERE clause, in batches on big tables.",
        ("destructive",),
    ),
    _r(
        "DF106",
        "truncate-cascade",
        "data loss",
        E,
        """TRUNCATE ... CASCADE also empties every table that references this one by a foreign
       key, and those may be tables nobody meant to touch.""",
        "Truncate the tables you mean by name, without CASCADE.",
        ("ban-truncate-cascade", "destructive"),
    ),
    _r(
        "DF107",
        "delete-without-where",
        "data loss",
        E,
        "DELETE without WHERE removes every row of the table.",
        "Add the WHERE clause you mean; use TRUNCATE deliberately if the table must be emptied.",
        ("data-dependent",),
    ),
    _r(
        "DF108",
        "update-without-where",
        "data loss",
        W,
        "UPDATE without WHERE overwrites a column in every row and locks every row while it runs.",
        "Add the WHERE clause you mean; backfill big tables in batches.",
        ("data-dependent",),
    ),
    _r(
        "DF109",
        "narrowing-column-type",
        "data loss",
        E,
        """The new column type holds less than the old one (a shorter varchar, a smaller
       integer): the change fails on existing values that do not fit, or silently truncates
       them.""",
        "Check the data first (SELECT max(length(col)) ...), clean it, then narrow the type; or "
        "keep the wider type and add a CHECK constraint NOT VALID.",
        ("data-dependent",),
    ),
    _r(
        "DF110",
        "unique-on-existing-data",
        "data loss",
        W,
        """A UNIQUE index or constraint (or a primary key) on an existing table depends on the
        data: it fails on the first pair of rows that repeat a value, maybe only in production,
        and a failed CREATE INDEX CONCURRENTLY leaves an invalid index behind.""",
        "Check for duplicates first (SELECT col, count(*) ... GROUP BY col HAVING count(*) > 1) "
        "and clean them in an earlier migration.",
        ("data-dependent",),
    ),
    # --- locking -------------------------------------------------------------------------------
    _r(
        "DF201",
        "create-index-without-concurrently",
        "locking",
        E,
        """CREATE INDEX on an existing table blocks every write (INSERT, UPDATE, DELETE) to the
       table until the whole index is built, which on a big table takes minutes.""",
        "CREATE INDEX CONCURRENTLY, in a migration of its own (it cannot run in a transaction); "
        "dbfleet runs it outside one.",
        ("require-concurrent-index-creation", "concurrent-index"),
    ),
    _r(
        "DF202",
        "drop-index-without-concurrently",
        "locking",
        W,
        "DROP INDEX takes an ACCESS EXCLUSIVE lock on the index's table, blocking reads and "
        "writes.",
        "DROP INDEX CONCURRENTLY, in a migration of its own.",
        ("require-concurrent-index-deletion", "concurrent-index"),
    ),
    _r(
        "DF203",
        "foreign-key-without-not-valid",
        "locking",
        W,
        """Adding a foreign key checks every existing row while holding a SHARE ROW EXCLUSIVE lock
       on both tables, blocking writes to them for the whole scan.""",
        "ADD CONSTRAINT ... FOREIGN KEY ... NOT VALID, then VALIDATE CONSTRAINT in a later "
        "migration (validation does not block writes).",
        ("adding-foreign-key-constraint", "constraint-missing-not-valid"),
    ),
    _r(
        "DF204",
        "constraint-without-not-valid",
        "locking",
        W,
        """Adding a CHECK constraint scans the whole table under an ACCESS EXCLUSIVE lock,
       blocking reads and writes until the scan ends.""",
        "ADD CONSTRAINT ... CHECK (...) NOT VALID, then VALIDATE CONSTRAINT in a later migration.",
        ("constraint-missing-not-valid",),
    ),
    _r(
        "DF205",
        "set-not-null",
        "locking",
        W,
        """SET NOT NULL scans the whole table under an ACCESS EXCLUSIVE lock. Application versions
       still running that write NULL into the column start failing.""",
        "Add CHECK (col IS NOT NULL) NOT VALID, VALIDATE it in a later migration, then SET NOT "
        "NULL (PostgreSQL 12+ uses the validated check and skips the scan) and drop the check.",
        ("adding-not-nullable-field",),
    ),
    _r(
        "DF206",
        "changing-column-type",
        "locking",
        W,
        """Changing a column's type rewrites the table and its indexes under an ACCESS EXCLUSIVE
       lock (except a few binary-compatible changes such as widening a varchar), and running
       application versions may not handle the new type.""",
        "Add a new column with the new type, backfill it in batches, switch the application, "
        "then drop the old column.",
        ("changing-column-type", "data-dependent"),
    ),
    _r(
        "DF207",
        "add-column-with-volatile-default",
        "locking",
        W,
        """A column added with a volatile default (random(), gen_random_uuid(), clock_timestamp(),
       nextval) makes PostgreSQL rewrite the whole table under an ACCESS EXCLUSIVE lock.""",
        "Add the column without a default (or with a constant one), set the default for new "
        "rows, then backfill existing rows in batches.",
        ("adding-field-with-default",),
    ),
    _r(
        "DF208",
        "unique-constraint",
        "locking",
        W,
        """ADD CONSTRAINT ... UNIQUE (or PRIMARY KEY) builds its index under an ACCESS EXCLUSIVE
       lock, blocking reads and writes while the index is built.""",
        "CREATE UNIQUE INDEX CONCURRENTLY first, then ADD CONSTRAINT ... UNIQUE USING INDEX.",
        ("disallowed-unique-constraint", "adding-serial-primary-key-field"),
    ),
    _r(
        "DF209",
        "vacuum-full-or-cluster",
        "locking",
        W,
        "VACUUM FULL and CLUSTER rewrite the table under an ACCESS EXCLUSIVE lock.",
        "Use pg_repack (or plain VACUUM) outside migrations.",
        ("prefer-repack",),
    ),
    _r(
        "DF210",
        "reindex-without-concurrently",
        "locking",
        W,
        "REINDEX without CONCURRENTLY blocks writes to the table while the index is rebuilt.",
        "REINDEX ... CONCURRENTLY (PostgreSQL 12+), in a migration of its own.",
        ("concurrent-index",),
    ),
    _r(
        "DF211",
        "lock-table",
        "locking",
        W,
        "An explicit LOCK TABLE blocks other sessions for the rest of the transaction.",
        "Let each statement take the lock it needs; keep migrations short.",
        (),
    ),
    _r(
        "DF212",
        "add-required-column",
        "locking",
        E,
        """Adding a NOT NULL column without a default to an existing table fails as soon as the
       table has a row, and running application versions that do not set it fail too.""",
        "Add the column with a DEFAULT, or add it nullable, backfill, then SET NOT NULL safely.",
        ("adding-required-field", "data-dependent"),
    ),
    _r(
        "DF213",
        "domain-with-constraint",
        "locking",
        W,
        """A CHECK constraint on a domain is checked against every column of that type: ALTER
       DOMAIN ... ADD CONSTRAINT scans all of them under locks, and constraints on domains
       cannot be changed safely later.""",
        "Put the CHECK constraint on the table columns (NOT VALID, then VALIDATE).",
        ("ban-create-domain-with-constraint", "ban-alter-domain-with-add-constraint"),
    ),
    _r(
        "DF214",
        "add-stored-generated-column",
        "locking",
        W,
        "Adding a STORED generated column rewrites the whole table under an ACCESS EXCLUSIVE lock.",
        "Add a plain column, fill it with a trigger and a batched backfill.",
        (),
    ),
    _r(
        "DF215",
        "detach-partition-without-concurrently",
        "locking",
        W,
        """DETACH PARTITION without CONCURRENTLY takes an ACCESS EXCLUSIVE lock on the
        partitioned table, blocking reads and writes of every partition.""",
        "ALTER TABLE ... DETACH PARTITION ... CONCURRENTLY (PostgreSQL 14+), in a migration of "
        "its own.",
        ("require-concurrent-partition-detach",),
    ),
    # --- transactions --------------------------------------------------------------------------
    _r(
        "DF301",
        "concurrently-in-transaction",
        "transactions",
        E,
        "CREATE/DROP INDEX CONCURRENTLY cannot run inside a transaction block: the migration "
        "fails.",
        "Remove the BEGIN/COMMIT around it; dbfleet runs CONCURRENTLY statements outside a "
        "transaction by itself.",
        ("ban-concurrent-index-creation-in-transaction",),
    ),
    _r(
        "DF302",
        "mixed-transactional-statements",
        "transactions",
        W,
        """The file mixes statements that must run outside a transaction (CONCURRENTLY, VACUUM,
       ...) with ordinary ones, so it cannot run atomically: a failure leaves it half
       applied.""",
        "Move the non-transactional statement into a migration file of its own.",
        (),
    ),
    _r(
        "DF303",
        "explicit-transaction",
        "transactions",
        W,
        """dbfleet already runs each migration in a transaction; a BEGIN/COMMIT inside it nests
       (a warning on PostgreSQL) or commits early, and the history row no longer commits with
       the change.""",
        "Delete BEGIN/COMMIT/ROLLBACK from the migration.",
        ("transaction-nesting",),
    ),
    _r(
        "DF304",
        "uncommitted-transaction",
        "transactions",
        E,
        "The file opens a transaction (BEGIN) that it never commits.",
        "Add the COMMIT, or better delete the BEGIN (dbfleet wraps migrations itself).",
        ("ban-uncommitted-transaction",),
    ),
    # --- backwards compatibility ---------------------------------------------------------------
    _r(
        "DF401",
        "rename-table",
        "backwards compatibility",
        W,
        "Renaming a table breaks every running application version that still uses the old name.",
        "Create the new table (or a view with the new name), move the application, drop the old "
        "one later.",
        ("renaming-table", "backward-incompatible"),
    ),
    _r(
        "DF402",
        "rename-column",
        "backwards compatibility",
        W,
        "Renaming a column breaks every running application version that still uses the old name.",
        "Add the new column, write both, backfill, switch reads, drop the old column later.",
        ("renaming-column", "backward-incompatible"),
    ),
    _r(
        "DF403",
        "drop-not-null",
        "backwards compatibility",
        W,
        """Dropping NOT NULL lets NULL into a column that running application versions assume is
       never NULL.""",
        "Make sure every reader handles NULL before relaxing the constraint.",
        ("ban-drop-not-null", "backward-incompatible"),
    ),
    _r(
        "DF405",
        "drop-object",
        "backwards compatibility",
        W,
        """Dropping a view, function, type, sequence, trigger or other object breaks running
        application versions that still use it.""",
        "Stop using the object in the application first; drop it in a later release.",
        (
            "ban-drop-view",
            "ban-drop-function",
            "ban-drop-type",
            "ban-drop-sequence",
            "ban-drop-domain",
            "ban-drop-trigger",
            "ban-drop-extension",
            "backward-incompatible",
        ),
        enabled=False,
    ),
    _r(
        "DF406",
        "drop-breaks-view",
        "backwards compatibility",
        W,
        """The table or column dropped here is used by a view created in an earlier migration.
        SQLite and MariaDB let the drop happen and leave the view behind: it fails on every
        query from then on.""",
        "Drop or redefine the view in the same migration.",
        ("backward-incompatible",),
    ),
    _r(
        "DF404",
        "drop-used-by-view",
        "backwards compatibility",
        E,
        "The table or column dropped here is used by a view created in an earlier migration (a "
        "view on `*` uses every column): PostgreSQL refuses the drop, or CASCADE drops the view "
        "too.",
        "Drop or redefine the view first, in the same migration.",
        ("backward-incompatible",),
    ),
    # --- robustness ----------------------------------------------------------------------------
    _r(
        "DF501",
        "missing-lock-timeout",
        "robustness",
        W,
        """A statement that takes a strong lock waits behind any long query on the table, and
       while it waits every other query queues behind it: one slow report stops the
       application. A lock_timeout makes the migration fail fast instead, to be retried.""",
        "SET lock_timeout = '2s'; (and statement_timeout) at the top of the migration.",
        ("require-timeout-settings", "require-lock-timeout"),
    ),
    _r(
        "DF505",
        "missing-statement-timeout",
        "robustness",
        W,
        """Without a statement_timeout a locking statement that runs long (a rewrite, a scan)
        holds its lock for as long as it takes, and the application waits with it.""",
        "SET statement_timeout = '5s'; at the top of the migration (CONCURRENTLY statements "
        "may need a larger value).",
        ("require-statement-timeout", "require-timeout-settings"),
        enabled=False,
    ),
    _r(
        "DF502",
        "if-not-exists-hides-drift",
        "robustness",
        INFO,
        """CREATE ... IF NOT EXISTS silently skips an object that exists with another
       definition, so a drifted database looks migrated.""",
        "Create the object unconditionally; let `dbfleet drift` find drift.",
        (),
        enabled=False,
    ),
    _r(
        "DF503",
        "non-robust-statement",
        "robustness",
        W,
        """This statement runs outside a transaction (CONCURRENTLY): if the migration fails
       after it, a retry fails on it again unless it is written to be re-run.""",
        "Write CREATE INDEX CONCURRENTLY IF NOT EXISTS / DROP INDEX CONCURRENTLY IF EXISTS.",
        ("prefer-robust-stmts",),
    ),
    _r(
        "DF504",
        "non-idempotent-repeatable",
        "robustness",
        W,
        "A repeatable migration (R__) runs again whenever it changes, so each statement must be "
        "re-runnable; this one fails the second time.",
        "Use CREATE OR REPLACE, or DROP ... IF EXISTS before CREATE.",
        (),
    ),
    # --- conventions ---------------------------------------------------------------------------
    _r(
        "DF601",
        "table-without-primary-key",
        "conventions",
        W,
        "A table without a primary key cannot be replicated logically, and rows cannot be "
        "updated or deleted one at a time reliably.",
        "Add a PRIMARY KEY (a bigint identity column if nothing else identifies a row).",
        (),
    ),
    _r(
        "DF602",
        "prefer-bigint-over-int",
        "conventions",
        W,
        "32-bit integer ids run out at 2.1 billion; changing the type later rewrites the table.",
        "Use bigint (bigint GENERATED ... AS IDENTITY for ids).",
        ("prefer-bigint-over-int", "prefer-big-int"),
    ),
    _r(
        "DF603",
        "prefer-bigint-over-smallint",
        "conventions",
        W,
        "16-bit integers run out at 32,767; changing the type later rewrites the table.",
        "Use bigint (or integer for values that are truly small).",
        ("prefer-bigint-over-smallint", "prefer-big-int"),
    ),
    _r(
        "DF604",
        "prefer-timestamptz",
        "conventions",
        W,
        "timestamp without time zone stores wall-clock times whose zone is lost; comparisons "
        "across zones and DST changes go wrong.",
        "Use timestamptz.",
        ("prefer-timestamptz", "prefer-timestamp-tz"),
    ),
    _r(
        "DF605",
        "prefer-text-field",
        "conventions",
        W,
        "Changing the length of a varchar(n) later needs an ACCESS EXCLUSIVE lock (and a rewrite "
        "when it shrinks); text with a CHECK constraint can be changed without one.",
        "Use text with CHECK (length(col) <= n).",
        ("prefer-text-field",),
    ),
    _r(
        "DF606",
        "prefer-identity",
        "conventions",
        W,
        "serial columns own a separate sequence with its own permissions and dump quirks.",
        "Use bigint GENERATED BY DEFAULT AS IDENTITY.",
        ("prefer-identity", "adding-serial-primary-key-field"),
    ),
    _r(
        "DF607",
        "ban-char-field",
        "conventions",
        W,
        "char(n) pads values with spaces and is never faster than text in PostgreSQL.",
        "Use text (with a CHECK constraint on the length if needed).",
        ("ban-char-field",),
    ),
    _r(
        "DF608",
        "naming-convention",
        "conventions",
        W,
        "The object's name does not match the project's naming pattern ([lint.naming]).",
        "Rename the object to match the pattern.",
        (),
    ),
    # --- hygiene -------------------------------------------------------------------------------
    _r(
        "DF609",
        "identifier-too-long",
        "conventions",
        W,
        """The name is longer than the engine keeps: PostgreSQL silently truncates it to 63
        bytes (two long names can become the same), MariaDB refuses it.""",
        "Use a shorter name.",
        ("identifier-too-long",),
    ),
    _r(
        "DF610",
        "enum-value-without-position",
        "conventions",
        INFO,
        "ALTER TYPE ... ADD VALUE without BEFORE or AFTER appends the value at the end, which "
        "changes how the enum sorts only by accident of history.",
        "Say where the value goes: ADD VALUE 'x' AFTER 'y'.",
        ("require-enum-value-ordering",),
        enabled=False,
    ),
    _r(
        "DF701",
        "missing-undo",
        "hygiene",
        INFO,
        "The versioned migration has no undo script (U<version>__*.sql), so `dbfleet undo` "
        "cannot take it back.",
        "Write the undo script, or leave this rule disabled if you roll forward only.",
        (),
        enabled=False,
    ),
    _r(
        "DF702",
        "version-lower-than-latest",
        "hygiene",
        E,
        """This new migration's version is lower than one already applied or merged, so
       databases that are up to date skip it (or refuse to migrate without out_of_order).""",
        "Rename the file to a version above the latest one.",
        (),
    ),
    _r(
        "DF703",
        "applied-migration-edited",
        "hygiene",
        E,
        """This migration was already applied (or merged) and has been edited since: databases
       that ran the old text will never run the new one, and validation fails on them.""",
        "Restore the original text and put the change in a new migration.",
        (),
    ),
    _r(
        "DF704",
        "duplicate-version",
        "hygiene",
        E,
        "Two migrations have the same version (often two branches that picked the same number).",
        "Give one of them the next free version.",
        (),
    ),
    _r(
        "DF705",
        "misnamed-migration",
        "hygiene",
        W,
        "A .sql file in a migration folder whose name is not a migration name is never run.",
        "Rename it to V<version>__<description>.sql (or U..., R__...), or move it elsewhere.",
        (),
    ),
    # --- style (optional) ----------------------------------------------------------------------
    _r(
        "DF801",
        "sqlfluff",
        "style",
        W,
        """A sqlfluff rule, with the project's own .sqlfluff settings ([lint] sqlfluff = true).
        The message starts with sqlfluff's rule code; `sqlfluff rules` explains it.""",
        "Follow the style rule, or change it in .sqlfluff (sqlfluff's `-- noqa` comments work).",
    ),
)

BY_CODE: dict[str, Rule] = {r.code: r for r in RULES}
_BY_NAME: dict[str, Rule] = {}
for _rule in RULES:
    _BY_NAME.setdefault(_rule.name, _rule)
    for _alias in _rule.aliases:
        _BY_NAME.setdefault(_alias, _rule)


def find_rule(key: str) -> Rule | None:
    """A rule by code (DF201), name or squawk alias (require-concurrent-index-creation)."""
    key = key.strip()
    return BY_CODE.get(key.upper()) or _BY_NAME.get(key.lower())
