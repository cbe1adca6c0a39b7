//! A throwaway PostgreSQL server on loopback for the tests and benchmarks: a fresh cluster in
//! target/pg-<purpose>, on a free port, stopped when the guard is dropped.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::util::{self, is_root, run};

/// The directory holding `initdb` and `pg_ctl`: the newest /usr/lib/postgresql/N/bin, else PATH.
fn pg_bin_dir() -> Option<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let v: u32 = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((v, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, p)| p)
}

/// Installs PostgreSQL from apt when root and missing.
pub fn ensure_installed() -> Result<PathBuf, String> {
    if let Some(dir) = pg_bin_dir() {
        return Ok(dir);
    }
    if !is_root() {
        return Err("PostgreSQL is missing. Run: sudo apt-get install -y postgresql".into());
    }
    run(util::cmd("apt-get").args(["update", "-qq"]))?;
    run(util::cmd("apt-get")
        .args(["install", "-y", "-qq", "postgresql"])
        .env("DEBIAN_FRONTEND", "noninteractive"))?;
    pg_bin_dir().ok_or_else(|| "PostgreSQL installed but initdb not found".into())
}

/// A running server; stopped on drop.
pub struct PgServer {
    bin: PathBuf,
    data: PathBuf,
    pub url: String,
}

fn free_port() -> Result<u16, String> {
    let l = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    l.local_addr().map(|a| a.port()).map_err(|e| e.to_string())
}

/// Runs a PostgreSQL tool as the `postgres` user when we are root (initdb refuses root).
fn pg_command(bin: &Path, tool: &str) -> Command {
    let exe = bin.join(tool);
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(exe);
        c
    } else {
        Command::new(exe)
    }
}

impl PgServer {
    /// Starts a fresh cluster for tests (fsync off: throwaway data).
    pub fn start(purpose: &str) -> Result<PgServer, String> {
        PgServer::start_with(purpose, false, false)
    }

    /// Starts a cluster with PostgreSQL's durable defaults (for benchmarks); with `reuse`, the
    /// cluster left by the previous run, data included, if there is one.
    pub fn start_durable(purpose: &str, reuse: bool) -> Result<PgServer, String> {
        PgServer::start_with(purpose, true, reuse)
    }

    /// Starts a fresh, small cluster whose data files are in `root` (a directory on a small
    /// filesystem, for the full-disk test): 1 MiB WAL segments, little WAL kept, 16 MB of shared
    /// buffers. Its WAL and its log are in `outside` (on another filesystem): the test fills the
    /// data volume; a full WAL volume makes PostgreSQL itself PANIC and shut down, which no
    /// client can recover from, and the log of a full volume would be lost.
    pub fn start_small_in(root: &Path, outside: &Path) -> Result<PgServer, String> {
        PgServer::start_in(
            root.to_path_buf(),
            false,
            false,
            Some(outside.to_path_buf()),
        )
    }

    fn start_with(purpose: &str, durable: bool, reuse: bool) -> Result<PgServer, String> {
        let root = util::root().join("target").join(format!("pg-{purpose}"));
        PgServer::start_in(root, durable, reuse, None)
    }

    fn start_in(
        root: PathBuf,
        durable: bool,
        reuse: bool,
        small_outside: Option<PathBuf>,
    ) -> Result<PgServer, String> {
        let small = small_outside.is_some();
        let log = small_outside
            .as_ref()
            .map_or_else(|| root.join("log"), |o| o.join("log"));
        let bin = ensure_installed()?;
        let reusing = reuse && root.join("data").join("PG_VERSION").exists();
        if !reusing {
            let _ = std::fs::remove_dir_all(&root);
        }
        std::fs::create_dir_all(&root).map_err(|e| e.to_string())?;
        if let Some(o) = &small_outside {
            let _ = std::fs::remove_dir_all(o);
            std::fs::create_dir_all(o).map_err(|e| e.to_string())?;
        }
        if is_root() {
            run(Command::new("chown").args(["-R", "postgres"]).arg(&root))?;
            if let Some(o) = &small_outside {
                run(Command::new("chown").args(["-R", "postgres"]).arg(o))?;
            }
            // The postgres user must be able to reach the directory.
            let mut dir = root.clone();
            while let Some(parent) = dir.parent() {
                let _ = Command::new("chmod").arg("o+x").arg(parent).status();
                dir = parent.to_path_buf();
            }
        }
        let data = root.join("data");
        let _ = std::fs::remove_file(data.join("postmaster.pid"));
        let status = if reusing {
            std::process::ExitStatus::default()
        } else {
            pg_command(&bin, "initdb")
                .args(["-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"])
                .args(small.then_some("--wal-segsize=1"))
                .args(
                    small_outside
                        .as_ref()
                        .map(|o| format!("--waldir={}", o.join("wal").display())),
                )
                .arg("-D")
                .arg(&data)
                .stdout(Stdio::null())
                .status()
                .map_err(|e| format!("initdb: {e}"))?
        };
        if !status.success() {
            return Err(format!("initdb failed ({status})"));
        }
        let port = free_port()?;
        let relaxed = if durable {
            ""
        } else {
            " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        };
        let buffers = if small {
            " -c shared_buffers=16MB -c min_wal_size=2MB -c max_wal_size=8MB"
        } else {
            " -c shared_buffers=512MB"
        };
        let opts = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c max_connections=200{buffers}{relaxed}",
            root.display()
        );
        let status = pg_command(&bin, "pg_ctl")
            .arg("-D")
            .arg(&data)
            .args(["-o", &opts, "-l"])
            .arg(&log)
            .args(["-w", "start"])
            .stdout(Stdio::null())
            .status()
            .map_err(|e| format!("pg_ctl: {e}"))?;
        if !status.success() {
            let log = std::fs::read_to_string(&log).unwrap_or_default();
            return Err(format!("PostgreSQL did not start ({status}):\n{log}"));
        }
        Ok(PgServer {
            bin,
            data,
            url: format!("postgres://postgres@127.0.0.1:{port}/postgres"),
        })
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        let _ = pg_command(&self.bin, "pg_ctl")
            .arg("-D")
            .arg(&self.data)
            .args(["-m", "fast", "-w", "stop"])
            .stdout(Stdio::null())
            .status();
    }
}
