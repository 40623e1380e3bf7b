//! Values parsed at the boundary.

pub mod date_range;
pub mod phone;
pub mod role;
pub mod sid;
