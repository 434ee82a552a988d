//! Expected outcomes, the per-class × per-auth-path tally, and the final report.

use std::collections::BTreeMap;

use crate::http::Response;
use crate::sign::AuthPath;

/// Marker planted in every out-of-scope key and body: a scoped credential must never see it.
pub const HIDDEN: &str = "HIDDEN";

/// The attack classes of the issue, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Class {
    /// 1. prefix and exact-object confusion.
    Prefix,
    /// 2. encodings.
    Encoding,
    /// 3. dot segments and duplicate slashes.
    DotSegments,
    /// 4. copy sources out of scope.
    CopySource,
    /// 5. DeleteObjects bodies and multipart ids.
    BatchMultipart,
    /// 6. listings.
    Listing,
    /// 7. expiry.
    Expiry,
    /// 8. clock skew and credential scope.
    Skew,
    /// 9. bucket, account and audience binding.
    Binding,
    /// 10. token tampering.
    Tamper,
    /// 11. credential mix-ups.
    MixUp,
    /// 12. parent lifecycle.
    Parent,
    /// 13. error oracles.
    Oracle,
    /// 14. signed-request integrity: `SignedHeaders` form, `host`, absolute-form targets.
    Integrity,
    /// 15. conditional requests outside the scope.
    Conditional,
    /// 16. aws-chunked framing and declared lengths.
    Chunked,
    /// 17. writes in flight: credentials that die mid-body, slow clients (issue 12).
    InFlight,
    /// 18. tokens and credentials raising themselves through the management API (issue 12).
    ApiEscalation,
    /// 19. one revoked temporary credential, on every auth path (issue 15).
    Revoked,
}

impl Class {
    /// Report label.
    pub fn name(self) -> &'static str {
        match self {
            Class::Prefix => "1 prefix/exact",
            Class::Encoding => "2 encoding",
            Class::DotSegments => "3 dot-segments",
            Class::CopySource => "4 copy-source",
            Class::BatchMultipart => "5 batch/multipart",
            Class::Listing => "6 listing",
            Class::Expiry => "7 expiry",
            Class::Skew => "8 skew/scope",
            Class::Binding => "9 bucket/acct/aud",
            Class::Tamper => "10 token-tamper",
            Class::MixUp => "11 mix-ups",
            Class::Parent => "12 parent",
            Class::Oracle => "13 oracles",
            Class::Integrity => "14 signed-headers",
            Class::Conditional => "15 conditional",
            Class::Chunked => "16 aws-chunked",
            Class::InFlight => "17 in-flight",
            Class::ApiEscalation => "18 api-escalation",
            Class::Revoked => "19 revoked",
        }
    }

    /// Every class, in order.
    pub const ALL: [Class; 19] = [
        Class::Prefix,
        Class::Encoding,
        Class::DotSegments,
        Class::CopySource,
        Class::BatchMultipart,
        Class::Listing,
        Class::Expiry,
        Class::Skew,
        Class::Binding,
        Class::Tamper,
        Class::MixUp,
        Class::Parent,
        Class::Oracle,
        Class::Integrity,
        Class::Conditional,
        Class::Chunked,
        Class::InFlight,
        Class::ApiEscalation,
        Class::Revoked,
    ];
}

/// What a case must answer: an exact status and, for errors, the exact S3 code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expect {
    /// HTTP status.
    pub status: u16,
    /// S3 `<Code>` (errors with a body only).
    pub code: Option<&'static str>,
}

impl Expect {
    /// 200.
    pub const OK: Expect = Expect {
        status: 200,
        code: None,
    };
    /// 204 (DeleteObject, AbortMultipartUpload).
    pub const NO_CONTENT: Expect = Expect {
        status: 204,
        code: None,
    };
    /// 403 AccessDenied: the denial SPEC §4 mandates for anything out of scope.
    pub const DENIED: Expect = Expect {
        status: 403,
        code: Some("AccessDenied"),
    };
    /// 403 SignatureDoesNotMatch.
    pub const BAD_SIG: Expect = Expect {
        status: 403,
        code: Some("SignatureDoesNotMatch"),
    };
    /// 400 InvalidArgument (malformed session token and friends).
    pub const BAD_TOKEN: Expect = Expect {
        status: 400,
        code: Some("InvalidArgument"),
    };
    /// 400 ExpiredToken.
    pub const EXPIRED: Expect = Expect {
        status: 400,
        code: Some("ExpiredToken"),
    };
    /// 400 InvalidRequest: SigV2 and unserved hosts.
    pub const INVALID_REQUEST: Expect = Expect {
        status: 400,
        code: Some("InvalidRequest"),
    };
    /// 401 Unauthorized: unknown access key.
    pub const UNAUTHORIZED: Expect = Expect {
        status: 401,
        code: Some("Unauthorized"),
    };

    /// Any status with a code.
    pub const fn err(status: u16, code: &'static str) -> Expect {
        Expect {
            status,
            code: Some(code),
        }
    }

    /// Whether this expectation is a refusal.
    pub fn is_denial(self) -> bool {
        self.status >= 300
    }
}

#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    passed: u64,
    failed: u64,
    escapes: u64,
    server_errors: u64,
}

/// Results by class and auth path, plus the details of every failure.
#[derive(Debug, Default)]
pub struct Tally {
    cells: BTreeMap<(Class, AuthPath), Counts>,
    /// One line per failed case.
    pub failures: Vec<String>,
    /// One line per escape (also in `failures`).
    pub escapes: Vec<String>,
    extra_passed: u64,
}

