//! `cargo xtask chaos [--full] [--backend sqlite|postgres|both] [--seed N] [SUITE…]`: the
//! black-box reliability suites of `chaos/` (kill, disk, reports, load) against a real server
//! process on loopback, on SQLite and on a throwaway PostgreSQL (postgres.rs). Builds the server
//! and the harness (release), compiles the LD_PRELOAD fault shim with gcc, mounts a 20 MiB tmpfs
//! for the full-disk test when root (unmounted afterwards, also on failure), runs the suites and
//! prints their one-line verdicts. See docs/RELIABILITY.md.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use crate::util::{self, cmd, is_root, run, run_tee};

pub const SUITES: [&str; 4] = ["kill", "disk", "reports", "load"];

/// A tmpfs mounted for the disk suite; unmounted on drop.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(dir: &Path, size: &str) -> Result<Tmpfs, String> {
        let _ = Command::new("umount")
            .arg(dir)
            .stderr(std::process::Stdio::null())
            .status();
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        run(Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir))?;
        Ok(Tmpfs(dir.to_path_buf()))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

/// Compiles the fault shim into target/chaos/libfaultfs.so.
pub fn build_shim() -> Result<PathBuf, String> {
    let root = util::root();
    let out = root.join("target/chaos/libfaultfs.so");
    std::fs::create_dir_all(root.join("target/chaos")).map_err(|e| e.to_string())?;
    run(Command::new("gcc")
        .args(["-shared", "-fPIC", "-O2", "-Wall", "-o"])
        .arg(&out)
        .arg(root.join("chaos/shim/faultfs.c"))
        .arg("-ldl"))?;
    Ok(out)
}

/// Builds the release server and harness; returns (server, harness).
pub fn build() -> Result<(PathBuf, PathBuf), String> {
    run(cmd("cargo").args([
        "build",
        "--release",
        "-p",
        "evo-billing-server",
        "-p",
        "evo-billing-chaos",
    ]))?;
    let t = util::root().join("target/release");
    Ok((t.join("evo-billing-server"), t.join("evo-billing-chaos")))
}

pub fn run_chaos(args: &[String]) -> Result<(), String> {
    let full = args.iter().any(|a| a == "--full");
    let mut backends = vec!["sqlite", "postgres"];
    let mut suites: Vec<String> = Vec::new();
    let mut seed: Option<String> = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--full" => {}
            "--backend" => {
                backends = match it.next().map(String::as_str) {
                    Some("sqlite") => vec!["sqlite"],
                    Some("postgres") => vec!["postgres"],
                    Some("both") => vec!["sqlite", "postgres"],
                    other => return Err(format!("--backend sqlite|postgres|both, not {other:?}")),
                }
            }
            "--seed" => seed = it.next().cloned(),
            s if SUITES.contains(&s) => suites.push(s.to_string()),
            other => {
                return Err(format!(
                    "unknown argument {other}: cargo xtask chaos [--full] [--backend sqlite|postgres|both] [--seed N] [{}]",
                    SUITES.join("|")
                ))
            }
        }
    }
    if suites.is_empty() {
        suites = SUITES.iter().map(|s| s.to_string()).collect();
    }
    let (server, harness) = build()?;
    let shim = build_shim()?;
    let root = util::root();
    let work = root.join("target/chaos");
    let started = Instant::now();
    let mut verdicts: Vec<String> = Vec::new();
    let mut failed = false;
    for backend in &backends {
        let mut extra: Vec<String> = Vec::new();
        let mut _tmpfs = None;
        let mut _pg = None;
        // Declared after its tmpfs, so it stops before the tmpfs is unmounted.
        let mut _pg_small = None;
        if *backend == "sqlite" && suites.iter().any(|s| s == "disk") {
            extra.push("--shim".into());
            extra.push(shim.display().to_string());
            if is_root() {
                let dir = work.join("tmpfs");
                let t = Tmpfs::mount(&dir, "20m")?;
                extra.push("--tmpfs".into());
                extra.push(dir.display().to_string());
                _tmpfs = Some(t);
            } else {
                eprintln!(
                    "\n!!!!!!!! not root: the 20 MiB tmpfs full-disk test will NOT run !!!!!!!!\n"
                );
            }
        }
        if *backend == "postgres" {
            match crate::postgres::PgServer::start("chaos") {
                Ok(pg) => {
                    extra.push("--pg-url".into());
                    extra.push(pg.url.clone());
                    _pg = Some(pg);
                }
                Err(e) => {
                    let line = format!("VERDICT * postgres ERROR: PostgreSQL UNAVAILABLE ({e})");
                    eprintln!("\n!!!!!!!! {line} !!!!!!!!\n");
                    verdicts.push(line);
                    failed = true;
                    continue;
                }
            }
        }
        if *backend == "postgres" && suites.iter().any(|s| s == "disk") {
            // The full-disk test: a second, small cluster whose files are on a 96 MiB tmpfs.
            if is_root() {
                let dir = work.join("pg-tmpfs");
                let t = Tmpfs::mount(&dir, "96m")?;
                match crate::postgres::PgServer::start_small_in(
                    &dir.join("pg"),
                    &work.join("pg-tmpfs-wal"),
                ) {
                    Ok(pg) => {
                        extra.push("--tmpfs".into());
                        extra.push(dir.display().to_string());
                        extra.push("--pg-tmpfs-url".into());
                        extra.push(pg.url.clone());
                        _tmpfs = Some(t);
                        _pg_small = Some(pg);
                    }
                    Err(e) => eprintln!(
                        "\n!!!!!!!! PostgreSQL on a tmpfs did not start ({e}): the PostgreSQL full-disk test will NOT run !!!!!!!!\n"
                    ),
                }
            } else {
                eprintln!(
                    "\n!!!!!!!! not root: the PostgreSQL full-disk test will NOT run !!!!!!!!\n"
                );
            }
        }
        let mut c = cmd(harness.to_str().unwrap_or("evo-billing-chaos"));
        c.arg("--server")
            .arg(&server)
            .args(["--backend", backend, "--work"])
            .arg(&work)
            .args(&extra);
        if full {
            c.arg("--full");
        }
        if let Some(s) = &seed {
            c.args(["--seed", s]);
        }
        c.args(&suites);
        let (ok, out) = run_tee(&mut c)?;
        failed |= !ok;
        verdicts.extend(
            out.lines()
                .filter(|l| l.starts_with("VERDICT "))
                .map(String::from),
        );
    }
    println!();
    println!(
        "== chaos summary ({} mode, {:.0} s) ==",
        if full { "full" } else { "short" },
        started.elapsed().as_secs_f64()
    );
    for v in &verdicts {
        println!("{v}");
    }
    let count = |w: &str| verdicts.iter().filter(|v| v.contains(w)).count();
    let (pass, partial, fail, error) = (
        count(" PASS:"),
        count(" PASS-PARTIAL:"),
        count(" FAIL:"),
        count(" ERROR:"),
    );
    if partial > 0 {
        println!("!!!!!!!! {partial} suite(s) passed only in part: see NOT RUN above !!!!!!!!");
    }
    println!("{} passed, {} failed", pass + partial, fail + error);
    if failed || fail + error > 0 {
        Err("chaos: violations found (see the VERDICT lines)".into())
    } else {
        Ok(())
    }
}
