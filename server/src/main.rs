//! `kudakyar`: the server and its administration commands.
//!
//! ```text
//! kudakyar serve [--data-dir DIR] [--bind ADDR]   run the API and the PWA
//! kudakyar migrate                                apply database migrations
//! kudakyar user add|list|disable …                manage accounts
//! kudakyar config check                           print the effective config
//! kudakyar export children|encounters --out FILE  export the registry
//! kudakyar iris template|match|synth|evaluate|bench-search …  the iris engine
//! kudakyar iris reencode [--all]                  re-extract stored templates
//! kudakyar keys rotate                            re-seal biometric data with a new key
//! kudakyar sightings relocate                     place every report and incident again
//! kudakyar geo import --provinces F --counties D  import admin boundaries (GeoJSON, OSM tags)
//! kudakyar geo import --builtin                   import the built-in province outlines
//! kudakyar geo backfill                           place every encounter, report and incident again
//! kudakyar demo seed --children N --encounters M --reports K [--seed S] [--force]
//!                                                 fill the database with demo data
//! kudakyar atlas rebuild                          recompute the atlas rollups from the raw rows
//! kudakyar atlas population FILE.csv              import county populations (code,population)
//! kudakyar atlas hotspots [--res R]               run the emerging hot-spot analysis now
//! kudakyar indicators rebuild [--from DATE]       recompute the materialised indicators
//! kudakyar report quarterly --province IR-xx --quarter 1405-Q2 --out FILE.html
//! ```
//!
//! Global options (`--config`, `--data-dir`, `--log-format`) go before or after
//! the subcommand; `KUDAKYAR_*` environment variables configure the rest.

use std::io::BufRead;
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use kudakyar::app::{self, AppState};
use kudakyar::audit::{self, Origin, Who};
use kudakyar::auth::policy::{Scope, UserVisibility};
use kudakyar::config::{Config, LogFormat, Overrides};
use kudakyar::db::Db;
use kudakyar::error::Error;
use kudakyar::exports;
use kudakyar::users;
use kudakyar_api::users::{NewUser, Role};

