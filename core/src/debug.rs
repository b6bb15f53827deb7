//! Debug contexts: which diagnostics a producer or the in-memory broker emits, chosen with the
//! `debug` setting as librdkafka's `debug=broker,msg,...` (a comma-separated list of context
//! names, or `all`).
//!
//! A context that is off costs one test of a bit in a mask where a diagnostic would be made:
//! nothing is allocated or formatted for it.

use core::fmt;

/// One kind of diagnostic, named as librdkafka's debug contexts where one fits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DebugContext {
    /// `broker`: connections: connecting, connected, the ApiVersions outcome, closed and why
    /// (including request timeouts).
    Broker,
    /// `metadata`: partition counts learned, leaders moving, topic errors (an unknown topic).
    Metadata,
    /// `msg`: batches: every retry with its reason and attempt number, splits, batches given up.
    Msg,
    /// `eos`: idempotence: producer ids and epochs and why they change, batches whose outcome
    /// became unknown (possibly persisted) and why.
    Eos,
    /// `protocol`: every request sent and every response received, with its latency.
    Protocol,
}

impl DebugContext {
    /// Every context, in the order [`DebugContexts`] lists them.
    pub const ALL: [DebugContext; 5] =
        [DebugContext::Broker, DebugContext::Metadata, DebugContext::Msg, DebugContext::Eos, DebugContext::Protocol];

    /// Its name in the `debug` setting (`broker`, `metadata`, `msg`, `eos`, `protocol`).
    pub const fn name(self) -> &'static str {
        match self {
            DebugContext::Broker => "broker",
            DebugContext::Metadata => "metadata",
            DebugContext::Msg => "msg",
            DebugContext::Eos => "eos",
            DebugContext::Protocol => "protocol",
        }
    }

    /// The `log` crate target the runtimes use for it: `idem::` and its name (`idem::broker`).
    pub const fn target(self) -> &'static str {
        match self {
            DebugContext::Broker => "idem::broker",
            DebugContext::Metadata => "idem::metadata",
            DebugContext::Msg => "idem::msg",
            DebugContext::Eos => "idem::eos",
            DebugContext::Protocol => "idem::protocol",
        }
    }

    /// The context named `name`, if any (`all` is not one context: see [`DebugContexts::parse`]).
    pub fn from_name(name: &str) -> Option<DebugContext> {
        DebugContext::ALL.into_iter().find(|c| c.name() == name)
    }

    const fn bit(self) -> u8 {
        1 << self as u8
    }
}

impl fmt::Display for DebugContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A set of [`DebugContext`]s (a bit mask): the value of the `debug` setting. Empty by default.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct DebugContexts(u8);

/// What [`DebugContexts::parse`] accepts, for error messages.
pub const DEBUG_CONTEXTS_EXPECTED: &str = "a comma-separated list of broker, metadata, msg, eos, protocol, or all";

impl DebugContexts {
    /// No context: no diagnostics (the default).
    pub const NONE: DebugContexts = DebugContexts(0);
    /// Every context (`debug=all`).
    pub const ALL: DebugContexts = DebugContexts((1 << DebugContext::ALL.len()) - 1);

    /// Whether `context` is on. One bit test: call it before building a diagnostic.
    #[inline]
    pub const fn contains(self, context: DebugContext) -> bool {
        self.0 & context.bit() != 0
    }

    /// This set and `context`.
    pub const fn with(self, context: DebugContext) -> DebugContexts {
        DebugContexts(self.0 | context.bit())
    }

    /// Whether no context is on.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The contexts on, in [`DebugContext::ALL`] order.
    pub fn iter(self) -> impl Iterator<Item = DebugContext> {
        DebugContext::ALL.into_iter().filter(move |c| self.contains(*c))
    }

    /// Parses librdkafka's form: context names separated by commas (spaces around them are
    /// ignored), `all` for every context, empty for none. Names the first unknown item.
    pub fn parse(value: &str) -> Result<DebugContexts, &str> {
        let mut set = DebugContexts::NONE;
        for item in value.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            set = match (item, DebugContext::from_name(item)) {
                ("all", _) => DebugContexts::ALL,
                (_, Some(c)) => set.with(c),
                (_, None) => return Err(item),
            };
        }
        Ok(set)
    }
}

impl fmt::Display for DebugContexts {
    /// The setting's value: `all`, or the names joined by commas (empty for none).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if *self == DebugContexts::ALL {
            return f.write_str("all");
        }
        for (i, c) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            f.write_str(c.name())?;
        }
        Ok(())
    }
}

impl fmt::Debug for DebugContexts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DebugContexts({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn parses_librdkafka_lists() {
        let d = DebugContexts::parse("broker, msg").unwrap();
        assert!(d.contains(DebugContext::Broker) && d.contains(DebugContext::Msg));
        assert!(!d.contains(DebugContext::Eos) && !d.contains(DebugContext::Metadata));
        assert_eq!(d.to_string(), "broker,msg");
        assert_eq!(DebugContexts::parse("all").unwrap(), DebugContexts::ALL);
        assert_eq!(DebugContexts::parse("eos,all").unwrap().to_string(), "all");
        assert_eq!(DebugContexts::parse("").unwrap(), DebugContexts::NONE);
        assert!(DebugContexts::NONE.is_empty() && DebugContexts::default().is_empty());
        assert_eq!(DebugContexts::parse("msg,cgrp"), Err("cgrp"));
        for c in DebugContext::ALL {
            assert_eq!(DebugContext::from_name(c.name()), Some(c));
            assert!(c.target().ends_with(c.name()));
            assert!(DebugContexts::ALL.contains(c));
        }
        assert_eq!(DebugContexts::ALL.iter().count(), DebugContext::ALL.len());
    }
}
