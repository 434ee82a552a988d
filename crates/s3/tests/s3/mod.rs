mod common;
mod enforcement;
mod gaps;
mod ops;
mod signing;
