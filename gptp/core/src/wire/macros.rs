//! Helper macros for enum-coded fields and flag fields.

/// An enum over a wire integer that keeps values it does not know in `Unknown(_)`, so that a
/// parse followed by an emit reproduces the field.
macro_rules! enum_with_unknown {
    (
        $(#[$enum_attr:meta])*
        pub enum $name:ident($ty:ty) {
            $(
                $(#[$variant_attr:meta])*
                $variant:ident = $value:expr
            ),+ $(,)?
        }
    ) => {
        $(#[$enum_attr])*
        #[derive(Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Clone, Copy)]
        pub enum $name {
            $(
                $(#[$variant_attr])*
                $variant,
            )+
            /// A value this crate has no name for, kept as received.
            Unknown($ty),
        }

        impl ::core::convert::From<$ty> for $name {
            fn from(value: $ty) -> Self {
                match value {
                    $( $value => Self::$variant, )+
                    other => Self::Unknown(other),
                }
            }
        }

        impl ::core::convert::From<$name> for $ty {
            fn from(value: $name) -> Self {
                match value {
                    $( $name::$variant => $value, )+
                    $name::Unknown(other) => other,
                }
            }
        }
    };
}

/// A small bitflags-like newtype over a wire integer. Bits without a name are kept, so a
/// received field is emitted back unchanged.
macro_rules! wire_flags {
    (
        $(#[$attr:meta])*
        pub struct $name:ident($ty:ty) {
            $(
                $(#[$flag_attr:meta])*
                const $flag:ident = $value:expr;
            )+
        }
    ) => {
        $(#[$attr])*
        #[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
        pub struct $name($ty);

        impl $name {
            $(
                $(#[$flag_attr])*
                pub const $flag: Self = Self($value);
            )+

            /// No flag set.
            pub const fn empty() -> Self {
                Self(0)
            }
            /// From the raw field, keeping bits without a name.
            pub const fn from_bits_retain(bits: $ty) -> Self {
                Self(bits)
            }
            /// The raw field.
            pub const fn bits(self) -> $ty {
                self.0
            }
            /// Whether every bit of `other` is set.
            pub const fn contains(self, other: Self) -> bool {
                self.0 & other.0 == other.0
            }
            /// Sets the bits of `other`.
            pub fn insert(&mut self, other: Self) {
                self.0 |= other.0;
            }
            /// Clears the bits of `other`.
            pub fn remove(&mut self, other: Self) {
                self.0 &= !other.0;
            }
            /// Sets or clears the bits of `other`.
            pub fn set(&mut self, other: Self, value: bool) {
                if value {
                    self.insert(other);
                } else {
                    self.remove(other);
                }
            }
            /// Returns a copy with the bits of `other` set.
            #[must_use]
            pub const fn with(self, other: Self) -> Self {
                Self(self.0 | other.0)
            }
        }

        impl ::core::ops::BitOr for $name {
            type Output = Self;
            fn bitor(self, rhs: Self) -> Self {
                Self(self.0 | rhs.0)
            }
        }

        impl ::core::ops::BitOrAssign for $name {
            fn bitor_assign(&mut self, rhs: Self) {
                self.0 |= rhs.0;
            }
        }

        impl ::core::fmt::Debug for $name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                write!(f, "{}({:#x}", stringify!($name), self.0)?;
                let mut sep = ": ";
                $(
                    if self.contains(Self::$flag) && Self::$flag.0 != 0 {
                        write!(f, "{sep}{}", stringify!($flag))?;
                        sep = " | ";
                    }
                )+
                let _ = sep;
                write!(f, ")")
            }
        }
    };
}

pub(crate) use enum_with_unknown;
pub(crate) use wire_flags;
