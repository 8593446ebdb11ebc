//! Typed row identities: a declaration's id cannot be passed where a trip's is meant.
//!
//! Each is the store's integer key, wrapped; [`DeclarationId::get`] gives the integer back for
//! SQL and for the wire, where ids are plain numbers.

use std::fmt;

macro_rules! row_id {
    ($(#[$doc:meta] $name:ident),* $(,)?) => {$(
        #[$doc]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub i64);

        impl $name {
            /// The integer key.
            pub const fn get(self) -> i64 {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl From<$name> for i64 {
            fn from(id: $name) -> i64 {
                id.0
            }
        }
    )*};
}

row_id! {
    /// A declaration (one truck's goods declaration).
    DeclarationId,
    /// A booking of one hour's slot.
    BookingId,
    /// A truck's trip from the queue to the crossing.
    TripId,
    /// A user account.
    UserId,
    /// A suspension of a gate pair's slots.
    SuspensionId,
}

/// Where a booking stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BookingStatus {
    /// Holds its hour.
    Booked,
    /// Given back by the firm, or withdrawn with its declaration.
    Cancelled,
    /// Its hour passed and the truck never checked in; the slot was released.
    NoShow,
}

impl BookingStatus {
    pub const ALL: [BookingStatus; 3] = [BookingStatus::Booked, BookingStatus::Cancelled, BookingStatus::NoShow];
    /// The stored and wire code.
    pub fn code(self) -> &'static str {
        match self {
            BookingStatus::Booked => "booked",
            BookingStatus::Cancelled => "cancelled",
            BookingStatus::NoShow => "no-show",
        }
    }
    pub fn parse(s: &str) -> Option<BookingStatus> {
        BookingStatus::ALL.into_iter().find(|b| b.code() == s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_print_as_their_number_and_statuses_read_back_their_codes() {
        assert_eq!(DeclarationId(42).to_string(), "42");
        assert_eq!(i64::from(TripId(7)), 7);
        for s in BookingStatus::ALL {
            assert_eq!(BookingStatus::parse(s.code()), Some(s));
        }
        assert_eq!(BookingStatus::parse("Booked"), None);
    }
}
