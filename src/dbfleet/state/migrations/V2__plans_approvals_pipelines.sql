-- Plans made (so that an approval names a plan that exists), the migrations each run applied
-- (so that promote_from can be checked), approvals bound to their row by a digest and
-- revocable, and pipeline runs with their steps.
CREATE TABLE plans (
    hash VARCHAR(100) PRIMARY KEY,
    environment VARCHAR(200) NOT NULL,
    planned_by VARCHAR(200) NOT NULL,
    planned_at VARCHAR(32) NOT NULL,
    target VARCHAR(1000),
    migrations TEXT NOT NULL
);

CREATE TABLE run_migrations (
    run_id VARCHAR(40) NOT NULL REFERENCES runs (id),
    position INTEGER NOT NULL,
    script VARCHAR(1000) NOT NULL,
    checksum VARCHAR(100) NOT NULL,
    PRIMARY KEY (run_id, position)
);
CREATE INDEX run_migrations_by_script ON run_migrations (script, checksum);

ALTER TABLE approvals ADD COLUMN digest VARCHAR(100);
ALTER TABLE approvals ADD COLUMN revoked_at VARCHAR(32);
ALTER TABLE approvals ADD COLUMN revoked_by VARCHAR(200);

CREATE TABLE pipeline_runs (
    id VARCHAR(40) PRIMARY KEY,
    actor VARCHAR(200) NOT NULL,
    started_at VARCHAR(32) NOT NULL,
    finished_at VARCHAR(32),
    status VARCHAR(20) NOT NULL,
    from_stage VARCHAR(200),
    to_stage VARCHAR(200),
    stopped_at VARCHAR(200),
    message TEXT
);
CREATE INDEX pipeline_runs_by_start ON pipeline_runs (started_at);

CREATE TABLE pipeline_steps (
    run_id VARCHAR(40) NOT NULL REFERENCES pipeline_runs (id),
    stage VARCHAR(200) NOT NULL,
    step VARCHAR(1000) NOT NULL,
    status VARCHAR(20) NOT NULL,
    started_at VARCHAR(32),
    finished_at VARCHAR(32),
    duration_ms BIGINT,
    exit_code INTEGER,
    log_tail TEXT,
    PRIMARY KEY (run_id, stage, step)
);
