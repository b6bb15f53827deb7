//! A small command-line parser shared by the subcommands: `-x VALUE`, `-xVALUE`, `--long VALUE`,
//! `--long=VALUE`, boolean flags, positionals, and `--` to end options. Errors are [`UsageError`]s
//! whose message names the offending argument; the subcommand prints it with a pointer to
//! `--help` and exits with [`EXIT_USAGE`].

use std::collections::VecDeque;
use std::fmt;

/// Exit code for a command line that cannot be used (unknown flag, missing value, ...).
pub const EXIT_USAGE: u8 = 2;

/// A command line that cannot be used; the message says what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// One parsed argument.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Arg {
    /// An option as written without its attached value: `-b`, `--bootstrap-servers`.
    Flag(String),
    /// A positional argument (including `-`, which conventionally means stdin).
    Positional(String),
}

/// Iterator over a command line's arguments (without the program and subcommand names).
#[derive(Debug)]
pub struct Args {
    rest: VecDeque<String>,
    /// A value attached to the flag just returned (`--x=v`, `-xv`).
    attached: Option<String>,
    /// Set after `--`: everything else is positional.
    only_positionals: bool,
}

impl Args {
    /// Wraps the arguments that follow the subcommand name.
    pub fn new<I: IntoIterator<Item = String>>(args: I) -> Self {
        Args { rest: args.into_iter().collect(), attached: None, only_positionals: false }
    }

    /// The next argument. A value attached to the previous flag that was not consumed with
    /// [`Args::value`] is an error (the flag takes no value).
    pub fn next_arg(&mut self) -> Result<Option<Arg>, UsageError> {
        if let Some(v) = self.attached.take() {
            return Err(UsageError(format!("unexpected value `{v}`: this option takes no value")));
        }
        let Some(a) = self.rest.pop_front() else { return Ok(None) };
        if self.only_positionals || a == "-" || !a.starts_with('-') {
            return Ok(Some(Arg::Positional(a)));
        }
        if a == "--" {
            self.only_positionals = true;
            return self.next_arg();
        }
        if let Some(long) = a.strip_prefix("--") {
            return Ok(Some(match long.split_once('=') {
                Some((name, value)) => {
                    self.attached = Some(value.to_string());
                    Arg::Flag(format!("--{name}"))
                }
                None => Arg::Flag(a),
            }));
        }
        // Short option: `-b` or `-bVALUE` (the first character after `-` is the option).
        let mut chars = a.char_indices().skip(1);
        match chars.nth(1) {
            Some((at, _)) => {
                self.attached = Some(a.get(at..).unwrap_or_default().to_string());
                Ok(Some(Arg::Flag(a.get(..at).unwrap_or_default().to_string())))
            }
            None => Ok(Some(Arg::Flag(a))),
        }
    }

    /// The value of the flag just returned by [`Args::next_arg`]: attached or the next argument.
    pub fn value(&mut self, flag: &str) -> Result<String, UsageError> {
        if let Some(v) = self.attached.take() {
            return Ok(v);
        }
        self.rest.pop_front().ok_or_else(|| UsageError(format!("option `{flag}` needs a value")))
    }

    /// The value of the flag just returned, parsed as a number.
    pub fn number<T: std::str::FromStr>(&mut self, flag: &str) -> Result<T, UsageError> {
        let v = self.value(flag)?;
        v.trim()
            .replace('_', "")
            .parse::<T>()
            .map_err(|_| UsageError(format!("option `{flag}`: `{v}` is not a valid number")))
    }
}

/// The error for a flag a subcommand does not know.
pub fn unknown(flag: &str) -> UsageError {
    UsageError(format!("unknown option `{flag}`"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Args {
        Args::new(s.split_whitespace().map(String::from))
    }

    #[test]
    fn short_long_attached_and_positionals() {
        let mut a = args("-b h:1 -th --records=5 -X a=b - -- -k");
        assert_eq!(a.next_arg().unwrap(), Some(Arg::Flag("-b".into())));
        assert_eq!(a.value("-b").unwrap(), "h:1");
        assert_eq!(a.next_arg().unwrap(), Some(Arg::Flag("-t".into())));
        assert_eq!(a.value("-t").unwrap(), "h");
        assert_eq!(a.next_arg().unwrap(), Some(Arg::Flag("--records".into())));
        assert_eq!(a.number::<u64>("--records").unwrap(), 5);
        assert_eq!(a.next_arg().unwrap(), Some(Arg::Flag("-X".into())));
        assert_eq!(a.value("-X").unwrap(), "a=b");
        assert_eq!(a.next_arg().unwrap(), Some(Arg::Positional("-".into())));
        assert_eq!(a.next_arg().unwrap(), Some(Arg::Positional("-k".into())));
        assert_eq!(a.next_arg().unwrap(), None);
    }

    #[test]
    fn errors_name_the_argument() {
        let mut a = args("--help=yes");
        assert_eq!(a.next_arg().unwrap(), Some(Arg::Flag("--help".into())));
        assert!(a.next_arg().unwrap_err().0.contains("yes"));
        let mut a = args("-b");
        a.next_arg().unwrap();
        assert!(a.value("-b").unwrap_err().0.contains("-b"));
        let mut a = args("--records x");
        a.next_arg().unwrap();
        assert!(a.number::<u64>("--records").unwrap_err().0.contains("`x`"));
        let mut a = args("--records 1_000");
        a.next_arg().unwrap();
        assert_eq!(a.number::<u64>("--records").unwrap(), 1000);
    }
}
