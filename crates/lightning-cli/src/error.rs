//! The tool's errors: each becomes ONE line `lightning: error: ...` on stderr and an exit
//! status (2 for usage mistakes, 1 for everything else). A closed pipe on stdout
//! (`lightning scan | head`) is not an error: the tool stops quietly.

use std::{fmt, io, process::ExitCode};

/// Why a command failed.
#[derive(Debug)]
pub enum CliError {
    /// The command line is wrong (exit status 2, like clap's own usage errors).
    Usage(String),
    /// The command could not do its job (exit status 1).
    Runtime(String),
    /// Stdout was closed by the reader; stop without a message (exit status 0).
    BrokenPipe,
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::Usage(what) | CliError::Runtime(what) => f.write_str(what),
            CliError::BrokenPipe => f.write_str("output closed"),
        }
    }
}

impl CliError {
    /// A runtime error with `context` in front of an I/O error (a broken pipe stays one).
    pub fn io(context: impl fmt::Display, e: io::Error) -> CliError {
        if e.kind() == io::ErrorKind::BrokenPipe {
            CliError::BrokenPipe
        } else {
            CliError::Runtime(format!("{context}: {e}"))
        }
    }

    /// Prints the error line (if any) and returns the exit status.
    pub fn report(&self) -> ExitCode {
        let code = match self {
            CliError::Usage(_) => 2,
            CliError::Runtime(_) => 1,
            CliError::BrokenPipe => return ExitCode::SUCCESS,
        };
        // Keep it one line whatever the message holds.
        let line = self.to_string().replace('\n', " ");
        eprintln!("lightning: error: {line}");
        ExitCode::from(code)
    }
}

impl From<lightning_db::Error> for CliError {
    fn from(e: lightning_db::Error) -> Self {
        match e {
            lightning_db::Error::EngineMismatch { path, found, .. } => CliError::Runtime(format!(
                "{} was created with the {} engine; run with --engine {}",
                path.display(),
                found.name(),
                found.name()
            )),
            other => CliError::Runtime(other.to_string()),
        }
    }
}

/// Standard-output errors: the only expected one is a closed pipe.
impl From<io::Error> for CliError {
    fn from(e: io::Error) -> Self {
        CliError::io("writing to standard output", e)
    }
}

/// Folds clap's rendered usage error (message, details, tips, usage line, "for more
/// information" line) into one line for [`CliError::Usage`].
pub fn usage_line(rendered: &str) -> String {
    let mut message = String::new();
    let mut usage = None;
    for line in rendered.lines().map(str::trim).filter(|line| !line.is_empty()) {
        if let Some(first) = line.strip_prefix("error: ") {
            message.push_str(first);
        } else if let Some(text) = line.strip_prefix("Usage: ") {
            usage = Some(text);
        } else if !line.starts_with("For more information") {
            if !message.is_empty() {
                message.push(if message.ends_with(':') { ' ' } else { ';' });
                if !message.ends_with(' ') {
                    message.push(' ');
                }
            }
            message.push_str(line);
        }
    }
    if let Some(usage) = usage {
        let command: Vec<&str> =
            usage.split(' ').take_while(|word| !word.starts_with(['[', '<', '-'])).collect();
        message.push_str(&format!(" (usage: {usage}; see `{} --help`)", command.join(" ")));
    }
    message
}

/// The result of a command.
pub type CliResult<T = ()> = Result<T, CliError>;

#[cfg(test)]
mod tests {
    use super::usage_line;

    #[test]
    fn clap_errors_fold_into_one_line() {
        let rendered = "error: unexpected argument '--prefx' found\n\n  tip: a similar argument \
                        exists: '--prefix'\n\nUsage: lightning scan --prefix <P>\n\nFor more \
                        information, try '--help'.\n";
        assert_eq!(
            usage_line(rendered),
            "unexpected argument '--prefx' found; tip: a similar argument exists: '--prefix' \
             (usage: lightning scan --prefix <P>; see `lightning scan --help`)"
        );
        let missing = "error: the following required arguments were not provided:\n  <VALUE>\n\n\
                       Usage: lightning put <KEY> <VALUE>\n";
        assert_eq!(
            usage_line(missing),
            "the following required arguments were not provided: <VALUE> (usage: lightning put \
             <KEY> <VALUE>; see `lightning put --help`)"
        );
        assert_eq!(usage_line("error: bad\n"), "bad");
    }
}
