use super::{fail, open_engine, Cli, Exit, EXIT_UNAVAILABLE};
use clap::{Args, Subcommand};
use std::io::Write;

#[derive(Args, Debug)]
pub struct CaArgs {
    #[command(subcommand)]
    pub command: CaCommand,
}

#[derive(Subcommand, Debug)]
pub enum CaCommand {
    /// Print the sandbox CA's signed CRL (PEM; `--der` for DER), listing every revoked serial
    Crl {
        #[arg(long)]
        der: bool,
    },
    /// Print the sandbox CA's root and issuing certificates (PEM), to verify what it issued
    Certs,
}

pub fn run(cli: &Cli, a: &CaArgs) -> Exit {
    let engine = match open_engine(cli, "cli ca", false) {
        Ok(e) => e,
        Err(code) => return code,
    };
    let out = match &a.command {
        CaCommand::Crl { der } => match engine.sandbox_crl() {
            Ok(crl) if *der => crl,
            Ok(crl) => crate::domain::pem::encode("X509 CRL", &crl).into_bytes(),
            Err(m) => return fail(false, EXIT_UNAVAILABLE, &m),
        },
        CaCommand::Certs => match engine.sandbox() {
            Ok(ca) => [ca.issuing_der(), ca.root_der()]
                .iter()
                .map(|d| crate::domain::pem::encode("CERTIFICATE", d))
                .collect::<String>()
                .into_bytes(),
            Err(e) => return fail(false, EXIT_UNAVAILABLE, &e.to_string()),
        },
    };
    match std::io::stdout().lock().write_all(&out) {
        Ok(()) => 0,
        Err(e) => fail(false, EXIT_UNAVAILABLE, &format!("writing to stdout: {e}")),
    }
}
