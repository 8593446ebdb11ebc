//! The `cuakhau` binary end to end: import/export, all-or-nothing imports, audit verification,
//! users, configuration precedence and the server's start and graceful stop.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_cuakhau"));
    c.env_remove("CUAKHAU_DATABASE").env_remove("CUAKHAU_CONFIG").env_remove("CUAKHAU_LISTEN");
    c.env_remove("CUAKHAU_AUDIT_KEY").env_remove("CUAKHAU_CHECKPOINTS");
    c
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().unwrap()
}

fn ok(args: &[&str]) -> String {
    let o = run(args);
    assert!(o.status.success(), "{args:?} failed: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).unwrap()
}

fn db(dir: &Path) -> String {
    format!("sqlite:{}", dir.join("c.db").display())
}

/// A database with the bundled reference data, loaded the way `serve` loads it.
fn seeded(dir: &Path) -> String {
    let url = db(dir);
    for t in ["provinces", "pairings", "gate_pairs", "lanes"] {
        let f = dir.join(format!("{t}.csv"));
        std::fs::copy(Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../../data/{t}.csv")), &f).unwrap();
        ok(&["import", f.to_str().unwrap(), "--database", &url]);
    }
    url
}

#[test]
fn a_malformed_import_names_its_line_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let url = seeded(dir.path());
    let before = ok(&["export", "--table", "lanes", "--database", &url]);
    let audit_before = ok(&["audit", "verify", "--database", &url]);
    // Line 2 is fine (a changed capacity); line 3 is broken. Neither may be written.
    let mut lines: Vec<String> = before.lines().map(String::from).collect();
    let set_capacity = |line: &str, v: &str| {
        let mut f: Vec<&str> = line.split(',').collect();
        f[6] = v;
        f.join(",")
    };
    lines[1] = set_capacity(&lines[1], "18");
    lines[2] = set_capacity(&lines[2], "lots");
    let bad = dir.path().join("lanes.csv");
    std::fs::write(&bad, lines.join("\n")).unwrap();
    let o = bin().args(["import", bad.to_str().unwrap(), "--database", &url]).env("LANG", "en_US.UTF-8").output().unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("Line 3") && err.contains("capacity_per_hour") && err.contains("Nothing was written"), "{err}");
    let o = bin().args(["import", bad.to_str().unwrap(), "--database", &url]).env("LANG", "vi_VN.UTF-8").output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("Dòng 3") && err.contains("phải là một số") && err.contains("Không có dòng nào được ghi"), "{err}");
    assert_eq!(ok(&["export", "--table", "lanes", "--database", &url]), before);
    assert_eq!(ok(&["audit", "verify", "--database", &url]), audit_before);

    // A lane that points at a gate pair nobody knows: refused as a whole, too.
    let orphan = format!("{}\nx-1,nowhere,VN,export,general,X,3,true,test\n", before.trim_end());
    std::fs::write(&bad, orphan).unwrap();
    let o = run(&["import", bad.to_str().unwrap(), "--database", &url]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("gate_pair"), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(ok(&["export", "--table", "lanes", "--database", &url]), before);
}

#[test]
fn importing_twice_changes_nothing_and_json_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let url = seeded(dir.path());
    let again = ok(&["import", dir.path().join("gate_pairs.csv").to_str().unwrap(), "--database", &url]);
    assert!(again.contains("0 inserted, 0 updated, 36 unchanged"), "{again}");
    let json = dir.path().join("gp.json");
    ok(&["export", "--table", "gate_pairs", "--format", "json", "--out", json.to_str().unwrap(), "--database", &url]);
    let r = ok(&["import", json.to_str().unwrap(), "--table", "gate-pairs", "--database", &url]);
    assert!(r.contains("36 unchanged"), "{r}");
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(v[0]["id"], "a-pa-chai");
}

#[test]
fn audit_verify_fails_naming_the_entry_after_a_hand_edit() {
    let dir = tempfile::tempdir().unwrap();
    let url = seeded(dir.path());
    let out = ok(&["audit", "verify", "--database", &url]);
    assert!(out.contains("intact: 70 entries"), "{out}");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
        sqlx::query("UPDATE audit_log SET actor = 'mallory' WHERE seq = 60").execute(&pool).await.unwrap();
        pool.close().await;
    });
    let o = run(&["audit", "verify", "--database", &url]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("audit entry 60") && err.contains("altered"), "{err}");
}

