//! `certdeck completions SHELL` and `certdeck man`: generated from the command definitions, so
//! they always describe the commands this binary has. Neither opens the database.
use super::{Cli, Exit};
use clap::{Args, CommandFactory};

#[derive(Args, Debug)]
pub struct CompletionsArgs {
    /// bash, zsh, fish, elvish or powershell
    pub shell: clap_complete::Shell,
}

pub fn completions(a: &CompletionsArgs) -> Exit {
    let mut out = Vec::new();
    clap_complete::generate(a.shell, &mut Cli::command(), "certdeck", &mut out);
    crate::outln!("{}", String::from_utf8_lossy(&out).trim_end());
    0
}

pub fn man() -> Exit {
    let man = clap_mangen::Man::new(Cli::command());
    let mut out = Vec::new();
    // The commands are on this page (below), not on pages of their own.
    let rendered = man
        .render_title(&mut out)
        .and_then(|_| man.render_name_section(&mut out))
        .and_then(|_| man.render_synopsis_section(&mut out))
        .and_then(|_| man.render_description_section(&mut out))
        .and_then(|_| man.render_options_section(&mut out));
    if let Err(e) = rendered {
        crate::errln!("certdeck man: {e}");
        return super::EXIT_UNAVAILABLE;
    }
    let mut page = String::from_utf8_lossy(&out).into_owned();
    // One page for the whole tool: every command with its usage and options, as `--help` has them.
    page.push_str(".SH COMMANDS\n");
    let mut cli = Cli::command();
    cli.build();
    commands(&cli, "certdeck", &mut page);
    crate::outln!("{}", page.trim_end());
    0
}

/// Text made safe for roff: backslashes escaped, no line starting as a request.
fn roff(text: &str) -> String {
    text.replace('\\', "\\e")
        .lines()
        .map(|l| {
            if l.starts_with('.') || l.starts_with('\'') {
                format!("\\&{l}")
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn commands(cmd: &clap::Command, path: &str, page: &mut String) {
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        let name = format!("{path} {}", sub.get_name());
        if sub.has_subcommands() {
            commands(sub, &name, page);
            continue;
        }
        page.push_str(&format!(".SS \"{}\"\n", roff(&name)));
        if let Some(about) = sub.get_long_about().or(sub.get_about()) {
            page.push_str(&format!("{}\n", roff(&about.to_string())));
        }
        let usage = sub.clone().bin_name(&name).render_usage().to_string();
        let usage = usage.trim_start_matches("Usage: ");
        page.push_str(&format!(".PP\n\\fB{}\\fR\n", roff(usage)));
        // Global options are in OPTIONS above.
        for arg in sub
            .get_arguments()
            .filter(|a| !a.is_hide_set() && !a.is_global_set())
        {
            if arg.get_id() == "help" {
                continue;
            }
            let flag = match (arg.get_long(), arg.get_short()) {
                (Some(l), _) => format!("--{l}"),
                (None, Some(c)) => format!("-{c}"),
                (None, None) => arg.get_id().to_string().to_uppercase(),
            };
            let named = arg.get_long().is_some() || arg.get_short().is_some();
            let value = match arg.get_value_names() {
                Some(v) if named && arg.get_action().takes_values() => format!(" {}", v.join(" ")),
                _ => String::new(),
            };
            let help = arg
                .get_long_help()
                .or(arg.get_help())
                .map(|h| h.to_string())
                .unwrap_or_default();
            page.push_str(&format!(
                ".TP\n\\fB{}\\fR{}\n{}\n",
                roff(&flag),
                roff(&value),
                roff(&help)
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every option and argument of every command, with the path to it, that has no help line.
    fn undocumented(cmd: &clap::Command, path: &str, out: &mut Vec<String>) {
        for arg in cmd.get_arguments().filter(|a| !a.is_hide_set()) {
            let id = arg.get_id().as_str();
            if id == "help" || id == "version" {
                continue;
            }
            if arg.get_help().is_none() && arg.get_long_help().is_none() {
                out.push(format!("{path} {id}"));
            }
        }
        for sub in cmd.get_subcommands() {
            undocumented(sub, &format!("{path} {}", sub.get_name()), out);
        }
    }

    #[test]
    fn every_option_and_argument_has_a_help_line() {
        let mut cmd = Cli::command();
        cmd.build();
        let mut missing = Vec::new();
        undocumented(&cmd, "certdeck", &mut missing);
        assert!(
            missing.is_empty(),
            "{} without help:\n{}",
            missing.len(),
            missing.join("\n")
        );
    }

    #[test]
    fn resolver_is_offered_only_where_names_are_looked_up_in_dns() {
        let mut cmd = Cli::command();
        cmd.build();
        let takes: Vec<String> = cmd
            .get_subcommands()
            .filter(|c| c.get_arguments().any(|a| a.get_id() == "resolver"))
            .map(|c| c.get_name().to_string())
            .collect();
        assert_eq!(takes, ["tick", "serve", "apply", "renew", "validate"]);
        // The TUI (no subcommand) checks validations too.
        assert!(cmd.get_arguments().any(|a| a.get_id() == "resolver"));
    }
}
