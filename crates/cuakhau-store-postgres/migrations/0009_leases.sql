-- cuakhau PostgreSQL schema, version 9: leases on background work, so that several server
-- processes on one database run each dispatch round, the webhook delivery and the checkpoint
-- export in one process at a time. A row per piece of work: who holds it and until when (the
-- holder renews it; another process takes it once it has run out). Append-only.
CREATE TABLE leases (
    name       TEXT PRIMARY KEY,  -- the work: `dispatch/huu-nghi`, `webhooks`, `checkpoints`
    holder     TEXT NOT NULL,     -- the process's instance name (`--instance`)
    expires_us BIGINT NOT NULL    -- microseconds UTC; 0 when given up
);
