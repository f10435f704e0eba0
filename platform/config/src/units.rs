//! Quantities that every subsystem writes the same way: durations and data rates.
//!
//! Both accept a plain integer in the base unit (ns, bit/s) or a string with a unit
//! (`"125us"`, `"1.5 s"`, `"100Mbit/s"`). Arithmetic is exact: a value that is not a whole
//! number of base units, negative, too large or with an unknown unit is rejected with a
//! message listing the accepted units.

use std::fmt;
use std::str::FromStr;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

const DURATION_UNITS: &[(&str, u64)] = &[
    ("ns", 1),
    ("us", 1_000),
    ("µs", 1_000),
    ("μs", 1_000),
    ("ms", 1_000_000),
    ("s", 1_000_000_000),
];

const RATE_UNITS: &[(&str, u64)] = &[
    ("bps", 1),
    ("bit/s", 1),
    ("kbps", 1_000),
    ("kbit/s", 1_000),
    ("mbps", 1_000_000),
    ("mbit/s", 1_000_000),
    ("gbps", 1_000_000_000),
    ("gbit/s", 1_000_000_000),
];

/// A value that could not be parsed as a [`DurationNs`] or [`BitRate`]; the message says
/// what would be valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ParseQuantityError(String);

struct Kind {
    what: &'static str,
    base: &'static str,
    example: &'static str,
    units: &'static [(&'static str, u64)],
    accepted: &'static str,
    fold_case: bool,
}

const DURATION: Kind = Kind {
    what: "a duration",
    base: "ns",
    example: "\"1ms\"",
    units: DURATION_UNITS,
    accepted: "ns, us (or µs), ms, s",
    fold_case: false,
};

const RATE: Kind = Kind {
    what: "a data rate",
    base: "bit/s",
    example: "\"1Gbps\"",
    units: RATE_UNITS,
    accepted: "bps or bit/s, kbps, Mbps, Gbps (or kbit/s, Mbit/s, Gbit/s)",
    fold_case: true,
};

impl Kind {
    fn expected(&self) -> String {
        format!(
            "{} such as {} or an integer in {}",
            self.what, self.example, self.base
        )
    }

    fn error(&self, text: &str, problem: &str) -> ParseQuantityError {
        ParseQuantityError(format!(
            "invalid {} {text:?}: {problem}; expected {}",
            self.what.trim_start_matches("a "),
            self.expected()
        ))
    }

    fn parse(&self, text: &str) -> Result<u64, ParseQuantityError> {
        let s = text.trim();
        if s.starts_with('-') {
            return Err(self.error(text, "must not be negative"));
        }
        let split = s
            .find(|c: char| !c.is_ascii_digit() && c != '.')
            .unwrap_or(s.len());
        let (number, unit) = (&s[..split], s[split..].trim_start());
        let (int, frac) = number.split_once('.').unwrap_or((number, ""));
        if int.is_empty() && frac.is_empty() || frac.contains('.') {
            return Err(self.error(text, "no number"));
        }
        let scale = if unit.is_empty() {
            1
        } else {
            let found = self.units.iter().find(|(name, _)| {
                if self.fold_case {
                    name.eq_ignore_ascii_case(unit)
                } else {
                    *name == unit
                }
            });
            match found {
                Some((_, scale)) => *scale,
                None => {
                    let msg = format!("unknown unit {unit:?} (accepted: {})", self.accepted);
                    return Err(self.error(text, &msg));
                }
            }
        };
        let frac = frac.trim_end_matches('0');
        let too_large = || self.error(text, &format!("too large (max {} {})", u64::MAX, self.base));
        let int: u128 = if int.is_empty() {
            0
        } else {
            int.parse().map_err(|_| too_large())?
        };
        let mut value = int.checked_mul(u128::from(scale)).ok_or_else(too_large)?;
        if !frac.is_empty() {
            let denominator = u32::try_from(frac.len())
                .ok()
                .and_then(|len| 10u128.checked_pow(len))
                .filter(|d| *d <= u128::from(scale))
                .ok_or_else(|| self.error(text, &format!("not a whole number of {}", self.base)))?;
            // `frac < denominator <= scale`, so neither step can overflow.
            let scaled = frac.parse::<u128>().map_err(|_| too_large())? * u128::from(scale);
            if scaled % denominator != 0 {
                return Err(self.error(text, &format!("not a whole number of {}", self.base)));
            }
            value = value
                .checked_add(scaled / denominator)
                .ok_or_else(too_large)?;
        }
        u64::try_from(value).map_err(|_| too_large())
    }
}

