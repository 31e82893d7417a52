use super::{fail, open_engine, Cli, Exit, EXIT_UNAVAILABLE};
use clap::{Args, Subcommand};

#[derive(Args, Debug)]
pub struct CaArgs {
    #[command(subcommand)]
    pub command: CaCommand,
}

#[derive(Subcommand, Debug)]
pub enum CaCommand {
    /// Print the sandbox CA's signed CRL (PEM; `--der` for DER), listing every revoked serial
    Crl {
        /// DER instead of PEM
        #[arg(long)]
        der: bool,
        /// The SM2 hierarchy's CRL (signed SM2-with-SM3)
        #[arg(long)]
        sm2: bool,
    },
    /// Print the sandbox CA's issuing and root certificates (PEM), to verify what it issued
    Certs {
        /// The SM2 hierarchy instead of the international one
        #[arg(long)]
        sm2: bool,
    },
}

pub fn run(cli: &Cli, a: &CaArgs) -> Exit {
    let engine = match open_engine(cli, "cli ca", false) {
        Ok(e) => e,
        Err(code) => return code,
    };
    let out = match &a.command {
        CaCommand::Crl { der, sm2 } => match engine.sandbox_crl(standard(*sm2)) {
            Ok(crl) if *der => crl,
            Ok(crl) => crate::domain::pem::encode("X509 CRL", &crl).into_bytes(),
            Err(m) => return fail(false, EXIT_UNAVAILABLE, &m),
        },
        CaCommand::Certs { sm2 } => match engine.sandbox() {
            Ok(ca) => ca
                .certs(standard(*sm2))
                .iter()
                .map(|d| crate::domain::pem::encode("CERTIFICATE", d))
                .collect::<String>()
                .into_bytes(),
            Err(e) => return fail(false, EXIT_UNAVAILABLE, &e.to_string()),
        },
    };
    super::io::console().out(&out);
    0
}

fn standard(sm2: bool) -> crate::domain::model::Standard {
    if sm2 {
        crate::domain::model::Standard::Sm2
    } else {
        crate::domain::model::Standard::International
    }
}
