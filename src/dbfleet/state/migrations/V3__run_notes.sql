-- Why a run was made, when the policy asks (an undo on an environment that runs approved plans
-- only gives its reason).
ALTER TABLE runs ADD COLUMN note TEXT;