#[derive(Parser)]
#[command(
    name = "kudakyar",
    version,
    about = "Kudakyar (کودک‌یار): the registry of street-working children"
)]
struct Cli {
    /// A TOML configuration file (also `KUDAKYAR_CONFIG`).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// Where the SQLite database, media and secrets live (default ./kudakyar-data).
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    /// Log format.
    #[arg(long, global = true, value_enum)]
    log_format: Option<LogFormat>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API and the PWA.
    Serve {
        /// Address to listen on (default 127.0.0.1:8080).
        #[arg(long)]
        bind: Option<SocketAddr>,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage user accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Inspect the configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// The iris engine: templates, matching, synthetic data, evaluation, benchmarks.
    #[command(subcommand)]
    Iris(IrisCommand),
    /// The biometric key.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Sighting reports.
    #[command(subcommand)]
    Sightings(SightingsCommand),
    /// Administrative boundaries (provinces and counties).
    #[command(subcommand)]
    Geo(GeoCommand),
    /// Demo data for demonstrations and newcomers.
    #[command(subcommand)]
    Demo(DemoCommand),
    /// The presence atlas: rollups, population, hot spots.
    #[command(subcommand)]
    Atlas(AtlasCommand),
    /// The programme indicators materialised per day and area.
    #[command(subcommand)]
    Indicators(IndicatorsCommand),
    /// Printable reports.
    #[command(subcommand)]
    Report(ReportCommand),
    /// Back up an embedded (SQLite) installation into a new directory while
    /// it serves: database snapshot, media, the biometric key sealed with
    /// the passphrase in KUDAKYAR_BACKUP_PASSPHRASE.
    Backup {
        #[arg(long)]
        out: std::path::PathBuf,
    },
    /// Rebuild an installation from a backup into a data dir without a
    /// database (KUDAKYAR_BACKUP_PASSPHRASE opens the biometric key).
    Restore {
        #[arg(long)]
        from: std::path::PathBuf,
    },
    /// Export every child or encounter (the whole country) to a file.
    Export {
        /// `children` or `encounters`.
        #[arg(value_enum)]
        kind: exports::Kind,
        #[arg(long, value_enum, default_value = "csv")]
        format: exports::Format,
        /// Where to write; the file is replaced only when the export completes.
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a user; the password is read from standard input.
    Add {
        #[arg(long)]
        username: String,
        /// outreach_worker, supervisor, provincial_staff or national_admin.
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// Province code, IR-00 … IR-30 (all roles but national_admin).
        #[arg(long)]
        province: Option<String>,
        #[arg(long)]
        county: Option<String>,
        #[arg(long)]
        display_name: Option<String>,
        /// Read the password from the first line of standard input.
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// List users.
    List,
    /// Disable a user and end their sessions.
    Disable { username: String },
}

#[derive(Subcommand)]
enum IrisCommand {
    /// Re-extract the registry's templates from the sealed raw captures with
    /// this version of the engine (after an algorithm change).
    Reencode {
        /// Also templates already made by this engine version.
        #[arg(long)]
        all: bool,
    },
    #[command(flatten)]
    Engine(iris::cli::IrisCommand),
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Re-seal every iris template and raw capture with a new key; safe to
    /// run again after an interruption.
    Rotate,
}

#[derive(Subcommand)]
enum SightingsCommand {
    /// Place every report and incident again in its province and county (after
    /// centres or boundaries changed); prints how many moved.
    Relocate {
        /// Rows read per query (1–100000).
        #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(i64).range(1..=100_000))]
        batch: i64,
    },
}

#[derive(Subcommand)]
enum GeoCommand {
    /// Replace the stored boundaries with GeoJSON files whose features carry
    /// OSM tags (ISO3166-2, name, name:fa, name:en, wikidata); tagless
    /// features are skipped and counted. A failed import changes nothing.
    Import {
        /// A FeatureCollection of provinces (admin_level 4).
        #[arg(long, required_unless_present = "builtin", requires = "counties")]
        provinces: Option<PathBuf>,
        /// A FeatureCollection of counties (admin_level 5), or a folder of them.
        #[arg(long, requires = "provinces")]
        counties: Option<PathBuf>,
        /// Instead of files: the built-in province outlines (Natural Earth,
        /// no counties), for a fresh install.
        #[arg(long, conflicts_with_all = ["provinces", "counties"])]
        builtin: bool,
    },
    /// Place every encounter, report and incident again by the imported
    /// boundaries (after an import); prints how many moved.
    Backfill {
        /// Rows read per query (1–100000).
        #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(i64).range(1..=100_000))]
        batch: i64,
    },
}

#[derive(Subcommand)]
enum DemoCommand {
    /// Fill the database with a synthetic year of children, encounters and
    /// citizen, hotline and worker reports in large cities, with demo
    /// accounts per province and service centres. The same seed gives the
    /// same rows; running it again adds nothing. Refuses a database with
    /// children not made by the demo accounts unless `--force`.
    Seed {
        #[arg(long, default_value_t = 2000)]
        children: usize,
        #[arg(long, default_value_t = 20_000)]
        encounters: usize,
        #[arg(long, default_value_t = 4000)]
        reports: usize,
        #[arg(long, default_value_t = 1404)]
        seed: u64,
        /// Seed even if the database holds real children.
        #[arg(long)]
        force: bool,
    },
}

#[derive(Subcommand)]
enum IndicatorsCommand {
    /// Recompute every day's figures from `--from` (default: the first
    /// registration) to yesterday, replacing what was stored.
    Rebuild {
        /// First day, YYYY-MM-DD (Iran time).
        #[arg(long)]
        from: Option<String>,
    },
}

#[derive(Subcommand)]
enum AtlasCommand {
    /// Recompute every atlas rollup from the raw rows (encounters, reports,
    /// incidents), with a progress bar. Safe while the server runs.
    Rebuild,
    /// Replace the population table with a CSV of `county code,population`
    /// (a header line is skipped), for zoning rates per 10,000.
    Population { file: PathBuf },
    /// Run the emerging hot-spot analysis now (the server also runs it nightly).
    Hotspots {
        /// H3 resolution, 5–9.
        #[arg(long, default_value_t = 7, value_parser = clap::value_parser!(u8).range(5..=9))]
        res: u8,
    },
}

#[derive(Subcommand)]
enum ReportCommand {
    /// A province's quarter as one self-contained HTML page (Persian,
    /// Jalali dates, charts inline, no external resource).
    Quarterly {
        /// The province, IR-00 … IR-30.
        #[arg(long)]
        province: String,
        /// The Jalali quarter, e.g. 1405-Q2.
        #[arg(long)]
        quarter: String,
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Print the effective configuration, secrets redacted.
    Check,
}

fn parse_role(s: &str) -> Result<Role, String> {
    Role::parse(s).ok_or_else(|| {
        let names: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
        format!("unknown role; expected one of {}", names.join(", "))
    })
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    // The iris tools work on files only: no configuration, database or runtime.
    // A user error is one line without a stack trace (see iris::cli::main).
    if let Command::Iris(IrisCommand::Engine(cmd)) = cli.command {
        let failed = iris::cli::main(cmd) != std::process::ExitCode::SUCCESS;
        std::process::exit(i32::from(failed));
    }
    let bind = match &cli.command {
        Command::Serve { bind } => *bind,
        _ => None,
    };
    let overrides = Overrides {
        data_dir: cli.data_dir.clone(),
        bind,
        log_format: cli.log_format,
    };
    let config = Config::load(cli.config.as_deref(), &overrides)?;
    init_logging(config.log_format);
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(run(cli.command, config))
}

async fn run(command: Command, config: Config) -> anyhow::Result<()> {
    match command {
        Command::Serve { .. } => serve(config).await,
        Command::Migrate => {
            let db = Db::open(config.database_url.as_deref(), &config.data_dir).await?;
            db.migrate().await?;
            eprintln!("migrations applied");
            Ok(())
        }
        Command::User(cmd) => user(cmd, config).await,
        Command::Iris(IrisCommand::Reencode { all }) => {
            let (db, media) = open_storage(&config).await?;
            let done =
                kudakyar::biometrics::maintenance::reencode(&config, &db, &media, all).await?;
            eprintln!(
                "{} templates re-encoded, {} kept as they were",
                done.templates, done.kept
            );
            Ok(())
        }
        Command::Iris(IrisCommand::Engine(_)) => unreachable!("handled before the runtime starts"),
        Command::Keys(KeysCommand::Rotate) => {
            let (db, media) = open_storage(&config).await?;
            let done = kudakyar::biometrics::maintenance::rotate(&config, &db, &media).await?;
            eprintln!(
                "{} templates and {} captures re-sealed with key {}",
                done.templates, done.captures, done.new_key
            );
            if config.biometric_key.is_some() {
                eprintln!(
                    "Now set KUDAKYAR_BIOMETRIC_KEY to the value of KUDAKYAR_BIOMETRIC_KEY_NEXT, \
                     unset KUDAKYAR_BIOMETRIC_KEY_NEXT and restart the servers."
                );
            }
            Ok(())
        }
        Command::Sightings(SightingsCommand::Relocate { batch }) => {
            relocate_with(config, batch).await
        }
        Command::Geo(GeoCommand::Import {
            provinces,
            counties,
            builtin,
        }) => {
            let files = provinces.zip(counties);
            geo_import(config, files.as_ref().filter(|_| !builtin)).await
        }
        Command::Geo(GeoCommand::Backfill { batch }) => geo_backfill(config, batch).await,
        Command::Backup { out } => {
            use kudakyar::backup;
            let passphrase = backup::passphrase_from_env()?;
            let done = backup::backup(&config, &out, &passphrase).await?;
            eprintln!(
                "Backed up {} children, {} photos and {} iris templates ({} media objects{}) to {}",
                done.children,
                done.photos,
                done.iris_templates,
                done.media_objects,
                if done.key_included {
                    "; the biometric key sealed with the passphrase"
                } else {
                    "; no biometric key exists yet"
                },
                out.display()
            );
            Ok(())
        }
        Command::Restore { from } => {
            use kudakyar::backup;
            let passphrase = backup::passphrase_from_env()?;
            let done = backup::restore(&config, &from, &passphrase).await?;
            eprintln!(
                "Restored {} children, {} photos and {} iris templates ({} media objects) into {}",
                done.children,
                done.photos,
                done.iris_templates,
                done.media_objects,
                config.data_dir.display()
            );
            Ok(())
        }
        Command::Demo(DemoCommand::Seed {
            children,
            encounters,
            reports,
            seed,
            force,
        }) => {
            let options = kudakyar::demo::Options {
                children,
                encounters,
                reports,
                seed,
                until_ms: None,
                force,
            };
            demo_seed(config, &options).await
        }
        Command::Atlas(cmd) => atlas(config, cmd).await,
        Command::Export { kind, format, out } => export(config, kind, format, &out).await,
        Command::Indicators(IndicatorsCommand::Rebuild { from }) => {
            indicators_rebuild(config, from.as_deref()).await
        }
        Command::Report(ReportCommand::Quarterly {
            province,
            quarter,
            out,
        }) => report_quarterly(config, &province, &quarter, &out).await,
        Command::Config(ConfigCommand::Check) => {
            print!("{}", toml::to_string(&config.redacted())?);
            Ok(())
        }
    }
}

/// The database (migrated) and the object store, for maintenance commands.
async fn open_storage(config: &Config) -> anyhow::Result<(Db, kudakyar::media::Media)> {
    let db = Db::open(config.database_url.as_deref(), &config.data_dir).await?;
    db.migrate().await?;
    Ok((db, kudakyar::media::Media::open(config)?))
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(config.bind)
        .await
        .with_context(|| format!("binding {}", config.bind))?;
    let state = AppState::open(config.clone()).await?;
    if let Some(path) = users::bootstrap_admin(
        &state.db,
        &config.data_dir,
        config.admin_password.as_deref(),
    )
    .await?
    {
        eprintln!(
            "Created user `admin`; its password is in {} (readable only by you).",
            path.display()
        );
    }
    let addr = listener.local_addr()?;
    tracing::info!(%addr, backend = ?state.db.backend(), "listening");
    eprintln!("Kudakyar is serving at http://{addr}");
    app::serve(state, listener, app::shutdown_signal()).await
}

/// `kudakyar export`: the same stream as the HTTP export, with a progress bar,
/// written to a temporary file renamed into place at the end.
async fn export(
    config: Config,
    kind: exports::Kind,
    format: exports::Format,
    out: &std::path::Path,
) -> anyhow::Result<()> {
    use futures::StreamExt;
    use std::io::Write;
    let db = Db::open(config.database_url.as_deref(), &config.data_dir).await?;
    db.migrate().await?;
    let total = kind.count(&db, &Scope::National).await?;
    let bar = indicatif::ProgressBar::new(total as u64).with_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} rows, {eta} left")?,
    );
    let partial = out.with_extension("partial");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&partial)?);
    let export = exports::Export {
        kind,
        format,
        scope: Scope::National,
        batch_rows: config.export_batch_rows,
    };
    let mut chunks = Box::pin(exports::stream(db.clone(), export, |_| async {}));
    while let Some(chunk) = chunks.next().await {
        let chunk = chunk?;
        file.write_all(&chunk.bytes)?;
        bar.inc(chunk.rows);
    }
    file.into_inner()?.sync_all()?;
    std::fs::rename(&partial, out)?;
    bar.finish();
    audit::record(
        db.pool(),
        &Who::system(),
        &Origin::system(),
        audit::Event::new("export", "child", None).with_detail(
            serde_json::json!({"kind": format!("{kind:?}"), "out": out.display().to_string(),
                               "rows": bar.position(), "complete": true}),
        ),
    )
    .await?;
    eprintln!("exported {} rows to {}", bar.position(), out.display());
    db.close().await;
    Ok(())
}