/// A key file from a fixed seed (tests never draw from the operating system).
fn key_file(dir: &Path, name: &str, kind: cuakhau_core::transparency::KeyKind, seed: u8) -> String {
    let k = cuakhau_core::transparency::NoteSigner::from_seed(name, kind, [seed; 32]).unwrap();
    let path = dir.join(format!("{seed}.key"));
    std::fs::write(&path, k.encode()).unwrap();
    std::fs::write(dir.join(format!("{seed}.key.pub")), k.verifier().encode()).unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn signed_checkpoints_catch_a_resealed_edit_that_the_chain_misses() {
    use cuakhau_core::transparency::KeyKind;
    let dir = tempfile::tempdir().unwrap();
    let url = seeded(dir.path());
    let key = key_file(dir.path(), "test.cuakhau.example/audit", KeyKind::Note, 7);
    let cps = dir.path().join("checkpoints");
    let cps = cps.to_str().unwrap();
    let out = ok(&["audit", "checkpoint", "--database", &url, "--audit-key", &key, "--out", cps]);
    assert!(out.contains("checkpoint of 70 entries"), "{out}");
    assert!(ok(&["audit", "checkpoint", "--database", &url, "--audit-key", &key, "--checkpoints", cps]).contains("no new entries"));
    let note = std::fs::read_to_string(dir.path().join("checkpoints/checkpoint-000000000070")).unwrap();
    assert!(note.starts_with("test.cuakhau.example/audit\n70\n") && note.contains("\n\n\u{2014} test.cuakhau.example/audit "), "{note}");
    let out = ok(&["audit", "verify", "--database", &url, "--log-key", &format!("{key}.pub"), "--checkpoints", cps]);
    assert!(out.contains("intact: 70 entries") && out.contains("1 signed checkpoints"), "{out}");

    // A witness cosigns it, then refuses to go back to a smaller one.
    let wkey = key_file(dir.path(), "witness.example", KeyKind::Cosignature, 9);
    let state = dir.path().join("witness-state");
    let cosign = |cp: &str| {
        run(&["audit", "cosign", cp, "--database", &url, "--witness-key", &wkey, "--log-key", &key, "--state", state.to_str().unwrap()])
    };
    let cp70 = dir.path().join("checkpoints/checkpoint-000000000070");
    let o = cosign(cp70.to_str().unwrap());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("\u{2014} witness.example "));
    let mut child = bin()
        .args(["admin", "create-user", "--database", &url, "--username", "u1", "--display-name", "U", "--role", "admin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"a long enough password 1\n").unwrap();
    assert!(child.wait().unwrap().success());
    let out = ok(&["audit", "checkpoint", "--database", &url, "--audit-key", &key, "--checkpoints", cps]);
    let n: u64 = out.split("checkpoint of ").nth(1).unwrap().split(' ').next().unwrap().parse().unwrap();
    let newer = dir.path().join(format!("checkpoints/checkpoint-{n:012}"));
    assert!(cosign(newer.to_str().unwrap()).status.success(), "a consistent, larger checkpoint is cosigned");
    let o = cosign(cp70.to_str().unwrap());
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("smaller"), "{}", String::from_utf8_lossy(&o.stderr));

    // Edit entry 60 and re-seal the chain after it: the hash chain alone passes, the checkpoint does not.
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
        sqlx::query("UPDATE audit_log SET actor = 'mallory' WHERE seq = 60").execute(&pool).await.unwrap();
        type Row = (i64, String, i64, String, String, Option<String>, Option<String>);
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT seq, actor, at_us, action, entity, before_json, after_json FROM audit_log WHERE stream = '' ORDER BY seq",
        )
        .fetch_all(&pool)
        .await
        .unwrap();
        let chain = cuakhau_core::audit::seal_chain(rows.into_iter().map(|(seq, actor, at, action, entity, before, after)| {
            (seq, cuakhau_core::AuditRecord { actor, at: cuakhau_core::Timestamp(at), action, entity, before, after })
        }));
        for e in &chain {
            let q = sqlx::query("UPDATE audit_log SET prev_hash = $1, hash = $2 WHERE seq = $3");
            q.bind(&e.prev_hash).bind(&e.hash).bind(e.seq).execute(&pool).await.unwrap();
        }
        let head = &chain.last().unwrap().hash;
        sqlx::query("UPDATE audit_heads SET hash = $1 WHERE stream = ''").bind(head).execute(&pool).await.unwrap();
        pool.close().await;
    });
    assert!(ok(&["audit", "verify", "--database", &url]).contains("intact"), "without checkpoints the rewrite passes");
    let o = run(&["audit", "verify", "--database", &url, "--audit-key", &key, "--checkpoints", cps]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("audit entry 60") && err.contains("checkpointed"), "{err}");
    // The node refuses to sign the rewritten log.
    let o = run(&["audit", "checkpoint", "--database", &url, "--audit-key", &key, "--checkpoints", cps]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("rewritten"));
}

