//! Fault injection settings for the in-memory broker ([`FaultSpec`]), and their text syntax.

use crate::proto::ErrorCode;
use crate::time::Duration;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

/// A response delay distribution.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DelaySpec {
    /// Shortest delay.
    pub min: Duration,
    /// Longest delay (inclusive).
    pub max: Duration,
    /// Probability that a response is delayed at all.
    pub probability: f64,
}

/// Periodic broker down/up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BounceSpec {
    /// Interval between bounces.
    pub every: Duration,
    /// How long the broker stays down.
    pub down_for: Duration,
}

/// Which faults the broker injects. `FaultSpec::default()` injects none.
///
/// Parsed by [`FaultSpec::parse`] from a comma-separated list of `key=value` items:
///
/// ```text
/// append_drop=P            append the Produce request's batches, then close the connection
///                          instead of answering (probability P per Produce request)
/// error_before=CODE:P      answer a partition with CODE without appending (probability P per
///                          partition of a Produce request); repeatable
/// error_after=CODE:P       append, then answer the partition with CODE; repeatable
/// delay=MIN..MAX[:P]       hold a response for a uniform random time in MIN..=MAX (with
///                          probability P, default 1); responses on a connection keep their order
/// leader_move=EVERY        every EVERY, move one random partition's leadership to another live
///                          broker
/// broker_bounce=EVERY[:DOWN]  every EVERY, take a random broker down for DOWN (default 1s);
///                          never the last live broker; its queued (delayed) responses are lost
/// expire=AFTER             producer state idle for AFTER expires (checked every AFTER / 4)
/// restart=EVERY            every EVERY, restart a random broker, keeping producer state
///                          (snapshot and restore)
/// restart_lossy=EVERY      every EVERY, restart a random broker, losing producer state
/// restart_snapshot=EVERY   every EVERY, restart a random broker from Kafka's producer-state
///                          snapshot: each producer keeps only its last batch
/// coordinator_move=EVERY   every EVERY, the consumer groups' coordinators move to other brokers
///                          (parked JoinGroup / SyncGroup requests answered NOT_COORDINATOR)
/// not_coordinator=P        answer a consumer group request NOT_COORDINATOR (probability P)
/// coordinator_loading=P    answer a consumer group request COORDINATOR_LOAD_IN_PROGRESS
///                          (probability P)
/// ```
///
/// P is a probability in `[0, 1]` (`0.01`) or a percentage (`1%`). CODE is a Kafka error name
/// (`REQUEST_TIMED_OUT`) or number (`7`). Durations are an integer and a unit: `us`, `ms`, `s`,
/// `m`; in `MIN..MAX` a MIN without unit takes MAX's unit (`0..20ms`). The empty string means
/// no faults. Example:
/// `append_drop=0.02,error_before=REQUEST_TIMED_OUT:0.01,delay=0..20ms,leader_move=2s`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FaultSpec {
    /// Probability per Produce request of appending and then closing the connection instead of
    /// answering.
    pub append_drop: f64,
    /// Errors answered instead of appending, each with its probability per partition.
    pub error_before: Vec<(ErrorCode, f64)>,
    /// Errors answered after appending, each with its probability per partition.
    pub error_after: Vec<(ErrorCode, f64)>,
    /// Response delays.
    pub delay: Option<DelaySpec>,
    /// Interval of random leader moves.
    pub leader_move: Option<Duration>,
    /// Periodic broker down/up.
    pub broker_bounce: Option<BounceSpec>,
    /// Producer state expiration (idle time).
    pub expire: Option<Duration>,
    /// Interval of random broker restarts that keep producer state.
    pub restart: Option<Duration>,
    /// Interval of random broker restarts that lose producer state.
    pub restart_lossy: Option<Duration>,
    /// Interval of random broker restarts that keep only each producer's last batch (Kafka's
    /// snapshot: a resend of an older batch of the window is then OUT_OF_ORDER_SEQUENCE_NUMBER).
    pub restart_snapshot: Option<Duration>,
    /// Interval of consumer group coordinator moves.
    pub coordinator_move: Option<Duration>,
    /// Probability per group request of a NOT_COORDINATOR answer.
    pub not_coordinator: f64,
    /// Probability per group request of a COORDINATOR_LOAD_IN_PROGRESS answer.
    pub coordinator_loading: f64,
}

