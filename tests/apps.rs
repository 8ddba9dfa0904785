//! The reference apps' own unit tests (Node's `node --test`, Django's test
//! runner), run after the same dependency bootstrap `bakeoff run` uses, so
//! `cargo test` covers them too. They need no database. Among them: a
//! failing route answers a plain 500 without a trace, DEBUG is off, secrets
//! come from the environment, request input reaches SQL only as bound,
//! clamped integers. A static scan of the apps' sources backs the last one.

use std::path::PathBuf;
use std::process::Command;

use bakeoff::targets::{TargetsSpec, bootstrap, targets_root};

async fn bootstrapped(name: &str) -> PathBuf {
    let spec = TargetsSpec::load(&targets_root().unwrap()).unwrap();
    let b = &spec.bootstraps[name];
    let log = std::env::temp_dir().join(format!("bakeoff-apps-test-bootstrap-{name}.log"));
    bootstrap::ensure(name, b, &log)
        .await
        .unwrap_or_else(|e| panic!("bootstrap {name}: {e}"));
    b.dir.clone()
}

fn assert_success(what: &str, out: std::process::Output) {
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn node_app_unit_tests_pass() {
    let _area = crate::util::area(module_path!());
    let dir = bootstrapped("node").await;
    let out = Command::new("node")
        .args(["--test", "test/"])
        .current_dir(&dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_success("node --test", out);
    // node's TAP summary: "# pass N" with N > 0 and "# fail 0".
    assert!(
        stdout.contains("# fail 0") && !stdout.contains("# pass 0"),
        "{stdout}"
    );
}

#[tokio::test]
async fn django_app_unit_tests_pass() {
    let _area = crate::util::area(module_path!());
    let dir = bootstrapped("django").await;
    let out = Command::new(dir.join(".venv/bin/python"))
        .args(["-m", "django", "test", "bench", "-v", "1"])
        .env("DJANGO_SETTINGS_MODULE", "bakeoff_site.settings")
        // Required by the settings (no defaults in the code); the tests check
        // that these very values are what the settings use.
        .env("SECRET_KEY", "apps-test-secret-key")
        .env(
            "DATABASE_URL",
            "postgres://bakeoff:apps-test-password@127.0.0.1:1/bakeoff",
        )
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .current_dir(&dir)
        .output()
        .unwrap();
    // The runner reports how many tests ran; zero would be a vacuous pass.
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_success("django test", out);
    assert!(
        stderr.contains("Ran ") && !stderr.contains("Ran 0 tests"),
        "{stderr}"
    );
}

/// The apps' own sources: targets/node and targets/django without their
/// installed dependencies.
fn app_sources() -> Vec<(PathBuf, String)> {
    fn walk(dir: &std::path::Path, out: &mut Vec<(PathBuf, String)>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            let name = e.file_name().to_string_lossy().into_owned();
            if p.is_dir() {
                if !matches!(name.as_str(), "node_modules" | ".venv" | "__pycache__") {
                    walk(&p, out);
                }
            } else if name.ends_with(".js") || name.ends_with(".py") {
                out.push((p.clone(), std::fs::read_to_string(&p).unwrap()));
            }
        }
    }
    let root = targets_root().unwrap();
    let mut out = Vec::new();
    walk(&root.join("node"), &mut out);
    walk(&root.join("django"), &mut out);
    out
}

/// Problems of one source file: SQL built from strings (template literals,
/// f-strings, %-formatting or `+` with a non-literal next to a statement) or
/// a raw-SQL escape hatch of the ORM. The one Python module meant to send
/// raw SQL, `bench/raw.py` (the `/raw/` twins, targets/API.md), may use
/// `connection.cursor()`, but only to execute its module constants, with
/// the values as parameters (`%s` placeholders bound by psycopg).
fn sql_building(path: &std::path::Path, text: &str) -> Vec<String> {
    const KEYWORDS: [&str; 5] = ["SELECT ", "UPDATE ", "INSERT ", "DELETE ", "WHERE "];
    let mut found = Vec::new();
    let py = path.extension().is_some_and(|e| e == "py");
    let raw_module = path.ends_with("bench/raw.py");
    let lines: Vec<&str> = text.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        let code = line.trim();
        if code.starts_with("//") || code.starts_with('#') {
            continue;
        }
        let at = format!("{}:{}: {code}", path.display(), i + 1);
        let sql = KEYWORDS.iter().any(|k| line.contains(k));
        if py {
            for hatch in [".raw(", ".extra(", "RawSQL(", ".execute(", "cursor("] {
                let allowed = raw_module && matches!(hatch, ".execute(" | "cursor(");
                if line.contains(hatch) && !allowed {
                    found.push(format!("{at} (raw SQL via {hatch})"));
                }
            }
            if raw_module && let Some(pos) = line.find(".execute(") {
                // Only `execute(CONSTANT)` or `execute(CONSTANT, params)`.
                let arg = &line[pos + ".execute(".len()..];
                let name: String = arg
                    .chars()
                    .take_while(|c| c.is_ascii_uppercase() || *c == '_')
                    .collect();
                let next = arg[name.len()..].chars().next();
                if name.is_empty() || !matches!(next, Some(',' | ')')) {
                    found.push(format!(
                        "{at} (execute of a statement that is not a module constant)"
                    ));
                }
            }
            // `%s` is a bound-parameter placeholder; any other `%` formats.
            let formatted = line.contains("f\"")
                || line.contains("f'")
                || line.replace("%s", "").contains('%')
                || line.contains(".format(");
            if sql && formatted {
                found.push(format!("{at} (SQL formatted from values)"));
            }
        } else if sql {
            if line.contains('`') || line.contains("${") {
                found.push(format!("{at} (SQL in a template literal)"));
            }
            // A statement continued with `+` must continue with a literal.
            let ends_plus = code.ends_with('+');
            let next_literal = lines.get(i + 1).is_some_and(|n| {
                n.trim_start().starts_with('\'') || n.trim_start().starts_with('"')
            });
            let inner_plus = code
                .split('+')
                .skip(1)
                .any(|part| !part.trim().is_empty() && !part.trim().starts_with(['\'', '"']));
            if (ends_plus && !next_literal) || inner_plus {
                found.push(format!("{at} (SQL concatenated with a value)"));
            }
        }
    }
    found
}

