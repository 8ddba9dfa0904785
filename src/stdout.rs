//! Writing command output to stdout without panicking on a closed pipe.
//!
//! `println!` panics when stdout is a pipe whose reader has gone
//! (`bakeoff verify run/ | head`). Resetting SIGPIPE to its default would
//! avoid that but would also let a server resetting a connection kill the
//! load generator (hyper writes with writev, which raises SIGPIPE). So
//! command output goes through [`out!`](crate::out) and [`outln!`](crate::outln),
//! which stop writing once the reader is gone.

use std::fmt;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

static CLOSED: AtomicBool = AtomicBool::new(false);

/// Writes formatted text to stdout; after a broken pipe, writes nothing.
pub fn write(args: fmt::Arguments<'_>) {
    if CLOSED.load(Ordering::Relaxed) {
        return;
    }
    let mut out = std::io::stdout().lock();
    if let Err(err) = out.write_fmt(args).and_then(|()| out.flush()) {
        if err.kind() == std::io::ErrorKind::BrokenPipe {
            CLOSED.store(true, Ordering::Relaxed);
        }
    }
}

/// `print!` that tolerates a closed stdout.
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => { $crate::stdout::write(format_args!($($arg)*)) };
}

/// `println!` that tolerates a closed stdout.
#[macro_export]
macro_rules! outln {
    () => { $crate::stdout::write(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::stdout::write(format_args!("{}\n", format_args!($($arg)*))) };
}
