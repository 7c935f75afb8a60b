//! `cargo xtask ci`: everything CI checks, in order, locally. Stops at the first failure.
//!
//! Each step gets a banner; the end is a summary with each step's wall time, then exactly one
//! final line: `xtask ci: all N steps passed`, or one naming the step that failed.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::{layers, shell, tidy};

/// What a step does.
enum Action {
    /// `cargo <args>` in the workspace root.
    Cargo(&'static [&'static str]),
    /// An xtask check run in this process.
    Internal(fn(&Path) -> Result),
}

struct Step {
    name: &'static str,
    /// Run before the action; an error here fails the step without running it.
    preflight: Option<fn(&Path) -> Result>,
    action: Action,
}

/// The steps, in order. `--workspace` everywhere: the workspace's `default-members` leaves out
/// xtask and the benchmarks. Clippy and nextest exclude `lightning-benches`: it builds every
/// peer database (LMDB's C among them), which CI does not need to pay for on every run;
/// `cargo xtask bench` builds it.
const STEPS: &[Step] = &[
    Step {
        name: "cargo fmt --all -- --check",
        preflight: None,
        action: Action::Cargo(&["fmt", "--all", "--", "--check"]),
    },
    Step {
        name: "cargo clippy --workspace --exclude lightning-benches --all-targets --locked -- -D warnings",
        preflight: None,
        action: Action::Cargo(&[
            "clippy",
            "--workspace",
            "--exclude",
            "lightning-benches",
            "--all-targets",
            "--locked",
            "--",
            "-D",
            "warnings",
        ]),
    },
    Step {
        name: "cargo nextest run --workspace --exclude lightning-benches --locked --profile ci",
        preflight: Some(require_nextest),
        action: Action::Cargo(&[
            "nextest",
            "run",
            "--workspace",
            "--exclude",
            "lightning-benches",
            "--locked",
            "--profile",
            "ci",
        ]),
    },
    Step {
        name: "cargo test --workspace --doc --locked",
        preflight: None,
        action: Action::Cargo(&["test", "--workspace", "--doc", "--locked"]),
    },
    Step { name: "xtask layers", preflight: None, action: Action::Internal(layers::run) },
    Step { name: "xtask tidy", preflight: None, action: Action::Internal(tidy::run) },
];

fn require_nextest(root: &Path) -> Result {
    let installed = shell::cargo(root, &["nextest", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if installed {
        Ok(())
    } else {
        Err(Error::failed(
            "cargo-nextest is not installed: install it with \
             `cargo install cargo-nextest --locked`",
        ))
    }
}

fn run_step(root: &Path, step: &Step) -> Result {
    if let Some(preflight) = step.preflight {
        preflight(root)?;
    }
    match step.action {
        Action::Cargo(args) => shell::run(&mut shell::cargo(root, args)),
        Action::Internal(check) => check(root),
    }
}

/// How one step ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Passed(Duration),
    Failed(Duration),
    NotRun,
}

/// `cargo xtask ci`
pub fn run(root: &Path) -> Result {
    let total = STEPS.len();
    let mut outcomes = vec![Outcome::NotRun; total];
    let mut failure = None;
    let started = Instant::now();
    for (index, step) in STEPS.iter().enumerate() {
        println!("\n==> xtask ci [{}/{total}] {}", index + 1, step.name);
        let step_started = Instant::now();
        let result = run_step(root, step);
        let elapsed = step_started.elapsed();
        if let Err(error) = result {
            eprintln!("ci: {error}");
            outcomes[index] = Outcome::Failed(elapsed);
            failure = Some(index);
            break;
        }
        outcomes[index] = Outcome::Passed(elapsed);
    }

    println!("\nxtask ci summary:");
    for (step, outcome) in STEPS.iter().zip(&outcomes) {
        let (status, time) = match outcome {
            Outcome::Passed(time) => ("ok", format_duration(*time)),
            Outcome::Failed(time) => ("FAILED", format_duration(*time)),
            Outcome::NotRun => ("not run", String::new()),
        };
        println!("  {status:<8}{time:>9}  {}", step.name);
    }
    println!("  total   {:>9}", format_duration(started.elapsed()));

    match failure {
        None => {
            println!("xtask ci: all {total} steps passed");
            Ok(())
        }
        Some(index) => Err(Error::failed(format!(
            "xtask ci: step {}/{total} failed: {}",
            index + 1,
            STEPS[index].name
        ))),
    }
}

fn format_duration(duration: Duration) -> String {
    format!("{:.1}s", duration.as_secs_f64())
}

#[cfg(test)]
mod tests {
    //! The step list is the contract with CI: pin its shape.

    use super::{Action, STEPS, format_duration};
    use std::time::Duration;

    #[test]
    fn steps_run_in_the_documented_order_over_the_whole_workspace() {
        let names: Vec<&str> = STEPS.iter().map(|step| step.name).collect();
        assert_eq!(names.len(), 6);
        assert!(names[0].starts_with("cargo fmt"));
        assert!(names[1].starts_with("cargo clippy"));
        assert!(names[2].starts_with("cargo nextest"));
        assert!(names[3].starts_with("cargo test"));
        assert_eq!(names[4..], ["xtask layers", "xtask tidy"]);
        for step in STEPS {
            if let Action::Cargo(args) = step.action {
                assert_eq!(step.name, format!("cargo {}", args.join(" ")));
                let builds = !matches!(args.first(), Some(&"fmt"));
                assert!(!builds || args.contains(&"--workspace"), "{}", step.name);
                assert!(!builds || args.contains(&"--locked"), "{}", step.name);
            }
        }
    }

    #[test]
    fn only_nextest_has_a_preflight() {
        let with_preflight: Vec<&str> =
            STEPS.iter().filter(|step| step.preflight.is_some()).map(|step| step.name).collect();
        assert_eq!(
            with_preflight,
            ["cargo nextest run --workspace --exclude lightning-benches --locked --profile ci"]
        );
    }

    #[test]
    fn durations_print_with_one_decimal() {
        assert_eq!(format_duration(Duration::from_millis(12_345)), "12.3s");
        assert_eq!(format_duration(Duration::ZERO), "0.0s");
    }
}