/// What is wrong with a fault spec string. Each variant names the offending item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FaultSpecError {
    /// An item without `=`.
    MissingValue {
        /// The item as written.
        item: String,
    },
    /// A key this syntax does not know.
    UnknownKey {
        /// The key as written.
        key: String,
    },
    /// A key given twice (only `error_before` / `error_after` repeat).
    Repeated {
        /// The key.
        key: String,
    },
    /// A probability that is not a number in `[0, 1]` or a percentage in `[0%, 100%]`.
    BadProbability {
        /// The key.
        key: String,
        /// The value as written.
        value: String,
    },
    /// A duration that is not an integer with a unit (`us`, `ms`, `s`, `m`).
    BadDuration {
        /// The key.
        key: String,
        /// The value as written.
        value: String,
    },
    /// A value that does not have the shape its key needs.
    BadShape {
        /// The key.
        key: String,
        /// The value as written.
        value: String,
        /// The shape expected, e.g. `CODE:P`.
        expected: &'static str,
    },
    /// An error name that is not one this broker knows, or a number out of range.
    UnknownErrorCode {
        /// The key.
        key: String,
        /// The code as written.
        value: String,
    },
    /// A `MIN..MAX` range with MIN above MAX, or a zero interval.
    BadRange {
        /// The key.
        key: String,
        /// The value as written.
        value: String,
    },
}

impl fmt::Display for FaultSpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FaultSpecError::MissingValue { item } => write!(f, "fault item `{item}` has no `=value`"),
            FaultSpecError::UnknownKey { key } => write!(
                f,
                "unknown fault `{key}` (known: append_drop, error_before, error_after, delay, leader_move, \
                 broker_bounce, expire, restart, restart_lossy, restart_snapshot, coordinator_move, \
                 not_coordinator, coordinator_loading)"
            ),
            FaultSpecError::Repeated { key } => write!(f, "fault `{key}` given more than once"),
            FaultSpecError::BadProbability { key, value } => {
                write!(f, "fault `{key}`: `{value}` is not a probability in [0, 1] or a percentage")
            }
            FaultSpecError::BadDuration { key, value } => {
                write!(f, "fault `{key}`: `{value}` is not a duration like 20ms, 2s, 500us or 1m")
            }
            FaultSpecError::BadShape { key, value, expected } => {
                write!(f, "fault `{key}`: `{value}` does not have the form {expected}")
            }
            FaultSpecError::UnknownErrorCode { key, value } => {
                write!(f, "fault `{key}`: `{value}` is not a known Kafka error name or an i16 error number")
            }
            FaultSpecError::BadRange { key, value } => {
                write!(f, "fault `{key}`: `{value}` is an empty range or a zero interval")
            }
        }
    }
}

impl core::error::Error for FaultSpecError {}

/// The Kafka errors this parser accepts by name (any other is given by number).
const NAMED_ERRORS: &[ErrorCode] = &[
    ErrorCode::UNKNOWN_SERVER_ERROR,
    ErrorCode::CORRUPT_MESSAGE,
    ErrorCode::UNKNOWN_TOPIC_OR_PARTITION,
    ErrorCode::LEADER_NOT_AVAILABLE,
    ErrorCode::NOT_LEADER_OR_FOLLOWER,
    ErrorCode::REQUEST_TIMED_OUT,
    ErrorCode::NETWORK_EXCEPTION,
    ErrorCode::MESSAGE_TOO_LARGE,
    ErrorCode::NOT_ENOUGH_REPLICAS,
    ErrorCode::NOT_ENOUGH_REPLICAS_AFTER_APPEND,
    ErrorCode::INVALID_REQUIRED_ACKS,
    ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER,
    ErrorCode::DUPLICATE_SEQUENCE_NUMBER,
    ErrorCode::INVALID_PRODUCER_EPOCH,
    ErrorCode::KAFKA_STORAGE_ERROR,
    ErrorCode::UNKNOWN_PRODUCER_ID,
    ErrorCode::FENCED_LEADER_EPOCH,
    ErrorCode::UNKNOWN_LEADER_EPOCH,
    ErrorCode::INVALID_RECORD,
    ErrorCode::THROTTLING_QUOTA_EXCEEDED,
    ErrorCode::PRODUCER_FENCED,
];