#[test]
fn keygen_writes_a_key_and_its_verifier_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("node.key");
    let p = path.to_str().unwrap();
    ok(&["audit", "keygen", p, "--name", "cuakhau.example/audit"]);
    let k = cuakhau_core::transparency::NoteSigner::parse(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let v = cuakhau_core::transparency::NoteVerifier::parse(&std::fs::read_to_string(dir.path().join("node.key.pub")).unwrap()).unwrap();
    assert_eq!(k.verifier(), v);
    assert!(!run(&["audit", "keygen", p]).status.success(), "an existing key is never overwritten");
}

#[test]
fn users_are_created_with_a_password_from_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let url = db(dir.path());
    let mut child = bin()
        .args([
            "admin",
            "create-user",
            "--username",
            "ops",
            "--display-name",
            "Trần Văn Ops",
            "--role",
            "admin",
            "--role",
            "officer:CN:customs:*",
            "--database",
            &url,
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"a very long password\n").unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(!stdout.contains("a very long password"), "the password must never be printed");
    assert!(ok(&["admin", "list-users", "--database", &url]).contains("ops\tTrần Văn Ops\tadmin officer:CN:customs:*"));

    let mut child = bin()
        .args(["admin", "create-user", "--username", "x", "--display-name", "X", "--role", "officer:VN:police:*", "--database", &url])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"a very long password\n").unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("roles"), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn flags_beat_environment_which_beats_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let file_db = format!("sqlite:{}", dir.path().join("file.db").display());
    let env_db = format!("sqlite:{}", dir.path().join("env.db").display());
    let flag_db = format!("sqlite:{}", dir.path().join("flag.db").display());
    let cfg = dir.path().join("cuakhau.toml");
    std::fs::write(&cfg, format!("database = '{file_db}'\n")).unwrap();
    let migrate = |env: Option<&str>, flag: Option<&str>| {
        let mut c = bin();
        c.args(["migrate", "--config", cfg.to_str().unwrap()]);
        if let Some(e) = env {
            c.env("CUAKHAU_DATABASE", e);
        }
        if let Some(f) = flag {
            c.args(["--database", f]);
        }
        String::from_utf8(c.output().unwrap().stdout).unwrap()
    };
    assert!(migrate(None, None).contains(&file_db));
    assert!(migrate(Some(&env_db), None).contains(&env_db));
    assert!(migrate(Some(&env_db), Some(&flag_db)).contains(&flag_db));
    let o = run(&["migrate", "--database", "mysql://root@localhost/x"]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("unsupported database URL"));
    let o = run(&["migrate", "--database", "postgres://app:s3cret@127.0.0.1:1/none"]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!err.contains("s3cret") && err.contains("***"), "{err}");
}

