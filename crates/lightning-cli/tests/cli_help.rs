//! `--help` through the built binary: the top level and `scan` are snapshotted; every command
//! has a help page naming its usage.

mod common;

use common::lightning;

fn help(args: &[&str]) -> String {
    let output = lightning().args(args).arg("--help").output().unwrap();
    assert!(output.status.success(), "{args:?} --help");
    assert!(output.stderr.is_empty());
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn top_level_help() {
    insta::assert_snapshot!("help", help(&[]));
}

#[test]
fn scan_help() {
    insta::assert_snapshot!("help_scan", help(&["scan"]));
}

#[test]
fn every_command_has_help() {
    for command in ["put", "get", "del", "scan", "stats", "check", "dump", "load", "bench"] {
        let text = help(&[command]);
        assert!(text.contains(&format!("Usage: lightning {command}")), "{command}: {text}");
        assert!(text.contains("Global options:"), "{command}");
    }
    let bench = help(&["bench"]);
    for workload in
        ["fillseq", "readwhilewriting", "--num", "--key-size", "--value-size", "--threads"]
    {
        assert!(bench.contains(workload), "bench --help names {workload}");
    }
}

#[test]
fn no_command_shows_the_help_and_fails() {
    let output = lightning().output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8(output.stderr).unwrap().contains("Usage: lightning [OPTIONS] <COMMAND>")
    );
}