/// The Kafka name of `code` if this parser accepts it by name.
pub(crate) fn error_name(code: ErrorCode) -> Option<&'static str> {
    if NAMED_ERRORS.contains(&code) { code.name() } else { None }
}

fn parse_error_code(key: &str, s: &str) -> Result<ErrorCode, FaultSpecError> {
    if let Some(c) = NAMED_ERRORS.iter().find(|c| c.name().is_some_and(|n| n.eq_ignore_ascii_case(s))) {
        return Ok(*c);
    }
    match s.parse::<i16>() {
        Ok(c) if c != ErrorCode::NONE.0 => Ok(ErrorCode(c)),
        _ => Err(FaultSpecError::UnknownErrorCode { key: key.to_string(), value: s.to_string() }),
    }
}

fn parse_probability(key: &str, s: &str) -> Result<f64, FaultSpecError> {
    let bad = || FaultSpecError::BadProbability { key: key.to_string(), value: s.to_string() };
    let (num, scale) = match s.strip_suffix('%') {
        Some(n) => (n, 100.0),
        None => (s, 1.0),
    };
    let p = num.trim().parse::<f64>().map_err(|_| bad())? / scale;
    if (0.0..=1.0).contains(&p) { Ok(p) } else { Err(bad()) }
}

/// Splits `20ms` into (20, Some(1000)); a bare number has no unit.
fn split_duration(s: &str) -> Option<(u64, Option<u64>)> {
    let digits = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(digits);
    let n = num.parse::<u64>().ok()?;
    let unit = match unit {
        "" => None,
        "us" => Some(1),
        "ms" => Some(1_000),
        "s" => Some(1_000_000),
        "m" => Some(60_000_000),
        _ => return None,
    };
    Some((n, unit))
}

fn parse_duration(key: &str, s: &str) -> Result<Duration, FaultSpecError> {
    match split_duration(s) {
        Some((n, Some(unit))) => Ok(Duration::from_micros(n.saturating_mul(unit))),
        Some((0, None)) => Ok(Duration::ZERO),
        _ => Err(FaultSpecError::BadDuration { key: key.to_string(), value: s.to_string() }),
    }
}

fn parse_interval(key: &str, s: &str) -> Result<Duration, FaultSpecError> {
    let d = parse_duration(key, s)?;
    if d == Duration::ZERO {
        return Err(FaultSpecError::BadRange { key: key.to_string(), value: s.to_string() });
    }
    Ok(d)
}

fn parse_delay(key: &str, v: &str) -> Result<DelaySpec, FaultSpecError> {
    let (range, p) = match v.split_once(':') {
        Some((r, p)) => (r, parse_probability(key, p)?),
        None => (v, 1.0),
    };
    let shape = || FaultSpecError::BadShape { key: key.to_string(), value: v.to_string(), expected: "MIN..MAX[:P]" };
    let (lo, hi) = range.split_once("..").ok_or_else(shape)?;
    let max = parse_duration(key, hi)?;
    let min = match split_duration(lo) {
        Some((n, Some(unit))) => Duration::from_micros(n.saturating_mul(unit)),
        Some((n, None)) => {
            let unit = split_duration(hi).and_then(|(_, u)| u).unwrap_or(1);
            Duration::from_micros(n.saturating_mul(unit))
        }
        None => return Err(FaultSpecError::BadDuration { key: key.to_string(), value: lo.to_string() }),
    };
    if min > max {
        return Err(FaultSpecError::BadRange { key: key.to_string(), value: v.to_string() });
    }
    Ok(DelaySpec { min, max, probability: p })
}

fn parse_code_probability(key: &str, v: &str) -> Result<(ErrorCode, f64), FaultSpecError> {
    let (code, p) = v.split_once(':').ok_or_else(|| FaultSpecError::BadShape {
        key: key.to_string(),
        value: v.to_string(),
        expected: "CODE:P",
    })?;
    Ok((parse_error_code(key, code.trim())?, parse_probability(key, p.trim())?))
}

impl core::str::FromStr for FaultSpec {
    type Err = FaultSpecError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        FaultSpec::parse(s)
    }
}

