//! `cargo xtask test`: every test of the project, with counts.

use crate::util::{self, cmd, run, run_tee};
use crate::{build, setup};

/// Passed / failed / ignored counts of one suite.
#[derive(Default, Clone, Copy)]
struct Counts {
    passed: u64,
    failed: u64,
    ignored: u64,
}

impl std::ops::AddAssign for Counts {
    fn add_assign(&mut self, o: Counts) {
        self.passed += o.passed;
        self.failed += o.failed;
        self.ignored += o.ignored;
    }
}

/// Sums libtest's `test result: ok. 5 passed; 0 failed; 1 ignored; ...` lines (native and
/// wasm-bindgen-test-runner print the same).
fn libtest_counts(output: &str) -> Counts {
    let mut c = Counts::default();
    for line in output.lines().filter(|l| l.contains("test result:")) {
        let grab = |word: &str| -> u64 {
            line.split(';')
                .find(|p| p.trim_end().ends_with(word))
                .and_then(|p| p.split_whitespace().rev().nth(1))
                .and_then(|n| n.parse().ok())
                .unwrap_or(0)
        };
        c.passed += grab("passed");
        c.failed += grab("failed");
        c.ignored += grab("ignored");
    }
    c
}

/// node --test's TAP summary: `# pass 12`, `# fail 0`, `# skipped 0`.
fn node_counts(output: &str) -> Counts {
    let grab = |key: &str| -> u64 {
        output
            .lines()
            .filter_map(|l| l.trim().strip_prefix(key))
            .filter_map(|n| n.trim().parse::<u64>().ok())
            .sum()
    };
    Counts {
        passed: grab("# pass "),
        failed: grab("# fail "),
        ignored: grab("# skipped ") + grab("# todo "),
    }
}

struct Suite {
    name: &'static str,
    counts: Counts,
    ok: bool,
}

