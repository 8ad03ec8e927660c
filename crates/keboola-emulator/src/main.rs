//! `keboola-emulator`: runs the local Keboola stack until SIGINT or SIGTERM.

use std::io::Write as _;
use std::net::IpAddr;
use std::path::PathBuf;

use anyhow::{Context as _, bail};
use clap::Parser;
use keboola_emulator::{EmulatorOptions, FileProvider, load_seed, spawn};

/// A local Keboola Connection stack (Storage, Manage and Encryption APIs, OAuth wizard).
///
/// Prints one JSON line on stdout when ready (URL, tokens, projects) and logs each request
/// to stderr. Stops on Ctrl-C or SIGTERM.
#[derive(Debug, Parser)]
#[command(name = "keboola-emulator", version)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: IpAddr,
    /// Allow a non-loopback --host (the emulator has no real security).
    #[arg(long)]
    allow_remote: bool,
    /// Port to listen on; 0 picks a free one.
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Serve HTTPS with a generated certificate; the CA file is reported as "ca_cert".
    #[arg(long)]
    tls: bool,
    /// Directory for the generated CA certificate (default: a temporary directory).
    #[arg(long, value_name = "DIR", requires = "tls")]
    cert_dir: Option<PathBuf>,
    /// Number of seeded projects.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..=500))]
    projects: u64,
    /// Delay added to every API response, in milliseconds.
    #[arg(long, value_name = "N", default_value_t = 0)]
    latency_ms: u64,
    /// Host name to answer under: connection.NAME is Storage, queue.NAME the Job Queue,
    /// encryption.NAME, query.NAME, ... (each must resolve here, e.g. via /etc/hosts).
    #[arg(long, value_name = "NAME")]
    hostname: Option<String>,
    /// Keep the SQLite databases in DIR (emulator.sqlite, project_<id>.sqlite) instead
    /// of memory; they are re-seeded at every start.
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Which cloud File Storage imitates: aws (S3 at <url>/_s3), azure (Blob Storage at
    /// <url>/_abs) or gcp (Cloud Storage at <url>/_gcs).
    #[arg(long, value_name = "PROVIDER", default_value = "azure", value_parser = ["aws", "azure", "gcp"])]
    file_provider: String,
    /// Rows of the first project's in.c-crm.orders table (default 2000), for benchmarks.
    #[arg(long, value_name = "N")]
    seed_rows: Option<u64>,
    /// JSON seed file fixing the seeded secrets.
    #[arg(long, value_name = "FILE")]
    seed: Option<PathBuf>,
    /// Do not log requests on stderr.
    #[arg(long)]
    quiet: bool,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if !args.host.is_loopback() && !args.allow_remote {
        bail!(
            "refusing to listen on non-loopback address {} without --allow-remote",
            args.host
        );
    }
    let seed = args.seed.as_deref().map(load_seed).transpose()?;
    let emulator = spawn(EmulatorOptions {
        host: args.host,
        port: args.port,
        tls: args.tls,
        projects: usize::try_from(args.projects)?,
        latency_ms: args.latency_ms,
        seed,
        cert_dir: args.cert_dir,
        hostname: args.hostname,
        data_dir: args.data_dir,
        file_provider: FileProvider::parse(&args.file_provider).unwrap_or_default(),
        seed_rows: args.seed_rows,
    })?;
    emulator.log_requests_to_stderr(!args.quiet);

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    // Handlers go in before the ready line: whoever reads it may signal at once.
    let stop = {
        let _guard = runtime.enter();
        StopSignals::install()?
    };

    // The ready line is the only thing ever written to stdout.
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{}", emulator.ready().to_json_line())
        .context("cannot write the ready line")?;
    stdout.flush().context("cannot flush the ready line")?;
    drop(stdout);

    runtime.block_on(stop.wait());
    drop(emulator);
    Ok(())
}

#[cfg(unix)]
struct StopSignals {
    terminate: tokio::signal::unix::Signal,
    interrupt: tokio::signal::unix::Signal,
}

#[cfg(unix)]
impl StopSignals {
    fn install() -> anyhow::Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Self {
            terminate: signal(SignalKind::terminate())?,
            interrupt: signal(SignalKind::interrupt())?,
        })
    }

    async fn wait(mut self) {
        tokio::select! {
            _ = self.terminate.recv() => {}
            _ = self.interrupt.recv() => {}
        }
    }
}

#[cfg(not(unix))]
struct StopSignals;

#[cfg(not(unix))]
impl StopSignals {
    fn install() -> anyhow::Result<Self> {
        Ok(Self)
    }

    async fn wait(self) {
        let _ = tokio::signal::ctrl_c().await;
    }
}