/// `kudakyar sightings relocate`, with a progress bar.
async fn relocate_with(config: Config, batch: i64) -> anyhow::Result<()> {
    use kudakyar::sightings::relocate;
    let db = Db::open(config.database_url.as_deref(), &config.data_dir).await?;
    db.migrate().await?;
    let total = relocate::total(&db).await.map_err(describe)?;
    let bar = progress_bar(total, "reports and incidents")?;
    let moved = relocate::relocate(&db, batch, |n| bar.inc(n))
        .await
        .map_err(describe)?;
    bar.finish();
    eprintln!(
        "{} reports and {} incidents moved to another province or county",
        moved.sightings, moved.incidents
    );
    db.close().await;
    Ok(())
}

/// A progress bar counting `what`.
fn progress_bar(total: u64, what: &str) -> anyhow::Result<indicatif::ProgressBar> {
    Ok(
        indicatif::ProgressBar::new(total).with_style(indicatif::ProgressStyle::with_template(
            &format!("{{bar:40}} {{pos}}/{{len}} {what}, {{eta}} left"),
        )?),
    )
}

/// `kudakyar geo import`: read (the files, or the built-in outlines when
/// `files` is `None`), simplify (with a progress bar), store in one
/// transaction.
async fn geo_import(config: Config, files: Option<&(PathBuf, PathBuf)>) -> anyhow::Result<()> {
    use kudakyar::geo::{builtin, import};
    let db = Db::open(config.database_url.as_deref(), &config.data_dir).await?;
    db.migrate().await?;
    let started = std::time::Instant::now();
    let read = match files {
        Some((provinces, counties)) => import::read_all(provinces, counties),
        None => builtin::provinces(),
    }
    .map_err(describe)?;
    let bar = progress_bar(read.boundaries.len() as u64, "boundaries simplified")?;
    let prepared = import::prepare(read.boundaries, |n| bar.inc(n)).map_err(describe)?;
    bar.finish();
    let done = import::replace(&db, &prepared, read.skipped)
        .await
        .map_err(describe)?;
    eprintln!(
        "{} provinces and {} counties imported, {} features without tags or area skipped, in {:.1} s; \
         counties for display: {} KB of GeoJSON (full: {} KB)",
        done.provinces,
        done.counties,
        done.skipped,
        started.elapsed().as_secs_f64(),
        done.county_display_bytes / 1024,
        done.county_full_bytes / 1024,
    );
    eprintln!("Now run `kudakyar geo backfill` to place the stored records by these boundaries.");
    db.close().await;
    Ok(())
}