pub fn run_all(args: &[String]) -> Result<(), String> {
    let skip_lint = args.iter().any(|a| a == "--skip-lint");
    let full = args.iter().any(|a| a == "--full");
    setup::ensure_all()?;
    let mut suites: Vec<Suite> = Vec::new();

    if !skip_lint {
        run(cmd("cargo").args(["fmt", "--all", "--", "--check"]))
            .map_err(|e| format!("{e}: run `cargo fmt --all`"))?;
        run(cmd("cargo").args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]))?;
        run(cmd("cargo").args([
            "clippy",
            "-p",
            "evo-billing-core",
            "-p",
            "evo-billing-npm",
            "-p",
            "evo-billing-web",
            "--target",
            "wasm32-unknown-unknown",
            "--all-targets",
            "--features",
            "evo-billing-core/js",
            "--",
            "-D",
            "warnings",
        ]))?;
    }

    // A real PostgreSQL on loopback, so the server suite runs on both backends.
    let pg = match crate::postgres::PgServer::start("test") {
        Ok(pg) => {
            eprintln!("xtask: PostgreSQL for the tests at {}", pg.url);
            Some(pg)
        }
        Err(e) => {
            eprintln!("\n!!!!!!!! PostgreSQL UNAVAILABLE ({e}): the PostgreSQL variants of the server tests will NOT run !!!!!!!!\n");
            None
        }
    };

    // Native: unit, property, integration and doc tests of every crate.
    let mut native = cmd("cargo");
    native.args(["test", "--workspace"]);
    if let Some(pg) = &pg {
        native.env("EVO_BILLING_TEST_POSTGRES", &pg.url);
    }
    let (ok, out) = run_tee(&mut native)?;
    suites.push(Suite {
        name: "native (unit, property, doc)",
        counts: libtest_counts(&out),
        ok,
    });

    // The same core tests compiled to wasm32: in Node, then in headless Chromium.
    let wasm_test = || {
        let mut c = cmd("cargo");
        c.args([
            "test",
            "-p",
            "evo-billing-core",
            "--target",
            "wasm32-unknown-unknown",
            "--lib",
        ]);
        c
    };
    let (ok, out) = run_tee(&mut wasm_test())?;
    suites.push(Suite {
        name: "wasm32 in Node",
        counts: libtest_counts(&out),
        ok,
    });
    let (ok, out) = run_tee(wasm_test().env("WASM_BINDGEN_USE_BROWSER", "1"))?;
    suites.push(Suite {
        name: "wasm32 in headless Chromium",
        counts: libtest_counts(&out),
        ok,
    });

    // The npm package, imported the way an app does.
    build::package()?;
    let tests_dir = util::root().join("tests");
    run(cmd("npm")
        .args([
            "install",
            "--no-audit",
            "--no-fund",
            "--install-links=false",
        ])
        .current_dir(&tests_dir))?;
    let (ok, out) = run_tee(
        cmd("node")
            .args(["--test", "--test-reporter=tap"])
            .arg("tests/"),
    )?;
    suites.push(Suite {
        name: "node --test (npm package)",
        counts: node_counts(&out),
        ok,
    });
    let typecheck = run(cmd("tsc").args(["-p", "tests/tsconfig.json"]));
    suites.push(Suite {
        name: "TypeScript typecheck of the package's types",
        counts: Counts {
            passed: u64::from(typecheck.is_ok()),
            failed: u64::from(typecheck.is_err()),
            ignored: 0,
        },
        ok: typecheck.is_ok(),
    });

    // The dashboard: its logic in headless Chromium, then end to end against a real server.
    let (ok, out) = crate::web::component_tests()?;
    suites.push(Suite {
        name: "web components (wasm32, headless Chromium)",
        counts: libtest_counts(&out),
        ok,
    });
    let (ok, out) = crate::web::e2e_tests(full)?;
    suites.push(Suite {
        name: "web end-to-end (Chromium, axe-core)",
        counts: node_counts(&out),
        ok,
    });

    // CORS from a real browser: a page on another loopback origin uses pkg/ against the server.
    run(cmd("npm")
        .args(["install", "--no-audit", "--no-fund"])
        .current_dir(tests_dir.join("cors")))?;
    let (ok, out) = run_tee(
        cmd("node")
            .args(["--test", "--test-reporter=tap"])
            .arg("tests/cors/cors.e2e.mjs"),
    )?;
    suites.push(Suite {
        name: "CORS from headless Chromium (tests/cors)",
        counts: node_counts(&out),
        ok,
    });

    // A short schemathesis run against /openapi.json of the debug server (docs/RELIABILITY.md):
    // any 5xx, undocumented status, header or media type, or body that breaks the schema fails.
    let bin = util::root().join("target/debug/evo-billing-server");
    let dir = util::root().join("target/chaos/openapi-short");
    let api = crate::fuzz::schemathesis(&bin, 10, 120, &dir)?;
    println!(
        "schemathesis: {} test cases, {} unique failures in {:.0} s (JUnit: {})",
        api.cases,
        api.failures,
        api.secs,
        dir.join("junit.xml").display()
    );
    suites.push(Suite {
        name: "schemathesis (short) against /openapi.json",
        counts: Counts {
            passed: u64::from(api.ok),
            failed: if api.ok { 0 } else { api.failures.max(1) },
            ignored: 0,
        },
        ok: api.ok,
    });

    // The chaos suites (docs/RELIABILITY.md) against release builds: SIGKILL under load, full
    // disk and injected I/O errors, report recovery, 256/1,024 connections and slowloris, on
    // both backends. Short here (about 4 minutes); `--full` runs the long version.
    if !args.iter().any(|a| a == "--no-chaos") {
        let chaos_args: Vec<String> = if full {
            vec!["--full".into()]
        } else {
            Vec::new()
        };
        let ok = crate::chaos::run_chaos(&chaos_args).is_ok();
        suites.push(Suite {
            name: if full {
                "chaos (full: kill, disk, reports, load)"
            } else {
                "chaos (short: kill, disk, reports, load)"
            },
            counts: Counts {
                passed: u64::from(ok),
                failed: u64::from(!ok),
                ignored: 0,
            },
            ok,
        });
    }

    let postgres_ran = pg.is_some();
    drop(pg);
    let mut total = Counts::default();
    println!();
    println!("== test summary ==");
    for s in &suites {
        println!(
            "{:<48} {:>5} passed, {} failed, {} ignored{}",
            s.name,
            s.counts.passed,
            s.counts.failed,
            s.counts.ignored,
            if s.ok { "" } else { "  <-- FAILED" }
        );
        total += s.counts;
    }
    let all_ok = suites.iter().all(|s| s.ok && s.counts.passed > 0);
    let empty: Vec<&str> = suites
        .iter()
        .filter(|s| s.counts.passed == 0)
        .map(|s| s.name)
        .collect();
    if !empty.is_empty() {
        println!("suites that ran no test: {}", empty.join(", "));
    }
    if !postgres_ran {
        println!("!!!!!!!! PostgreSQL was UNAVAILABLE: the server's PostgreSQL variants did not run !!!!!!!!");
    }
    println!("{} passed, {} failed", total.passed, total.failed);
    if all_ok && total.failed == 0 {
        Ok(())
    } else {
        Err("some tests failed".into())
    }
}