#[test]
fn serve_loads_reference_data_on_first_start_and_stops_gracefully() {
    let dir = tempfile::tempdir().unwrap();
    let url = db(dir.path());
    let mut child =
        bin().args(["serve", "--listen", "127.0.0.1:0", "--database", &url]).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    assert!(line.contains("36 gate pairs"), "{line}");
    line.clear();
    out.read_line(&mut line).unwrap();
    let addr = line.split("http://").nth(1).unwrap().split('/').next().unwrap().to_string();
    let mut s = std::net::TcpStream::connect(&addr).unwrap();
    s.write_all(format!("GET /api/v1/gate-pairs/huu-nghi HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes()).unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    assert!(resp.starts_with("HTTP/1.1 200") && resp.contains("友谊关"), "{resp}");
    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "{status}");
    let mut rest = String::new();
    out.read_to_string(&mut rest).unwrap();
    assert!(rest.contains("cuakhau stopped."), "{rest}");
}

#[test]
fn serve_exports_a_signed_checkpoint_that_verifies() {
    use cuakhau_core::transparency::KeyKind;
    let dir = tempfile::tempdir().unwrap();
    let url = db(dir.path());
    let key = key_file(dir.path(), "test.cuakhau.example/audit", KeyKind::Note, 7);
    let cps = dir.path().join("cps");
    let mut child = bin()
        .args(["serve", "--listen", "127.0.0.1:0", "--database", &url, "--audit-key", &key, "--checkpoints", cps.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    let mut addr = String::new();
    while !line.contains("Signed audit checkpoints go to") {
        line.clear();
        assert!(out.read_line(&mut line).unwrap() > 0, "serve ended early");
        if let Some(a) = line.split("http://").nth(1) {
            addr = a.split('/').next().unwrap().to_string();
        }
    }
    // Once a request is answered the server is running and handles SIGTERM.
    let mut s = std::net::TcpStream::connect(&addr).unwrap();
    s.write_all(format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes()).unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(child.wait().unwrap().success());
    // At least the checkpoint written at shutdown.
    let names: Vec<String> = std::fs::read_dir(&cps).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    assert!(names.iter().any(|n| n.starts_with("checkpoint-")) && names.iter().any(|n| n.starts_with("leaves-")), "{names:?}");
    let out = ok(&["audit", "verify", "--database", &url, "--log-key", &format!("{key}.pub"), "--checkpoints", cps.to_str().unwrap()]);
    assert!(out.contains("intact") && out.contains("signed checkpoints"), "{out}");
}

#[test]
fn help_explains_the_commands() {
    let h = ok(&["--help"]);
    for cmd in ["serve", "migrate", "import", "export", "admin", "audit"] {
        assert!(h.contains(cmd), "{h}");
    }
    assert!(ok(&["serve", "--help"]).contains("--listen"));
}

#[test]
fn simulate_writes_the_summary_csv_and_plots() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/mong-cai-bac-luan.toml");
    let out = dir.path().join("out");
    let stdout = ok(&["simulate", scenario.to_str().unwrap(), "--out", out.to_str().unwrap(), "--replications", "2", "--seed", "7"]);
    assert!(stdout.contains("2030 demand, with Bắc Luân III"), "{stdout}");
    let summary: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["seed"], 7);
    assert_eq!(summary["replications"], 2);
    for f in ["summary.csv", "queue.csv", "waits.csv", "queue.svg", "waits.svg", "variants.svg"] {
        assert!(out.join(f).exists(), "{f}");
    }
    // The same seed gives the same figures (all but the wall-clock times).
    let again = dir.path().join("again");
    ok(&["simulate", scenario.to_str().unwrap(), "--out", again.to_str().unwrap(), "--replications", "2", "--seed", "7"]);
    let figures = |d: &Path| -> serde_json::Value {
        let mut v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(d.join("summary.json")).unwrap()).unwrap();
        v.as_object_mut().unwrap().remove("wall_s");
        for x in v["variants"].as_array_mut().unwrap() {
            x.as_object_mut().unwrap().remove("sim_s");
        }
        v
    };
    assert_eq!(figures(&out), figures(&again));
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "name = \"x\"\n").unwrap();
    let o = run(&["simulate", bad.to_str().unwrap()]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("missing field"), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn the_demo_day_then_its_dwell_report_and_queue_board_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let url = db(dir.path());
    let out = ok(&["demo", "--database", &url, "--seed", "3", "--until", "2026-11-23T14:00:00+07:00"]);
    assert!(out.contains("DEMO DATA") && out.contains("declarations"), "{out}");
    let again = run(&["demo", "--database", &url]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("empty database only"));
    let csv = ok(&[
        "report",
        "dwell",
        "--database",
        &url,
        "--by",
        "gate-pair,direction",
        "--from",
        "2026-11-23T00:00:00+07:00",
        "--until",
        "2026-11-24T00:00:00+07:00",
    ]);
    assert!(csv.starts_with("group,interval,n,mean_s,p50_s,p95_s,max_s\n"), "{csv}");
    assert!(csv.contains("huu-nghi / import,arrival-to-entry-release,") && csv.contains("kim-thanh / export,"), "{csv}");
    let json = ok(&["report", "dwell", "--database", &url, "--format", "json", "--by", "channel", "--from", "2026-11-23T00:00:00+07:00"]);
    let rows: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert!(rows.as_array().unwrap().iter().any(|r| r["group"] == "green"), "{json}");
    let bad = run(&["report", "dwell", "--database", &url, "--by", "weather"]);
    assert!(!bad.status.success() && String::from_utf8_lossy(&bad.stderr).contains("--by"));
    let board = ok(&["gate", "queue", "--database", &url, "--gate-pair", "huu-nghi", "--direction", "import"]);
    assert!(board.starts_with("huu-nghi import at ") && board.contains("lane huu-nghi-cn-exit-1"), "{board}");
}

