//! Running tools: where the workspace is, which `cargo` to call, and spawning commands with
//! errors that name the command that failed.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::error::{Error, Result};

/// The workspace root: the parent of this crate's directory, wherever the command is run from.
pub fn workspace_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir.parent().map_or_else(|| manifest_dir.to_path_buf(), Path::to_path_buf)
}

/// A `cargo` command run in `root`: the cargo that runs us (`$CARGO`), so the toolchain pinned
/// by `rust-toolchain.toml` is the one used throughout.
pub fn cargo(root: &Path, args: &[&str]) -> Command {
    let program = std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
    let mut command = Command::new(program);
    command.args(args).current_dir(root);
    command
}

/// The command as a human would type it, for banners and error messages.
pub fn display(command: &Command) -> String {
    let program = Path::new(command.get_program())
        .file_name()
        .unwrap_or(command.get_program())
        .to_string_lossy()
        .into_owned();
    let mut text = program;
    for arg in command.get_args() {
        text.push(' ');
        text.push_str(&arg.to_string_lossy());
    }
    text
}

/// Runs `command` with the terminal attached; a non-zero exit is an error naming the command.
pub fn run(command: &mut Command) -> Result {
    let status = command
        .status()
        .map_err(|error| Error::failed(format!("cannot run `{}`: {error}", display(command))))?;
    if status.success() {
        Ok(())
    } else {
        Err(Error::failed(format!("`{}` failed ({status})", display(command))))
    }
}

/// Runs `command` and returns its standard output; on failure the error carries its stderr.
pub fn capture(command: &mut Command) -> Result<String> {
    let output = command
        .stdin(Stdio::null())
        .output()
        .map_err(|error| Error::failed(format!("cannot run `{}`: {error}", display(command))))?;
    if !output.status.success() {
        return Err(Error::failed(format!(
            "`{}` failed ({}):\n{}",
            display(command),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim_end()
        )));
    }
    String::from_utf8(output.stdout).map_err(|_| {
        Error::failed(format!("`{}` printed output that is not UTF-8", display(command)))
    })
}
