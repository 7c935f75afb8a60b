//! `cargo xtask`: Lightning DB's own chores, in Rust, behind the `.cargo/config.toml` alias.
//!
//! Each subcommand lives in its own module and is one row of [`COMMANDS`]; a new chore (bench,
//! crash, fuzz, ...) is a new module and a new row. Arguments are parsed by hand: each command
//! gets the words after its name. Exit codes: 0 success, 1 a check or tool failed, 2 the command
//! line was wrong.
//!
//! xtask depends only on std and serde_json, and on no workspace crate, so it builds (and can
//! report on the workspace) even while a crate does not compile.

mod bench;
mod ci;
mod crash;
mod error;
mod layers;
mod metadata;
mod release;
mod shell;
mod tidy;

use std::path::Path;
use std::process::ExitCode;

use crate::error::{Error, Result};

/// One subcommand.
struct Command {
    name: &'static str,
    /// How to call it, for the help.
    usage: &'static str,
    /// One line for the help.
    summary: &'static str,
    run: fn(&Path, &[String]) -> Result,
}

const COMMANDS: &[Command] = &[
    Command {
        name: "ci",
        usage: "cargo xtask ci",
        summary: "run every CI check in order (fmt, clippy, nextest, doctests, layers, tidy)",
        run: |root, args| without_args("ci", args).and_then(|()| ci::run(root)),
    },
    Command {
        name: "layers",
        usage: "cargo xtask layers",
        summary: "check every lightning crate depends only on crates of a lower layer",
        run: |root, args| without_args("layers", args).and_then(|()| layers::run(root)),
    },
    Command {
        name: "tidy",
        usage: "cargo xtask tidy",
        summary: "check every .rs file: leading //! doc, size, no placeholders or ignored tests",
        run: |root, args| without_args("tidy", args).and_then(|()| tidy::run(root)),
    },
    Command {
        name: "release",
        usage: "cargo xtask release --dry-run",
        summary: "check crates.io metadata, print the publish order, package (never publishes)",
        run: release::run_command,
    },
    Command {
        name: "crash",
        usage: "cargo xtask crash [--cycles N] [--seeds N]",
        summary: "run the kill -9 and power-cut crash tests at scale (default 1000 each)",
        run: crash::run,
    },
    Command {
        name: "bench",
        usage: "cargo xtask bench [--quick] [--rocksdb] [--no-doc] [--scale F] [--runs N] [...]",
        summary: "side-by-side benchmark vs redb, LMDB, fjall, sled (RocksDB opt-in); updates docs/BENCHMARKS.md",
        run: bench::run,
    },
    Command {
        name: "help",
        usage: "cargo xtask help",
        summary: "print this list",
        run: |_, _| {
            print!("{}", help());
            Ok(())
        },
    },
];

fn without_args(command: &str, args: &[String]) -> Result {
    if args.is_empty() {
        Ok(())
    } else {
        Err(Error::usage(format!("{command}: unexpected arguments {args:?}")))
    }
}

fn help() -> String {
    let width = COMMANDS.iter().map(|command| command.usage.len()).max().unwrap_or(0);
    let mut text = String::from("Lightning DB's own chores.\n\nUsage:\n");
    for command in COMMANDS {
        text.push_str(&format!("  {:<width$}  {}\n", command.usage, command.summary));
    }
    text
}

fn find(name: &str) -> Option<&'static Command> {
    COMMANDS.iter().find(|command| command.name == name)
}

fn dispatch(args: &[String]) -> Result {
    let Some((name, rest)) = args.split_first() else {
        print!("{}", help());
        return Ok(());
    };
    if matches!(name.as_str(), "-h" | "--help") {
        print!("{}", help());
        return Ok(());
    }
    let command = find(name).ok_or_else(|| Error::usage(format!("unknown subcommand `{name}`")))?;
    if rest.iter().any(|arg| arg == "-h" || arg == "--help") {
        println!("usage: {}\n\n{}", command.usage, command.summary);
        return Ok(());
    }
    (command.run)(&shell::workspace_root(), rest)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match dispatch(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Error::Usage(message)) => {
            eprint!("error: {message}\n\n{}", help());
            ExitCode::from(2)
        }
        Err(Error::Failed(message)) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    //! The command table and the dispatcher's handling of bad command lines.

    use super::{COMMANDS, Error, dispatch, help};

    fn args(words: &[&str]) -> Vec<String> {
        words.iter().map(|&word| word.to_owned()).collect()
    }

    #[test]
    fn help_lists_every_command_once() {
        let help = help();
        for command in COMMANDS {
            assert_eq!(help.matches(command.usage).count(), 1, "{}", command.name);
            assert!(help.contains(command.summary));
        }
    }

    #[test]
    fn command_names_are_unique_and_match_their_usage() {
        for (index, command) in COMMANDS.iter().enumerate() {
            assert!(COMMANDS[..index].iter().all(|other| other.name != command.name));
            let prefix = format!("cargo xtask {}", command.name);
            assert!(command.usage.starts_with(&prefix), "{}", command.usage);
        }
    }

    #[test]
    fn an_unknown_subcommand_is_a_usage_error() {
        let result = dispatch(&args(&["frobnicate"]));
        assert!(matches!(result, Err(Error::Usage(ref m)) if m.contains("`frobnicate`")));
    }

    #[test]
    fn unexpected_arguments_are_usage_errors() {
        for words in [["layers", "--fix"], ["tidy", "src"], ["release", "--publish"]] {
            let result = dispatch(&args(&words));
            assert!(matches!(result, Err(Error::Usage(_))), "{words:?}");
        }
    }

    #[test]
    fn release_without_dry_run_refuses() {
        let result = dispatch(&args(&["release"]));
        assert!(matches!(result, Err(Error::Failed(ref m)) if m.contains("never publishes")));
    }

    #[test]
    fn help_and_no_arguments_succeed() {
        for words in [&[][..], &["help"], &["--help"], &["-h"], &["layers", "--help"]] {
            assert!(dispatch(&args(words)).is_ok(), "{words:?}");
        }
    }
}