impl FaultSpec {
    /// Parses the syntax described on [`FaultSpec`].
    pub fn parse(s: &str) -> Result<FaultSpec, FaultSpecError> {
        let mut spec = FaultSpec::default();
        let mut seen: Vec<&str> = Vec::new();
        for item in s.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let (key, value) =
                item.split_once('=').ok_or_else(|| FaultSpecError::MissingValue { item: item.to_string() })?;
            let (key, value) = (key.trim(), value.trim());
            let repeatable = matches!(key, "error_before" | "error_after");
            if !repeatable && seen.contains(&key) {
                return Err(FaultSpecError::Repeated { key: key.to_string() });
            }
            seen.push(key);
            match key {
                "append_drop" => spec.append_drop = parse_probability(key, value)?,
                "error_before" => spec.error_before.push(parse_code_probability(key, value)?),
                "error_after" => spec.error_after.push(parse_code_probability(key, value)?),
                "delay" => spec.delay = Some(parse_delay(key, value)?),
                "leader_move" => spec.leader_move = Some(parse_interval(key, value)?),
                "broker_bounce" => {
                    let (every, down) = match value.split_once(':') {
                        Some((e, d)) => (parse_interval(key, e)?, parse_interval(key, d)?),
                        None => (parse_interval(key, value)?, Duration::from_secs(1)),
                    };
                    spec.broker_bounce = Some(BounceSpec { every, down_for: down });
                }
                "expire" => spec.expire = Some(parse_interval(key, value)?),
                "restart" => spec.restart = Some(parse_interval(key, value)?),
                "restart_lossy" => spec.restart_lossy = Some(parse_interval(key, value)?),
                "restart_snapshot" => spec.restart_snapshot = Some(parse_interval(key, value)?),
                "coordinator_move" => spec.coordinator_move = Some(parse_interval(key, value)?),
                "not_coordinator" => spec.not_coordinator = parse_probability(key, value)?,
                "coordinator_loading" => spec.coordinator_loading = parse_probability(key, value)?,
                _ => return Err(FaultSpecError::UnknownKey { key: key.to_string() }),
            }
        }
        Ok(spec)
    }

    /// Whether this spec injects nothing.
    pub fn is_empty(&self) -> bool {
        *self == FaultSpec::default()
    }
}

struct Dur(Duration);

impl fmt::Display for Dur {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let us = self.0.as_micros();
        if us == 0 {
            f.write_str("0ms")
        } else if us % 60_000_000 == 0 {
            write!(f, "{}m", us / 60_000_000)
        } else if us % 1_000_000 == 0 {
            write!(f, "{}s", us / 1_000_000)
        } else if us % 1_000 == 0 {
            write!(f, "{}ms", us / 1_000)
        } else {
            write!(f, "{us}us")
        }
    }
}

struct Code(ErrorCode);

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match error_name(self.0) {
            Some(n) => f.write_str(n),
            None => write!(f, "{}", self.0.0),
        }
    }
}

