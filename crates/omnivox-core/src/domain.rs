//! Values parsed at the boundary.

pub mod phone;
pub mod role;
pub mod sid;
