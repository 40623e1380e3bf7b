//! Domain types and storage traits of Omnivox Call Records.
//!
//! Everything here is plain data and small traits: the storage backends
//! (`omnivox-store`), the job queue (`omnivox-jobs`) and the HTTP layer
//! (`omnivox-http`) all speak these types. Values from the outside world
//! (Twilio SIDs, phone numbers, roles) are parsed into newtypes at the
//! boundary so the rest of the code can trust them.

pub mod clock;
pub mod domain;
pub mod events;
pub mod ingest;
pub mod store;

pub use clock::{Clock, ManualClock, SystemClock};
pub use domain::{
    date_range::{DateBound, DateRange, RangeError},
    phone::PhoneNumber,
    role::Role,
    sid::{AccountSid, CallSid, RecordingSid, SidError},
};
pub use store::{Store, StoreError};
