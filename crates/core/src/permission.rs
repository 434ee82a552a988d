//! Permissions, token actions and S3 operations, and the table that ties them together.
//!
//! [`Permission`] is what an R2 API token or a temporary credential grants; [`S3Action`] is the
//! vocabulary of a token's optional `actions` claim; [`S3Op`] is every operation the Mayfly S3
//! endpoint serves. Each `S3Op` has exactly one [`Access`] class; matches here are exhaustive so
//! that a new operation does not compile until someone decides what it needs.

use crate::error::InvalidInput;
use core::fmt;

/// One of R2's four token permissions.
///
/// They form a partial order ([`Permission::covers`]): `admin-read-write` covers everything,
/// `admin-read-only` and `object-read-write` each cover `object-read-only`, and neither of
/// those two covers the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// Read objects and list them.
    ObjectReadOnly,
    /// Read and write objects.
    ObjectReadWrite,
    /// Read objects, list buckets and read bucket configuration.
    AdminReadOnly,
    /// Everything in the account: buckets, their configuration and objects.
    AdminReadWrite,
}

impl Permission {
    /// All four, weakest first.
    pub const ALL: [Permission; 4] = [
        Permission::ObjectReadOnly,
        Permission::ObjectReadWrite,
        Permission::AdminReadOnly,
        Permission::AdminReadWrite,
    ];

    /// Parses the wire spelling (`object-read-only`, ...).
    pub fn parse(s: &str) -> Result<Self, InvalidInput> {
        match s {
            "object-read-only" => Ok(Permission::ObjectReadOnly),
            "object-read-write" => Ok(Permission::ObjectReadWrite),
            "admin-read-only" => Ok(Permission::AdminReadOnly),
            "admin-read-write" => Ok(Permission::AdminReadWrite),
            _ => Err(InvalidInput::new(
                "permission",
                "must be one of admin-read-write, admin-read-only, object-read-write, object-read-only",
            )),
        }
    }

