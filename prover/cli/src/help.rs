//! `zkpolicy --help`: the commands grouped by who runs them, as forge and ripgrep group
//! theirs. Clap lists subcommands in one flat block, so the top-level help template is
//! written here from each command's own one-line description.

use clap::{Command, CommandFactory};

use crate::Cli;

/// Every command, once, under the audience that runs it (a test holds this to the parser).
pub const GROUPS: [(&str, &[&str]); 5] = [
    (
        "Proving (ML engineers, operators, auditors)",
        &["demo", "setup", "keygen", "prove", "verify", "salt", "inspect", "export-vk", "gen-verifier"],
    ),
    ("Chain (protocol engineers, operators)", &["deploy", "commit-kpis", "submit", "execute", "status", "audit", "export-contracts"]),
    ("Economy (the reference token economy)", &["tick", "snapshot", "submit-holders", "live"]),
    ("Lab (policies before they are proven)", &["train", "import", "backtest", "bench"]),
    ("Operations (operators, governance)", &["keeper", "govern", "pause", "unpause"]),
];

/// The parser, with the grouped command list as its help.
pub fn command() -> Command {
    let command = Cli::command();
    let width = GROUPS.iter().flat_map(|(_, names)| names.iter()).map(|n| n.len()).max().unwrap_or(0) + 2;
    let mut list = String::new();
    for (heading, names) in GROUPS {
        list.push_str(&format!("\n{heading}:\n"));
        for name in names {
            let about = command.find_subcommand(name).and_then(|c| c.get_about()).map(|a| a.to_string()).unwrap_or_default();
            list.push_str(&format!("  {name:<width$}{}\n", wrap(&about, width + 2)));
        }
    }
    list.push_str(&format!("\n  {:<width$}Print this message or the help of the given command\n", "help"));
    let template = format!(
        "{{before-help}}{{about-with-newline}}\n{{usage-heading}} {{usage}}\n\nCommands:\n{list}\nOptions:\n{{options}}{{after-help}}"
    );
    command.help_template(template)
}

/// `text` on lines of at most 100 columns, the continuation lines indented by `indent`.
fn wrap(text: &str, indent: usize) -> String {
    let mut out = String::new();
    let mut column = indent;
    for word in text.split_whitespace() {
        if column > indent && column + 1 + word.len() > 100 {
            out.push('\n');
            out.push_str(&" ".repeat(indent));
            column = indent;
        } else if column > indent {
            out.push(' ');
            column += 1;
        }
        out.push_str(word);
        column += word.len();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_is_in_exactly_one_group() {
        let mut grouped: Vec<&str> = GROUPS.iter().flat_map(|(_, names)| names.iter().copied()).collect();
        grouped.sort_unstable();
        let mut parsed: Vec<String> = Cli::command().get_subcommands().map(|c| c.get_name().to_string()).collect();
        parsed.sort_unstable();
        assert_eq!(grouped, parsed, "a command is missing from GROUPS, named twice, or named but not parsed");
    }

    #[test]
    fn the_help_lists_each_group_with_its_commands() {
        let help = command().render_help().to_string();
        for (heading, names) in GROUPS {
            let start = help.find(&format!("{heading}:")).unwrap_or_else(|| panic!("{heading} missing:\n{help}"));
            let block = help[start..].split("\n\n").next().unwrap_or_default();
            for name in names {
                assert!(block.lines().any(|l| l.trim_start().starts_with(&format!("{name} "))), "{name} not under {heading}:\n{help}");
            }
        }
        assert!(help.contains("Options:") && help.contains("--version"), "{help}");
    }
}