impl Tally {
    /// Records one sent case. Returns whether it passed.
    pub fn record(
        &mut self,
        class: Class,
        path: AuthPath,
        name: &str,
        expect: Expect,
        got: &Response,
        scoped: bool,
    ) -> bool {
        let cell = self.cells.entry((class, path)).or_default();
        let code = got.code();
        let ok_2xx = (200..300).contains(&got.status);
        let leaked = scoped && ok_2xx && leaks(&got.body);
        let escape = (expect.is_denial() && ok_2xx) || leaked;
        // A 501 is Mayfly saying "not implemented" on purpose, never a failure of the server;
        // it counts as one only where the case did not expect exactly that.
        let server_error =
            got.status == 0 || (got.status >= 500 && !(got.status == 501 && expect.status == 501));
        let code_ok = match (expect.code, &code) {
            (None, _) => true,
            // HEAD answers carry no body: the status alone decides.
            (Some(_), None) if got.body.is_empty() => true,
            (Some(want), Some(c)) => c == want,
            (Some(_), None) => false,
        };
        let pass = !escape && !server_error && got.status == expect.status && code_ok;
        if pass {
            cell.passed += 1;
        } else {
            cell.failed += 1;
            let detail = format!(
                "[{}] [{}] {}: expected {} {}, got {} {} {}",
                class.name(),
                path.name(),
                name,
                expect.status,
                expect.code.unwrap_or("-"),
                got.status,
                code.as_deref().unwrap_or("-"),
                snippet(&got.text())
            );
            if escape {
                cell.escapes += 1;
                self.escapes.push(detail.clone());
            }
            if server_error {
                cell.server_errors += 1;
            }
            self.failures.push(detail);
        }
        pass
    }

    /// Records a check that is not one HTTP answer (e.g. an oracle comparison, the log scan).
    pub fn record_check(&mut self, class: Class, path: AuthPath, name: &str, ok: bool, why: &str) {
        let cell = self.cells.entry((class, path)).or_default();
        if ok {
            cell.passed += 1;
        } else {
            cell.failed += 1;
            self.failures.push(format!(
                "[{}] [{}] {name}: {why}",
                class.name(),
                path.name()
            ));
        }
    }

    /// A passed check outside the class table (the log scan).
    pub fn record_extra(&mut self, ok: bool, what: &str) {
        if ok {
            self.extra_passed += 1;
        } else {
            self.failures.push(what.to_owned());
        }
    }

    /// Totals: (passed, failed, escapes, 5xx).
    pub fn totals(&self) -> (u64, u64, u64, u64) {
        let mut t = (self.extra_passed, 0, 0, 0);
        for c in self.cells.values() {
            t.0 += c.passed;
            t.1 += c.failed;
            t.2 += c.escapes;
            t.3 += c.server_errors;
        }
        t.1 += u64::try_from(
            self.failures
                .len()
                .saturating_sub(usize::try_from(t.1).unwrap_or(0)),
        )
        .unwrap_or(0);
        t
    }

    /// The class × auth-path table and the summary lines.
    pub fn report(&self) -> String {
        let mut out = String::new();
        out.push_str(&format!("{:<20}", "class \\ path"));
        for p in AuthPath::ALL {
            out.push_str(&format!("{:>10}", p.name()));
        }
        out.push_str(&format!("{:>8}{:>8}{:>6}\n", "total", "escape", "5xx"));
        let mut col = [0u64; 7];
        for class in Class::ALL {
            out.push_str(&format!("{:<20}", class.name()));
            let (mut total, mut esc, mut s5) = (0, 0, 0);
            for (i, p) in AuthPath::ALL.iter().enumerate() {
                let c = self.cells.get(&(class, *p)).copied().unwrap_or_default();
                let n = c.passed + c.failed;
                total += n;
                esc += c.escapes;
                s5 += c.server_errors;
                col[i] += n;
                out.push_str(&format!("{n:>10}"));
            }
            out.push_str(&format!("{total:>8}{esc:>8}{s5:>6}\n"));
        }
        out.push_str(&format!("{:<20}", "total"));
        for n in col {
            out.push_str(&format!("{n:>10}"));
        }
        let (passed, failed, escapes, s5) = self.totals();
        out.push_str(&format!(
            "{:>8}{escapes:>8}{s5:>6}\n",
            col.iter().sum::<u64>()
        ));
        out.push_str(&format!(
            "escapes: {escapes}, 5xx: {s5}\nattack: {passed} passed, {failed} failed\n"
        ));
        out
    }
}

/// Whether an answer carries planted out-of-scope data: an object body, or a listed key or
/// common prefix (the echoed request `Prefix`/`Marker` do not count: they are the caller's own).
pub fn leaks(body: &[u8]) -> bool {
    let text = String::from_utf8_lossy(body);
    if text.contains(&format!("{HIDDEN} data of")) {
        return true;
    }
    let listed = crate::http::xml_all(body, "Key")
        .into_iter()
        .chain(crate::http::xml_all(body, "CommonPrefixes"));
    listed.into_iter().any(|k| k.contains(HIDDEN))
}

fn snippet(s: &str) -> String {
    let s: String = s.chars().filter(|c| !c.is_control()).take(240).collect();
    s
}
