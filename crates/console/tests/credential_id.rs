//! The console computes credential ids in the browser (assets/session-token.js). This pins
//! mayfly-core's id of the SPEC §2 test-vector token; tests/browser/test_console.py pastes the
//! same token into the console's inspector and expects the same id, so the two implementations
//! are tied together.

use mayfly_core::{SessionToken, parse_session_token};

/// SPEC §2's test-vector session token (684 characters).
const SPEC_VECTOR_SESSION_TOKEN: &str = include_str!("spec-vector-session-token.txt");

/// Its credential id, as mayfly-core computes it.
const SPEC_VECTOR_CREDENTIAL_ID: &str = "6276efc287ac9ee4a9110faad20fdf53";

#[test]
fn core_computes_the_id_the_console_test_expects() {
    let token = SessionToken::from_untrusted(SPEC_VECTOR_SESSION_TOKEN.trim());
    let parsed = parse_session_token(&token).expect("the SPEC vector parses");
    assert_eq!(parsed.credential_id().as_str(), SPEC_VECTOR_CREDENTIAL_ID);
}