#[test]
fn app_sql_is_never_built_from_request_strings() {
    let _area = crate::util::area(module_path!());
    let sources = app_sources();
    assert!(
        sources.iter().any(|(p, _)| p.ends_with("node/app.js"))
            && sources
                .iter()
                .any(|(p, _)| p.ends_with("bench/views_sync.py")),
        "the scan must see the apps: {:?}",
        sources.iter().map(|(p, _)| p).collect::<Vec<_>>()
    );
    let problems: Vec<String> = sources
        .iter()
        .flat_map(|(p, t)| sql_building(p, t))
        .collect();
    assert!(problems.is_empty(), "{problems:#?}");
    // The scan itself catches the patterns it is for.
    for bad in [
        "pool.query(`SELECT * FROM world WHERE id = ${id}`)",
        "const q = 'SELECT * FROM world WHERE id = ' + req.query.id;",
        "text: 'UPDATE world SET x = 1 ' +\n  ids.join(',')",
    ] {
        assert!(
            !sql_building(std::path::Path::new("x.js"), bad).is_empty(),
            "{bad}"
        );
    }
    for bad in [
        "World.objects.raw('SELECT 1')",
        "q = f\"SELECT * FROM world WHERE id = {i}\"",
        "cursor.execute('SELECT 1')",
        "q = \"SELECT * FROM world WHERE id = %s\" % i",
    ] {
        assert!(
            !sql_building(std::path::Path::new("x.py"), bad).is_empty(),
            "{bad}"
        );
    }
    // The raw-SQL module executes constants with parameters, nothing else.
    let raw = std::path::Path::new("targets/django/bench/raw.py");
    assert!(sql_building(raw, "        cursor.execute(SELECT_WORLD, [world_id])").is_empty());
    for bad in [
        "cursor.execute(f\"SELECT * FROM world WHERE id = {i}\")",
        "cursor.execute(sql, [i])",
        "cursor.execute(\"SELECT 1\")",
        "SELECT_WORLD = \"SELECT id FROM world WHERE id = %d\" % i",
    ] {
        assert!(!sql_building(raw, bad).is_empty(), "{bad}");
    }
}
