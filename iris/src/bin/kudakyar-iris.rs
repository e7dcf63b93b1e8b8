//! Development binary: `kudakyar-iris <subcommand>`, the same subcommands the
//! server binary exposes as `kudakyar iris …`.

use clap::Parser;

#[derive(Parser)]
#[command(name = "kudakyar-iris", about = "Kudakyar iris engine")]
struct Args {
    #[command(subcommand)]
    cmd: iris::cli::IrisCommand,
}

fn main() -> std::process::ExitCode {
    iris::cli::main(Args::parse().cmd)
}
