//! `cargo xtask crash [--cycles N] [--seeds N]`: the crash tests at scale.
//!
//! CI runs each crash test at a size that fits its time budget (a few dozen kill -9 cycles
//! and power cuts). The facade's suites run the whole database as it ships (maintenance thread,
//! checkpoints, keyspaces) over `FaultFs` and in a killed child process. This runs the same
//! tests, built with optimisations, as many times as asked: `--cycles` sets `LIGHTNING_CRASH_CYCLES` (kill -9 cycles per test) and `--seeds` sets
//! `LIGHTNING_CRASH_SEEDS` (random crash points per sweep).

use std::path::Path;

use crate::{
    error::{Error, Result},
    shell,
};

/// The crash tests: (package, test target).
const CRASH_TESTS: &[(&str, &str)] = &[
    ("lightning-wal", "wal_kill9"),
    ("lightning-wal", "wal_crash_sweep"),
    ("lightning-txn", "bank_kill9"),
    ("lightning-tests", "crash_facade_power_cut"),
    ("lightning-tests", "crash_facade_power_cut_concurrent"),
    ("lightning-tests", "crash_drop_keyspace_power_cut"),
    ("lightning-tests", "crash_facade_eventual_kill9"),
    ("lightning-tests", "crash_commit_durability_ignored"),
];

fn parse(args: &[String]) -> Result<(u64, u64)> {
    let (mut cycles, mut seeds) = (1000u64, 1000u64);
    let mut words = args.iter();
    while let Some(flag) = words.next() {
        let value = words
            .next()
            .and_then(|v| v.parse::<u64>().ok())
            .ok_or_else(|| Error::usage(format!("crash: {flag} needs a number")))?;
        match flag.as_str() {
            "--cycles" => cycles = value,
            "--seeds" => seeds = value,
            other => return Err(Error::usage(format!("crash: unknown option {other}"))),
        }
    }
    Ok((cycles, seeds))
}

/// Runs every crash test with the requested sizes.
pub fn run(root: &Path, args: &[String]) -> Result {
    let (cycles, seeds) = parse(args)?;
    println!("xtask crash: {cycles} kill -9 cycles, {seeds} random crash points per test");
    for (package, test) in CRASH_TESTS {
        let mut command =
            shell::cargo(root, &["test", "--release", "--locked", "-p", package, "--test", test]);
        command
            .env("LIGHTNING_CRASH_CYCLES", cycles.to_string())
            .env("LIGHTNING_CRASH_SEEDS", seeds.to_string());
        shell::run(&mut command)?;
    }
    println!("xtask crash: all crash tests passed");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sizes_and_rejects_nonsense() {
        assert_eq!(parse(&[]).unwrap(), (1000, 1000));
        let args: Vec<String> = ["--cycles", "5", "--seeds", "7"].map(String::from).to_vec();
        assert_eq!(parse(&args).unwrap(), (5, 7));
        assert!(parse(&["--cycles".to_string()]).is_err());
        assert!(parse(&["--bogus".to_string(), "1".to_string()]).is_err());
    }
}
