-- dbfleet's own state store: runs, their per-target results, approvals and fleet ledgers.
-- Portable between SQLite and PostgreSQL: text keys (no sequences), ISO-8601 UTC timestamps.
CREATE TABLE runs (
    id VARCHAR(40) PRIMARY KEY,
    actor VARCHAR(200) NOT NULL,
    started_at VARCHAR(32) NOT NULL,
    finished_at VARCHAR(32),
    command VARCHAR(200) NOT NULL,
    environment VARCHAR(200),
    target VARCHAR(1000),
    plan_hash VARCHAR(100),
    result VARCHAR(20) NOT NULL,
    duration_ms BIGINT,
    error TEXT
);
CREATE INDEX runs_by_start ON runs (started_at);

CREATE TABLE run_targets (
    run_id VARCHAR(40) NOT NULL REFERENCES runs (id),
    target VARCHAR(1000) NOT NULL,
    result VARCHAR(20) NOT NULL,
    version_before VARCHAR(50),
    version_after VARCHAR(50),
    duration_ms BIGINT,
    error TEXT,
    PRIMARY KEY (run_id, target)
);

CREATE TABLE approvals (
    id VARCHAR(40) PRIMARY KEY,
    plan_hash VARCHAR(100) NOT NULL,
    environment VARCHAR(200) NOT NULL,
    approver VARCHAR(200) NOT NULL,
    approved_at VARCHAR(32) NOT NULL,
    comment TEXT
);
CREATE INDEX approvals_by_plan ON approvals (plan_hash);

CREATE TABLE rollouts (
    id VARCHAR(40) PRIMARY KEY,
    environment VARCHAR(200) NOT NULL,
    action VARCHAR(40) NOT NULL,
    target_version VARCHAR(50),
    actor VARCHAR(200) NOT NULL,
    started_at VARCHAR(32) NOT NULL,
    finished_at VARCHAR(32),
    status VARCHAR(20) NOT NULL,
    options TEXT
);
CREATE INDEX rollouts_by_environment ON rollouts (environment, started_at);

CREATE TABLE fleet_ledger (
    rollout_id VARCHAR(40) NOT NULL REFERENCES rollouts (id),
    tenant VARCHAR(400) NOT NULL,
    wave INTEGER NOT NULL,
    version_before VARCHAR(50),
    version_after VARCHAR(50),
    status VARCHAR(20) NOT NULL,
    attempts INTEGER NOT NULL,
    started_at VARCHAR(32),
    finished_at VARCHAR(32),
    duration_ms BIGINT,
    applied INTEGER,
    error TEXT,
    PRIMARY KEY (rollout_id, tenant)
);
CREATE INDEX fleet_ledger_by_tenant ON fleet_ledger (tenant, finished_at);