/// `kudakyar geo backfill`: encounters, then reports and incidents, with
/// progress bars.
async fn geo_backfill(config: Config, batch: i64) -> anyhow::Result<()> {
    use kudakyar::geo::backfill;
    let db = Db::open(config.database_url.as_deref(), &config.data_dir).await?;
    db.migrate().await?;
    if db.boundaries().await.map_err(describe)?.is_empty() {
        anyhow::bail!("no boundaries imported: run `kudakyar geo import` first");
    }
    let total = backfill::total(&db, &[backfill::ENCOUNTERS])
        .await
        .map_err(describe)?;
    let bar = progress_bar(total, "encounters")?;
    let moved = backfill::encounters(&db, batch, |n| bar.inc(n))
        .await
        .map_err(describe)?;
    bar.finish();
    eprintln!("{moved} encounters moved to another province or county");
    db.close().await;
    relocate_with(config, batch).await
}

/// `kudakyar demo seed`: a progress bar per stage, then the demo logins.
async fn demo_seed(config: Config, options: &kudakyar::demo::Options) -> anyhow::Result<()> {
    use kudakyar::demo::{self, Tick};
    let db = Db::open(config.database_url.as_deref(), &config.data_dir).await?;
    db.migrate().await?;
    let started = std::time::Instant::now();
    let mut bar: Option<indicatif::ProgressBar> = None;
    let mut failed_style = None;
    let seeded = demo::seed(&db, &config, options, &mut |tick: Tick| match tick {
        Tick::Stage(what, total) => {
            if let Some(done) = bar.take() {
                done.finish();
            }
            match progress_bar(total, what) {
                Ok(b) => bar = Some(b),
                Err(e) => failed_style = Some(e),
            }
        }
        Tick::Done(n) => {
            if let Some(b) = &bar {
                b.inc(n);
            }
        }
    })
    .await
    .map_err(describe)?;
    if let Some(done) = bar.take() {
        done.finish();
    }
    if let Some(e) = failed_style {
        return Err(e);
    }
    let (children, encounters, reports) = (seeded.children, seeded.encounters, seeded.reports);
    eprintln!(
        "demo data in {:.0} s: {} children, {} encounters, {} reports written \
         ({} children, {} encounters, {} reports were already there); {} centres created",
        started.elapsed().as_secs_f64(),
        children.0,
        encounters.0,
        reports.0,
        children.1,
        encounters.1,
        reports.1,
        seeded.centres,
    );
    if seeded.reports_refused > 0 {
        eprintln!(
            "{} reports refused: their point is outside the imported boundaries",
            seeded.reports_refused
        );
    }
    if seeded.unplaced_encounters > 0 {
        eprintln!(
            "{} encounters have no province: import boundaries (`kudakyar geo import`), then run \
             `kudakyar geo backfill`",
            seeded.unplaced_encounters
        );
    }
    println!("Demo logins (password for all: {}):", demo::DEMO_PASSWORD);
    for login in &seeded.logins {
        println!(
            "  {:<28} {:<18} {}",
            login.username,
            login.role.as_str(),
            login.province.as_deref().unwrap_or("(national)")
        );
    }
    db.close().await;
    Ok(())
}