struct QuantityVisitor(&'static Kind);

impl Visitor<'_> for QuantityVisitor {
    type Value = u64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.expected())
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<u64, E> {
        Ok(v)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<u64, E> {
        u64::try_from(v)
            .map_err(|_| E::custom(self.0.error(&v.to_string(), "must not be negative")))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<u64, E> {
        let msg = format!("a bare number is in {} and must be an integer", self.0.base);
        Err(E::custom(self.0.error(&v.to_string(), &msg)))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<u64, E> {
        self.0.parse(v).map_err(E::custom)
    }
}

macro_rules! quantity {
    ($(#[$doc:meta])* $name:ident, $kind:expr, $getter:ident, $unit:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub u64);

        impl $name {
            #[doc = concat!("The value in ", $unit, ".")]
            pub const fn $getter(self) -> u64 {
                self.0
            }
        }

        impl FromStr for $name {
            type Err = ParseQuantityError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $kind.parse(s).map(Self)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!("{} ", $unit), self.0)
            }
        }

        /// Serialises as the integer in the base unit, which deserialises back unchanged.
        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_u64(self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                deserializer.deserialize_any(QuantityVisitor(&$kind)).map(Self)
            }
        }
    };
}

quantity!(
    /// A duration in nanoseconds: `250`, `"250ns"`, `"125us"`, `"1ms"`, `"1.5 s"`.
    DurationNs,
    DURATION,
    as_nanos,
    "ns"
);

quantity!(
    /// A data rate in bits per second: `1000000000`, `"1Gbps"`, `"100Mbit/s"`, `"2.5 Gbps"`.
    BitRate,
    RATE,
    bits_per_second,
    "bit/s"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        let ok = [
            ("250", 250),
            ("250ns", 250),
            ("125us", 125_000),
            ("125µs", 125_000),
            ("1ms", 1_000_000),
            ("1.5 s", 1_500_000_000),
            (" 0.000000001s ", 1),
            ("18446744073709551615ns", u64::MAX),
        ];
        for (text, ns) in ok {
            assert_eq!(text.parse::<DurationNs>(), Ok(DurationNs(ns)), "{text}");
        }
        let bad = [
            ("-1ms", "must not be negative"),
            ("1.5ns", "not a whole number of ns"),
            ("0.0000000001s", "not a whole number of ns"),
            ("18446744073709551616", "too large"),
            ("99999999999999999999s", "too large"),
            (
                "5min",
                "unknown unit \"min\" (accepted: ns, us (or µs), ms, s)",
            ),
            ("1MS", "unknown unit"),
            ("ms", "no number"),
            ("1.2.3s", "no number"),
            ("", "no number"),
        ];
        for (text, want) in bad {
            let err = text.parse::<DurationNs>().unwrap_err().to_string();
            assert!(err.contains(want), "{text}: {err}");
            assert!(err.contains("expected a duration such as \"1ms\""), "{err}");
        }
    }

    #[test]
    fn bit_rates() {
        let ok = [
            ("1000000000", 1_000_000_000),
            ("1Gbps", 1_000_000_000),
            ("100Mbit/s", 100_000_000),
            ("2.5 Gbps", 2_500_000_000),
            ("10 kbps", 10_000),
            ("7bit/s", 7),
        ];
        for (text, bps) in ok {
            assert_eq!(text.parse::<BitRate>(), Ok(BitRate(bps)), "{text}");
        }
        for text in ["1.5bps", "1 Gbyte/s", "-3Mbps", "1000000000000Gbps"] {
            assert!(text.parse::<BitRate>().is_err(), "{text}");
        }
        let err = "1 GB/s".parse::<BitRate>().unwrap_err().to_string();
        assert!(
            err.contains("accepted: bps or bit/s, kbps, Mbps, Gbps"),
            "{err}"
        );
    }
}
