//! Conformance suite (feature `testkit`): generic async checks every storage implementation
//! runs from its own tests. Being filled in; see the crate README.