/// `kudakyar indicators rebuild`, with a progress bar over the days.
async fn indicators_rebuild(config: Config, from: Option<&str>) -> anyhow::Result<()> {
    use kudakyar::indicators::{job, period};
    let (db, _) = open_storage(&config).await?;
    let from = match from {
        Some(s) => period::parse_day(s).context("--from must be a date YYYY-MM-DD")?,
        None => match job::first_day(&db).await.map_err(describe)? {
            Some(d) => d,
            None => {
                eprintln!("no child registered yet: nothing to compute");
                return Ok(());
            }
        },
    };
    let to = period::today() - time::Duration::days(1);
    let days = (to - from).whole_days().max(-1) + 1;
    let bar = progress_bar(days as u64, "days")?;
    let started = std::time::Instant::now();
    let done = job::rebuild(&db, from, to, |n| bar.inc(n))
        .await
        .map_err(describe)?;
    bar.finish();
    eprintln!(
        "{done} days of indicators recomputed in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    db.close().await;
    Ok(())
}

/// `kudakyar report quarterly`: written to a temporary file renamed into place.
async fn report_quarterly(
    config: Config,
    province: &str,
    quarter: &str,
    out: &std::path::Path,
) -> anyhow::Result<()> {
    use kudakyar::indicators::{period::Quarter, report};
    let quarter = Quarter::parse(quarter).context("--quarter must look like 1405-Q2 (Q1–Q4)")?;
    let (db, _) = open_storage(&config).await?;
    let html = report::quarterly(&db, province, quarter)
        .await
        .map_err(describe)?;
    let partial = out.with_extension("partial");
    std::fs::write(&partial, html)?;
    std::fs::rename(&partial, out)?;
    eprintln!("wrote {}", out.display());
    db.close().await;
    Ok(())
}

async fn user(cmd: UserCommand, config: Config) -> anyhow::Result<()> {
    let db = Db::open(config.database_url.as_deref(), &config.data_dir).await?;
    db.migrate().await?;
    match cmd {
        UserCommand::Add {
            username,
            role,
            province,
            county,
            display_name,
            password_stdin: _,
        } => {
            let mut password = String::new();
            std::io::stdin().lock().read_line(&mut password)?;
            let new = NewUser {
                username,
                password: password.trim_end_matches(['\r', '\n']).to_string(),
                display_name,
                role,
                province,
                county,
            };
            let user = users::create(&db, new, &Who::system(), &Origin::system())
                .await
                .map_err(describe)?;
            println!(
                "added {} ({}) id {}",
                user.username,
                user.role.as_str(),
                user.id
            );
        }
        UserCommand::List => {
            let everyone = UserVisibility {
                scope: Scope::National,
                roles: Role::ALL.to_vec(),
                province_wide_too: false,
            };
            let mut after: Option<String> = None;
            println!(
                "{:<24} {:<18} {:<8} {:<8} status",
                "username", "role", "province", "county"
            );
            loop {
                let page = users::store::list(&db, &everyone, after.as_deref(), 200).await?;
                for u in &page {
                    println!(
                        "{:<24} {:<18} {:<8} {:<8} {}",
                        u.username,
                        u.role.as_str(),
                        u.province.as_deref().unwrap_or("-"),
                        u.county.as_deref().unwrap_or("-"),
                        if u.disabled { "disabled" } else { "active" }
                    );
                }
                match page.last() {
                    Some(last) if page.len() == 200 => after = Some(last.username.clone()),
                    _ => break,
                }
            }
        }
        UserCommand::Disable { username } => {
            let user = users::store::find_by_username(&db, &username)
                .await?
                .with_context(|| format!("no user named {username}"))?;
            users::disable(&db, &user.user.id, &Who::system(), &Origin::system())
                .await
                .map_err(describe)?;
            println!("disabled {}", user.user.username);
        }
    }
    db.close().await;
    Ok(())
}

/// `kudakyar atlas …`.
async fn atlas(config: Config, cmd: AtlasCommand) -> anyhow::Result<()> {
    use kudakyar::atlas::{hotspots, periods, rollup, zones};
    let db = Db::open(config.database_url.as_deref(), &config.data_dir).await?;
    db.migrate().await?;
    match cmd {
        AtlasCommand::Rebuild => {
            let started = std::time::Instant::now();
            let total = rollup::subject_total(&db).await.map_err(describe)?;
            let bar = progress_bar(total, "children, reports and incidents")?;
            rollup::rebuild(&db, |n| bar.inc(n))
                .await
                .map_err(describe)?;
            bar.finish();
            eprintln!(
                "atlas rebuilt from {total} subjects in {:.1} s",
                started.elapsed().as_secs_f64()
            );
        }
        AtlasCommand::Population { file } => {
            let csv = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let n = zones::import_population(&db, &csv)
                .await
                .map_err(describe)?;
            eprintln!("population of {n} counties imported");
        }
        AtlasCommand::Hotspots { res } => {
            let today = periods::day_of(kudakyar::now_ms());
            let outcome = hotspots::run(&db, res, today, true)
                .await
                .map_err(describe)?;
            match outcome {
                hotspots::Outcome::Done {
                    cells,
                    weeks,
                    events,
                } => eprintln!(
                    "hot spots stored for {cells} cells at resolution {res} ({weeks} weeks, {events} events)"
                ),
                hotspots::Outcome::Refused(why) => eprintln!("not classified: {why}"),
                hotspots::Outcome::Skipped => {}
            }
        }
    }
    db.close().await;
    Ok(())
}

/// API errors as command-line messages, field by field.
fn describe(e: Error) -> anyhow::Error {
    match e {
        Error::Validation(fields) => {
            let lines: Vec<String> = fields
                .iter()
                .map(|(field, messages)| format!("  {field}: {}", messages.join("; ")))
                .collect();
            anyhow::anyhow!("invalid input:\n{}", lines.join("\n"))
        }
        other => anyhow::anyhow!("{other}"),
    }
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("KUDAKYAR_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn,tower_http=info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Pretty => builder.init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .init(),
    }
}