    /// The wire spelling.
    pub const fn as_str(self) -> &'static str {
        match self {
            Permission::ObjectReadOnly => "object-read-only",
            Permission::ObjectReadWrite => "object-read-write",
            Permission::AdminReadOnly => "admin-read-only",
            Permission::AdminReadWrite => "admin-read-write",
        }
    }

    /// True when every right of `other` is also a right of `self`.
    pub fn covers(self, other: Permission) -> bool {
        Access::ALL
            .iter()
            .all(|&a| !other.allows(a) || self.allows(a))
    }

    /// True for the account-wide (admin) permissions, which ignore bucket lists.
    pub const fn is_admin(self) -> bool {
        match self {
            Permission::AdminReadOnly | Permission::AdminReadWrite => true,
            Permission::ObjectReadOnly | Permission::ObjectReadWrite => false,
        }
    }

    /// Whether this permission grants an access class.
    pub const fn allows(self, access: Access) -> bool {
        use Access::*;
        match self {
            Permission::ObjectReadOnly => matches!(access, BucketRead | ObjectRead | List),
            Permission::ObjectReadWrite => {
                matches!(access, BucketRead | ObjectRead | List | ObjectWrite)
            }
            Permission::AdminReadOnly => {
                matches!(
                    access,
                    BucketRead | ObjectRead | List | ConfigRead | AccountRead
                )
            }
            Permission::AdminReadWrite => true,
        }
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an operation touches, the unit permissions are granted in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Access {
    /// Account-level reads: listing buckets.
    AccountRead,
    /// Account-level writes: creating buckets.
    AccountWrite,
    /// Bucket existence and location.
    BucketRead,
    /// Bucket configuration reads (CORS, lifecycle, encryption).
    ConfigRead,
    /// Bucket configuration writes and bucket deletion.
    ConfigWrite,
    /// Reading one object (or one upload's parts).
    ObjectRead,
    /// Writing or deleting one object (including multipart steps).
    ObjectWrite,
    /// Listing keys or uploads under a prefix.
    List,
}

impl Access {
    /// Every class.
    pub const ALL: [Access; 8] = [
        Access::AccountRead,
        Access::AccountWrite,
        Access::BucketRead,
        Access::ConfigRead,
        Access::ConfigWrite,
        Access::ObjectRead,
        Access::ObjectWrite,
        Access::List,
    ];
}

macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($(#[$vmeta])* $variant,)* }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            /// The operation's S3 name, as written in tokens and logs.
            pub const fn as_str(self) -> &'static str {
                match self { $($name::$variant => stringify!($variant),)* }
            }

            /// Parses the S3 name exactly (case-sensitive); unknown names are refused.
            pub fn parse(s: &str) -> Option<Self> {
                match s { $(stringify!($variant) => Some($name::$variant),)* _ => None }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

string_enum! {
    /// The S3 action names a session token's `actions` claim may list (Cloudflare's set).
    S3Action {
        /// HeadObject.
        HeadObject,
        /// GetObject.
        GetObject,
        /// GetBucketLocation.
        GetBucketLocation,
        /// ListObjects (V1).
        ListObjectsV1,
        /// ListObjectsV2.
        ListObjectsV2,
        /// ListMultipartUploads.
        ListMultipartUploads,
        /// ListParts.
        ListParts,
        /// PutObject.
        PutObject,
        /// DeleteObject.
        DeleteObject,
        /// DeleteObjects.
        DeleteObjects,
        /// CopyObject.
        CopyObject,
        /// CreateMultipartUpload.
        CreateMultipartUpload,
        /// UploadPart.
        UploadPart,
        /// UploadPartCopy.
        UploadPartCopy,
        /// AbortMultipartUpload.
        AbortMultipartUpload,
        /// CompleteMultipartUpload.
        CompleteMultipartUpload,
    }
}

string_enum! {
    /// Every S3 operation the Mayfly endpoint serves. Anything else is `NotImplemented` before
    /// authorization is even asked.
    S3Op {
        /// ListBuckets.
        ListBuckets,
        /// HeadBucket.
        HeadBucket,
        /// CreateBucket.
        CreateBucket,
        /// DeleteBucket.
        DeleteBucket,
        /// GetBucketCors.
        GetBucketCors,
        /// PutBucketCors.
        PutBucketCors,
        /// DeleteBucketCors.
        DeleteBucketCors,
        /// GetBucketLifecycleConfiguration.
        GetBucketLifecycleConfiguration,
        /// PutBucketLifecycleConfiguration.
        PutBucketLifecycleConfiguration,
        /// GetBucketLocation.
        GetBucketLocation,
        /// GetBucketEncryption.
        GetBucketEncryption,
        /// HeadObject.
        HeadObject,
        /// GetObject.
        GetObject,
        /// PutObject.
        PutObject,
        /// DeleteObject.
        DeleteObject,
        /// DeleteObjects (authorized once per key in the body).
        DeleteObjects,
        /// CopyObject (write on the destination, read on the source).
        CopyObject,
        /// CreateMultipartUpload.
        CreateMultipartUpload,
        /// UploadPart.
        UploadPart,
        /// UploadPartCopy (write on the destination, read on the source).
        UploadPartCopy,
        /// CompleteMultipartUpload.
        CompleteMultipartUpload,
        /// AbortMultipartUpload.
        AbortMultipartUpload,
        /// ListParts.
        ListParts,
        /// ListMultipartUploads.
        ListMultipartUploads,
        /// ListObjects (V1).
        ListObjects,
        /// ListObjectsV2.
        ListObjectsV2,
    }
}

/// What an operation addresses, which decides what `authorize` checks against paths.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// No bucket (ListBuckets).
    Account,
    /// A bucket as a whole.
    Bucket,
    /// One key.
    Key,
    /// A listing under a prefix.
    Prefix,
}

impl S3Op {
    /// The access class the operation needs.
    pub const fn access(self) -> Access {
        use S3Op::*;
        match self {
            ListBuckets => Access::AccountRead,
            CreateBucket => Access::AccountWrite,
            HeadBucket | GetBucketLocation => Access::BucketRead,
            GetBucketCors | GetBucketLifecycleConfiguration | GetBucketEncryption => {
                Access::ConfigRead
            }
            DeleteBucket | PutBucketCors | DeleteBucketCors | PutBucketLifecycleConfiguration => {
                Access::ConfigWrite
            }
            HeadObject | GetObject | ListParts => Access::ObjectRead,
            PutObject
            | DeleteObject
            | DeleteObjects
            | CopyObject
            | CreateMultipartUpload
            | UploadPart
            | UploadPartCopy
            | CompleteMultipartUpload
            | AbortMultipartUpload => Access::ObjectWrite,
            ListMultipartUploads | ListObjects | ListObjectsV2 => Access::List,
        }
    }

    /// What the operation addresses.
    pub const fn target(self) -> Target {
        match self.access() {
            Access::AccountRead => Target::Account,
            Access::AccountWrite
            | Access::BucketRead
            | Access::ConfigRead
            | Access::ConfigWrite => Target::Bucket,
            Access::ObjectRead | Access::ObjectWrite => Target::Key,
            Access::List => Target::Prefix,
        }
    }

    /// The token action that names this operation, if Cloudflare's vocabulary has one. An
    /// operation without one is refused to any token that carries an `actions` list.
    pub const fn action(self) -> Option<S3Action> {
        use S3Op::*;
        match self {
            HeadObject => Some(S3Action::HeadObject),
            GetObject => Some(S3Action::GetObject),
            GetBucketLocation => Some(S3Action::GetBucketLocation),
            ListObjects => Some(S3Action::ListObjectsV1),
            ListObjectsV2 => Some(S3Action::ListObjectsV2),
            ListMultipartUploads => Some(S3Action::ListMultipartUploads),
            ListParts => Some(S3Action::ListParts),
            PutObject => Some(S3Action::PutObject),
            DeleteObject => Some(S3Action::DeleteObject),
            DeleteObjects => Some(S3Action::DeleteObjects),
            CopyObject => Some(S3Action::CopyObject),
            CreateMultipartUpload => Some(S3Action::CreateMultipartUpload),
            UploadPart => Some(S3Action::UploadPart),
            UploadPartCopy => Some(S3Action::UploadPartCopy),
            AbortMultipartUpload => Some(S3Action::AbortMultipartUpload),
            CompleteMultipartUpload => Some(S3Action::CompleteMultipartUpload),
            ListBuckets
            | HeadBucket
            | CreateBucket
            | DeleteBucket
            | GetBucketCors
            | PutBucketCors
            | DeleteBucketCors
            | GetBucketLifecycleConfiguration
            | PutBucketLifecycleConfiguration
            | GetBucketEncryption => None,
        }
    }

    /// True for operations that also read a copy source.
    pub const fn reads_copy_source(self) -> bool {
        matches!(self, S3Op::CopyObject | S3Op::UploadPartCopy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permission_order_is_the_documented_partial_order() {
        use Permission::*;
        let expect = |a: Permission, b: Permission| -> bool {
            a == b || a == AdminReadWrite || b == ObjectReadOnly
        };
        for a in Permission::ALL {
            for b in Permission::ALL {
                assert_eq!(a.covers(b), expect(a, b), "{a} covers {b}");
            }
        }
        assert!(!ObjectReadWrite.covers(AdminReadOnly));
        assert!(!AdminReadOnly.covers(ObjectReadWrite));
    }

    #[test]
    fn permission_strings_round_trip() {
        for p in Permission::ALL {
            assert_eq!(Permission::parse(p.as_str()), Ok(p));
        }
        assert!(Permission::parse("Admin-Read-Write").is_err());
        assert!(Permission::parse("").is_err());
    }

    #[test]
    fn names_round_trip_and_are_case_sensitive() {
        for a in S3Action::ALL {
            assert_eq!(S3Action::parse(a.as_str()), Some(*a));
        }
        for op in S3Op::ALL {
            assert_eq!(S3Op::parse(op.as_str()), Some(*op));
        }
        assert_eq!(S3Action::parse("getobject"), None);
        assert_eq!(S3Action::parse("ListObjects"), None);
        assert_eq!(S3Action::ALL.len(), 16);
    }

    #[test]
    fn every_action_names_exactly_one_op() {
        for a in S3Action::ALL {
            let ops: Vec<_> = S3Op::ALL
                .iter()
                .filter(|op| op.action() == Some(*a))
                .collect();
            assert_eq!(ops.len(), 1, "{a}");
        }
    }
}
