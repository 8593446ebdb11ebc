-- cuakhau SQLite schema, version 1. Append-only: never edit a migration once it has shipped.
-- Instants are INTEGER microseconds since the Unix epoch, UTC (they sort and compare exactly).

CREATE TABLE provinces (
    id           TEXT PRIMARY KEY,
    country      TEXT NOT NULL CHECK (country IN ('VN', 'CN')),
    name_vi      TEXT NOT NULL,
    name_zh      TEXT NOT NULL,
    name_en      TEXT NOT NULL,
    former_names TEXT,
    source       TEXT NOT NULL
);

CREATE TABLE pairings (
    vn_province TEXT NOT NULL REFERENCES provinces (id),
    cn_province TEXT NOT NULL REFERENCES provinces (id),
    mechanism   TEXT NOT NULL,
    source      TEXT NOT NULL,
    PRIMARY KEY (vn_province, cn_province)
);

CREATE TABLE gate_pairs (
    id          TEXT PRIMARY KEY,
    ord         INTEGER NOT NULL,
    kind        TEXT NOT NULL,
    mode        TEXT NOT NULL,
    designation TEXT NOT NULL,
    sources     TEXT NOT NULL
);

CREATE TABLE gates (
    gate_pair_id    TEXT NOT NULL REFERENCES gate_pairs (id),
    side            TEXT NOT NULL CHECK (side IN ('VN', 'CN')),
    name_vi         TEXT NOT NULL,
    name_zh         TEXT,
    name_pinyin     TEXT,
    name_en         TEXT NOT NULL,
    province_id     TEXT NOT NULL REFERENCES provinces (id),
    former_province TEXT,
    zone            TEXT NOT NULL,
    lat             REAL,
    lon             REAL,
    coord_precision TEXT,
    coord_source    TEXT,
    open_min        INTEGER,
    close_min       INTEGER,
    hours_source    TEXT,
    PRIMARY KEY (gate_pair_id, side)
);

CREATE TABLE lanes (
    id                TEXT PRIMARY KEY,
    gate_pair_id      TEXT NOT NULL REFERENCES gate_pairs (id),
    side              TEXT NOT NULL CHECK (side IN ('VN', 'CN')),
    direction         TEXT NOT NULL,
    class             TEXT NOT NULL,
    name              TEXT NOT NULL,
    capacity_per_hour INTEGER NOT NULL CHECK (capacity_per_hour >= 0),
    active            BOOLEAN NOT NULL,
    basis             TEXT NOT NULL
);
CREATE INDEX lanes_by_pair ON lanes (gate_pair_id);

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    roles         TEXT NOT NULL,
    created_at_us INTEGER NOT NULL
);

CREATE TABLE sessions (
    token_hash    TEXT PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at_us INTEGER NOT NULL,
    expires_at_us INTEGER NOT NULL
);

CREATE TABLE audit_log (
    seq         INTEGER PRIMARY KEY,
    actor       TEXT NOT NULL,
    at_us       INTEGER NOT NULL,
    action      TEXT NOT NULL,
    entity      TEXT NOT NULL,
    before_json TEXT,
    after_json  TEXT,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);

-- The chain's head, updated in the same transaction as each entry. Writers serialise on it.
CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  INTEGER NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
