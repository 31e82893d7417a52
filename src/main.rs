use certdeck::cli::{self, Cli};
use clap::Parser;

// glibc malloc spends most of a 100,000-certificate start-up freeing and consolidating small
// blocks; mimalloc halves open-to-first-frame (see benches/scale.rs).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let cli = Cli::parse();
    if let Err(e) = certdeck::config::load() {
        eprintln!("certdeck: configuration file {e}");
        std::process::exit(2);
    }
    let resolver = cli
        .resolver
        .or_else(|| cli.command.as_ref().and_then(cli::Command::resolver));
    if let Some(r) = resolver {
        // Read by the validation checks (validate/dns.rs), in the CLI and the TUI alike.
        std::env::set_var("CERTDECK_RESOLVER", r.to_string());
    }
    cli::crash::install_hook();
    let run = std::panic::AssertUnwindSafe(|| match &cli.command {
        Some(command) => cli::run_or_forward(&cli, command),
        None => certdeck::cli::tui::run(&cli),
    });
    let code = std::panic::catch_unwind(run).unwrap_or_else(|_| cli::crash::exit_code());
    std::process::exit(code);
}
