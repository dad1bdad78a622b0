//! Printing that survives a reader who has gone: `zkpolicy inspect | head -1`.
//!
//! Rust ignores SIGPIPE, so a write to a pipe whose reader exited fails with `BrokenPipe`,
//! and `std`'s `println!` turns that failure into a panic (exit 101 and a panic message).
//! The macros below shadow `print!`, `println!`, `eprint!` and `eprintln!` in every module
//! of the CLI (they are declared before the subcommands' modules, so each `println!` there
//! is this one), and do what a shell expects of a command nobody reads any more:
//!
//! - stdout's reader gone: the process ends at once and quietly, as if killed by SIGPIPE
//!   (status 141 in a shell), as `cat` and `seq` do. Artifacts are only ever written whole
//!   (`fsutil::write_atomic`), so stopping between two lines leaves no partial one.
//! - stdout failing otherwise (a full disk under `> file`): one line on stderr, exit 2.
//! - stderr failing: the diagnostic is dropped; the exit code still tells the outcome.
//!
//! SIGPIPE itself stays ignored: sockets and child processes' pipes keep reporting a
//! closed peer as an error the code handles, instead of killing the process.

use std::io::Write;

macro_rules! print {
    ($($arg:tt)*) => { $crate::stdout::out(format_args!($($arg)*)) };
}

macro_rules! println {
    () => { $crate::stdout::out(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::stdout::out(format_args!("{}\n", format_args!($($arg)*))) };
}

#[allow(unused_macros)] // none yet; here so that one added later cannot panic either
macro_rules! eprint {
    ($($arg:tt)*) => { $crate::stdout::err(format_args!($($arg)*)) };
}

macro_rules! eprintln {
    () => { $crate::stdout::err(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::stdout::err(format_args!("{}\n", format_args!($($arg)*))) };
}

/// Writes to stdout; see the module docs for what a failure does.
pub fn out(text: std::fmt::Arguments<'_>) {
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout.write_fmt(text) {
        stdout_failed(e);
    }
}

/// Writes to stderr, dropping the text if stderr cannot take it.
pub fn err(text: std::fmt::Arguments<'_>) {
    let _ = std::io::stderr().lock().write_fmt(text);
}

fn stdout_failed(e: std::io::Error) -> ! {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        // The default action of SIGPIPE (terminate), as if it had not been ignored.
        let _ = signal_hook::low_level::emulate_default_handler(signal_hook::consts::SIGPIPE);
        std::process::exit(128 + signal_hook::consts::SIGPIPE);
    }
    err(format_args!("error: cannot write to stdout: {e}\n"));
    std::process::exit(i32::from(super::EXIT_INPUT));
}
