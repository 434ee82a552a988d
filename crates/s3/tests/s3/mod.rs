mod audit;
mod common;
mod cors;
mod enforcement;
mod gaps;
mod matrix;
mod ops;
mod signing;