impl fmt::Display for FaultSpec {
    /// Writes the spec in the syntax [`FaultSpec::parse`] reads (round-trips).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut items: Vec<String> = Vec::new();
        if self.append_drop > 0.0 {
            items.push(alloc::format!("append_drop={}", self.append_drop));
        }
        for (c, p) in &self.error_before {
            items.push(alloc::format!("error_before={}:{p}", Code(*c)));
        }
        for (c, p) in &self.error_after {
            items.push(alloc::format!("error_after={}:{p}", Code(*c)));
        }
        if let Some(d) = self.delay {
            items.push(alloc::format!("delay={}..{}:{}", Dur(d.min), Dur(d.max), d.probability));
        }
        if let Some(d) = self.leader_move {
            items.push(alloc::format!("leader_move={}", Dur(d)));
        }
        if let Some(b) = self.broker_bounce {
            items.push(alloc::format!("broker_bounce={}:{}", Dur(b.every), Dur(b.down_for)));
        }
        if let Some(d) = self.expire {
            items.push(alloc::format!("expire={}", Dur(d)));
        }
        if let Some(d) = self.restart {
            items.push(alloc::format!("restart={}", Dur(d)));
        }
        if let Some(d) = self.restart_lossy {
            items.push(alloc::format!("restart_lossy={}", Dur(d)));
        }
        if let Some(d) = self.restart_snapshot {
            items.push(alloc::format!("restart_snapshot={}", Dur(d)));
        }
        if let Some(d) = self.coordinator_move {
            items.push(alloc::format!("coordinator_move={}", Dur(d)));
        }
        if self.not_coordinator > 0.0 {
            items.push(alloc::format!("not_coordinator={}", self.not_coordinator));
        }
        if self.coordinator_loading > 0.0 {
            items.push(alloc::format!("coordinator_loading={}", self.coordinator_loading));
        }
        f.write_str(&items.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn parses_the_full_example() {
        let s = "append_drop=0.02,error_before=REQUEST_TIMED_OUT:0.01,\
                 error_after=NOT_ENOUGH_REPLICAS_AFTER_APPEND:0.01,delay=0..20ms,leader_move=2s,\
                 broker_bounce=5s,expire=10s";
        let spec = FaultSpec::parse(s).unwrap();
        assert_eq!(spec.append_drop, 0.02);
        assert_eq!(spec.error_before, [(ErrorCode::REQUEST_TIMED_OUT, 0.01)]);
        assert_eq!(spec.error_after, [(ErrorCode::NOT_ENOUGH_REPLICAS_AFTER_APPEND, 0.01)]);
        assert_eq!(
            spec.delay,
            Some(DelaySpec { min: Duration::ZERO, max: Duration::from_millis(20), probability: 1.0 })
        );
        assert_eq!(spec.leader_move, Some(Duration::from_secs(2)));
        assert_eq!(
            spec.broker_bounce,
            Some(BounceSpec { every: Duration::from_secs(5), down_for: Duration::from_secs(1) })
        );
        assert_eq!(spec.expire, Some(Duration::from_secs(10)));
        let again = FaultSpec::parse(&spec.to_string()).unwrap();
        assert_eq!(again, spec);
    }

    #[test]
    fn other_forms() {
        let spec = FaultSpec::parse(" error_before=7:5% , error_before=not_enough_replicas:1,delay=5ms..1s:0.5,broker_bounce=3s:200ms,restart=1m,restart_lossy=500us").unwrap();
        assert_eq!(spec.error_before, [(ErrorCode::REQUEST_TIMED_OUT, 0.05), (ErrorCode::NOT_ENOUGH_REPLICAS, 1.0)]);
        assert_eq!(
            spec.delay,
            Some(DelaySpec { min: Duration::from_millis(5), max: Duration::from_secs(1), probability: 0.5 })
        );
        assert_eq!(spec.broker_bounce.unwrap().down_for, Duration::from_millis(200));
        assert_eq!(spec.restart, Some(Duration::from_secs(60)));
        assert_eq!(spec.restart_lossy, Some(Duration::from_micros(500)));
        assert_eq!(FaultSpec::parse(&spec.to_string()).unwrap(), spec);
        assert!(FaultSpec::parse("").unwrap().is_empty());
    }

    #[test]
    fn errors_name_what_is_wrong() {
        let err = |s: &str| FaultSpec::parse(s).unwrap_err();
        assert_eq!(err("append_drop"), FaultSpecError::MissingValue { item: "append_drop".into() });
        assert_eq!(err("bogus=1"), FaultSpecError::UnknownKey { key: "bogus".into() });
        assert_eq!(
            err("append_drop=1.5"),
            FaultSpecError::BadProbability { key: "append_drop".into(), value: "1.5".into() }
        );
        assert_eq!(
            err("append_drop=NaN"),
            FaultSpecError::BadProbability { key: "append_drop".into(), value: "NaN".into() }
        );
        assert_eq!(err("leader_move=2"), FaultSpecError::BadDuration { key: "leader_move".into(), value: "2".into() });
        assert_eq!(err("leader_move=0s"), FaultSpecError::BadRange { key: "leader_move".into(), value: "0s".into() });
        assert_eq!(err("delay=20ms..1ms"), FaultSpecError::BadRange { key: "delay".into(), value: "20ms..1ms".into() });
        assert!(matches!(err("delay=20ms"), FaultSpecError::BadShape { .. }));
        assert!(matches!(err("error_after=NOPE:0.1"), FaultSpecError::UnknownErrorCode { .. }));
        assert!(matches!(err("error_after=0:0.1"), FaultSpecError::UnknownErrorCode { .. }));
        assert!(matches!(err("error_after=7"), FaultSpecError::BadShape { .. }));
        assert_eq!(err("expire=1s,expire=2s"), FaultSpecError::Repeated { key: "expire".into() });
        assert!(err("delay=1x..2ms").to_string().contains("1x"));
    }
}
