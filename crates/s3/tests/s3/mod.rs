mod common;
mod enforcement;
mod gaps;
mod matrix;
mod ops;
mod signing;
