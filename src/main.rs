use certdeck::cli::{self, Cli};
use clap::Parser;

fn main() {
    let cli = Cli::parse();
    let code = match &cli.command {
        Some(command) => cli::run(&cli, command),
        None => certdeck::cli::tui::run(&cli),
    };
    std::process::exit(code);
}