#[test]
fn serve_refuses_an_unknown_call_forward_policy_before_opening_anything() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(&["serve", "--database", &db(dir.path()), "--listen", "127.0.0.1:0", "--policy", "loudest-horn"]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("--policy") && err.contains("fifo, booked-first, perishables-first"), "{err}");
    assert!(!dir.path().join("c.db").exists(), "nothing was created");
}

#[test]
fn a_backup_restores_into_an_empty_database_and_its_audit_log_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let url = seeded(dir.path());
    let lanes = ok(&["export", "--table", "lanes", "--database", &url]);
    let backup = dir.path().join("backup.db");
    let b = backup.to_str().unwrap();
    assert!(ok(&["backup", "--to", b, "--database", &url]).contains("backup written to"));
    // Never over an existing file, in the operator's language.
    let again = bin().args(["backup", "--to", b, "--database", &url]).env("LANG", "vi_VN.UTF-8").output().unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("đã tồn tại: sao lưu không bao giờ ghi đè một tệp"), "{again:?}");
    // Into a database that does not exist yet: whole, and its log verifies.
    let restored = format!("sqlite:{}", dir.path().join("restored.db").display());
    let out = ok(&["restore", "--from", b, "--database", &restored]);
    assert!(out.contains("audit log intact"), "{out}");
    assert!(ok(&["audit", "verify", "--database", &restored]).contains("audit log intact"));
    assert_eq!(ok(&["export", "--table", "lanes", "--database", &restored]), lanes);
    // A database that holds data is replaced only with --force.
    let o = run(&["restore", "--from", b, "--database", &restored]);
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("add --force"), "{o:?}");
    assert!(ok(&["restore", "--from", b, "--database", &restored, "--force"]).contains("audit log intact"));
    // A backup whose log was rewritten is refused before anything is replaced.
    let forged = dir.path().join("forged.db");
    std::fs::copy(&backup, &forged).unwrap();
    rusqlite::Connection::open(&forged).unwrap().execute("UPDATE audit_log SET actor = 'mallory' WHERE seq = 2", []).unwrap();
    let o = run(&["restore", "--from", forged.to_str().unwrap(), "--database", &restored, "--force"]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("does not verify"), "{o:?}");
    assert!(ok(&["audit", "verify", "--database", &restored]).contains("audit log intact"));
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("restoring") || n.contains(".part"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    // PostgreSQL: its own tools, and where to read about them.
    let o = run(&["backup", "--to", dir.path().join("pg.dump").to_str().unwrap(), "--database", "postgres://postgres@127.0.0.1:5432/test"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains("pg_dump") && err.contains("docs/operations.md#backups"), "{err}");
}
