//! `cargo xtask bench [--quick] [--rocksdb] [--no-doc] [harness options]`: the side-by-side
//! benchmark of issue #8.
//!
//! Builds `lightning-benches` in release (with the opt-in `rocksdb` feature when asked), runs
//! it with the remaining options (`--quick`, `--scale`, `--runs`, `--engines`, `--workloads`,
//! ...; see `benches/README.md`), prints its markdown, and rewrites **only** the part of
//! `docs/BENCHMARKS.md` between [`BEGIN`] and [`END`] with the date, the exact command and the
//! harness's output (machine line, run line, table). `--no-doc` leaves the file alone.

use std::path::Path;
use std::process::Stdio;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use crate::{
    error::{Error, Result},
    shell,
};

/// The line before the generated section.
pub const BEGIN: &str = "<!-- bench:begin -->";
/// The line after the generated section.
pub const END: &str = "<!-- bench:end -->";
/// The document, relative to the workspace root.
const DOC: &str = "docs/BENCHMARKS.md";

/// The command line, split between xtask and the harness.
#[derive(Debug, PartialEq, Eq)]
struct Args {
    rocksdb: bool,
    write_doc: bool,
    harness: Vec<String>,
}

fn parse(args: &[String]) -> Args {
    let mut parsed = Args { rocksdb: false, write_doc: true, harness: Vec::new() };
    for arg in args {
        match arg.as_str() {
            "--rocksdb" => parsed.rocksdb = true,
            "--no-doc" => parsed.write_doc = false,
            _ => parsed.harness.push(arg.clone()),
        }
    }
    parsed
}

/// Runs the benchmark and updates the document.
pub fn run(root: &Path, args: &[String]) -> Result {
    let parsed = parse(args);
    let mut cargo_args = vec!["--release", "--locked", "-p", "lightning-benches"];
    if parsed.rocksdb {
        cargo_args.extend(["--features", "rocksdb"]);
    }
    let build_started = Instant::now();
    let mut build = shell::cargo(root, &["build"]);
    build.args(&cargo_args);
    shell::run(&mut build)?;
    let build_seconds = build_started.elapsed().as_secs_f64();

    let run_started = Instant::now();
    let mut bench = shell::cargo(root, &["run", "--quiet"]);
    bench.args(&cargo_args).arg("--").args(&parsed.harness);
    bench.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::inherit());
    let output = bench.output().map_err(|error| {
        Error::failed(format!("cannot run `{}`: {error}", shell::display(&bench)))
    })?;
    if !output.status.success() {
        return Err(Error::failed(format!(
            "`{}` failed ({})",
            shell::display(&bench),
            output.status
        )));
    }
    let markdown = String::from_utf8(output.stdout)
        .map_err(|_| Error::failed("the benchmark printed output that is not UTF-8"))?;
    let run_seconds = run_started.elapsed().as_secs_f64();
    println!("{markdown}");
    println!("xtask bench: build {build_seconds:.0} s, run {run_seconds:.0} s");

    if parsed.write_doc {
        let command = std::iter::once("cargo xtask bench".to_owned())
            .chain(args.iter().cloned())
            .collect::<Vec<_>>()
            .join(" ");
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let body = format!("Date: {} (UTC). Command: `{command}`.\n\n{markdown}", utc_date(now));
        let path = root.join(DOC);
        let doc = std::fs::read_to_string(&path)
            .map_err(|error| Error::failed(format!("{}: {error}", path.display())))?;
        std::fs::write(&path, rewrite_section(&doc, &body)?)?;
        println!("xtask bench: results written to {DOC}");
    }
    Ok(())
}

/// `doc` with everything between the [`BEGIN`] and [`END`] lines replaced by `body`; the rest
/// of the document, markers included, is untouched.
pub fn rewrite_section(doc: &str, body: &str) -> Result<String> {
    let missing = || {
        Error::failed(format!("{DOC} needs exactly one `{BEGIN}` and one `{END}`, in that order"))
    };
    if doc.matches(BEGIN).count() != 1 || doc.matches(END).count() != 1 {
        return Err(missing());
    }
    let begin = doc.find(BEGIN).ok_or_else(missing)? + BEGIN.len();
    let end = doc.find(END).ok_or_else(missing)?;
    if end < begin {
        return Err(missing());
    }
    Ok(format!("{}\n{}\n{}", &doc[..begin], body.trim(), &doc[end..]))
}

/// The UTC calendar date (`YYYY-MM-DD`) of a Unix time, by the days-to-civil algorithm
/// (proleptic Gregorian calendar; 400-year eras of 146,097 days).
pub fn utc_date(unix_seconds: u64) -> String {
    let days = unix_seconds / 86_400;
    let z = days + 719_468; // days since 0000-03-01
    let era = z / 146_097;
    let day_of_era = z % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 { month_from_march + 3 } else { month_from_march - 9 };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<String> {
        text.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn xtask_flags_are_taken_and_the_rest_goes_to_the_harness() {
        let parsed = parse(&words("--quick --rocksdb --engines redb,lightning --no-doc"));
        assert_eq!(
            parsed,
            Args {
                rocksdb: true,
                write_doc: false,
                harness: words("--quick --engines redb,lightning")
            }
        );
        assert_eq!(parse(&[]), Args { rocksdb: false, write_doc: true, harness: vec![] });
    }

    #[test]
    fn only_the_section_between_the_markers_is_replaced() {
        let doc = format!(
            "# Benchmarks\n\nintro\n\n## Side by side\n\n{BEGIN}\nold table\nold line\n{END}\n\n## Later\n\nkept\n"
        );
        let new = rewrite_section(&doc, "new table\n").unwrap();
        assert_eq!(
            new,
            format!(
                "# Benchmarks\n\nintro\n\n## Side by side\n\n{BEGIN}\nnew table\n{END}\n\n## Later\n\nkept\n"
            )
        );
        // Rewriting again replaces the previous results, not appends to them.
        assert_eq!(rewrite_section(&new, "newer").unwrap(), new.replace("new table", "newer"));
    }

    #[test]
    fn missing_duplicated_or_reversed_markers_are_errors() {
        for doc in [
            "no markers".to_owned(),
            format!("{BEGIN}\nonly the start\n"),
            format!("{END}\nreversed\n{BEGIN}\n"),
            format!("{BEGIN}\n{END}\n{BEGIN}\n{END}\n"),
        ] {
            assert!(rewrite_section(&doc, "x").is_err(), "{doc:?}");
        }
    }

    #[test]
    fn utc_dates() {
        assert_eq!(utc_date(0), "1970-01-01");
        assert_eq!(utc_date(951_782_400), "2000-02-29");
        assert_eq!(utc_date(1_798_675_200), "2026-12-31");
        assert_eq!(utc_date(4_102_444_799), "2099-12-31");
    }
}
