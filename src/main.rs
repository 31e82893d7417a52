use certdeck::cli::{self, Cli};
use clap::Parser;

// glibc malloc spends most of a 100,000-certificate start-up freeing and consolidating small
// blocks; mimalloc halves open-to-first-frame (see benches/scale.rs).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let cli = Cli::parse();
    if let Some(r) = cli.resolver {
        // Read by the validation checks (validate/dns.rs), in the CLI and the TUI alike.
        std::env::set_var("CERTDECK_RESOLVER", r.to_string());
    }
    let code = match &cli.command {
        Some(command) => cli::run(&cli, command),
        None => certdeck::cli::tui::run(&cli),
    };
    std::process::exit(code);
}
