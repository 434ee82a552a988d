//! Request bodies and query strings: bounded, strict, and every failure points at its field.
//!
//! [`JsonBody`] replaces axum's `Json` so that no rejection ever leaves as plain text: the body
//! is size-bounded, must be a JSON object, and duplicate keys are refused at any depth
//! (STYLE.md §4: parsers reject duplicates). Handlers then read fields through [`Fields`],
//! which knows each field's JSON pointer and refuses whatever is left unread.

use std::cell::RefCell;
use std::fmt;

use axum::extract::{FromRequest, Request};
use axum::http::header;
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

use crate::ApiState;
use crate::error::{ApiError, RequestError};

/// Largest accepted request body. The biggest legitimate body (a temporary-credential request
/// with the maximum number of paths) is far below this.
pub(crate) const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Deepest nesting accepted; no Mayfly body nests more than four levels.
const MAX_DEPTH: usize = 32;

/// A request body that is one JSON object without duplicate keys.
#[derive(Debug)]
pub(crate) struct JsonBody(pub(crate) Fields);

impl FromRequest<ApiState> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &ApiState) -> Result<Self, Self::Rejection> {
        if let Some(content_type) = req.headers().get(header::CONTENT_TYPE) {
            // Absent is accepted (curl without -H); present must say JSON.
            let is_json = content_type
                .to_str()
                .ok()
                .and_then(|v| v.split(';').next())
                .map(|mime| {
                    let mime = mime.trim().to_ascii_lowercase();
                    mime == "application/json" || mime.ends_with("+json")
                })
                .unwrap_or(false);
            if !is_json {
                return Err(RequestError::UnsupportedMediaType.into());
            }
        }
        let bytes = read_bounded(req.into_body(), state.config.body_idle_timeout).await?;
        parse_object(&bytes).map(JsonBody)
    }
}

/// Reads a whole body of at most [`MAX_BODY_BYTES`], waiting at most `idle` for each piece.
async fn read_bounded(
    body: axum::body::Body,
    idle: Option<std::time::Duration>,
) -> Result<Vec<u8>, RequestError> {
    use http_body_util::BodyExt;
    let mut body = http_body_util::Limited::new(body, MAX_BODY_BYTES);
    let mut bytes = Vec::new();
    loop {
        let next = body.frame();
        let frame = match idle {
            Some(limit) => tokio::time::timeout(limit, next)
                .await
                .map_err(|_| RequestError::BodyTimeout)?,
            None => next.await,
        };
        match frame {
            None => return Ok(bytes),
            // Over the limit, or the connection broke mid-body: either way no whole body.
            Some(Err(_)) => return Err(RequestError::PayloadTooLarge),
            Some(Ok(frame)) => {
                if let Ok(data) = frame.into_data() {
                    bytes.extend_from_slice(&data);
                }
            }
        }
    }
}

/// Parses `bytes` as one JSON object, refusing duplicate keys and trailing data.
pub(crate) fn parse_object(bytes: &[u8]) -> Result<Fields, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(RequestError::MalformedJson {
            pointer: String::new(),
            reason: "empty body",
        }
        .into());
    }
    let duplicate = RefCell::new(None);
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let parsed = StrictValue {
        path: String::new(),
        depth: 0,
        duplicate: &duplicate,
    }
    .deserialize(&mut de)
    .and_then(|v| de.end().map(|()| v));
    match parsed {
        Ok(Value::Object(map)) => Ok(Fields {
            map,
            prefix: String::new(),
        }),
        Ok(_) => Err(RequestError::MalformedJson {
            pointer: String::new(),
            reason: "the body must be a JSON object",
        }
        .into()),
        Err(_) => match duplicate.into_inner() {
            Some(pointer) => Err(RequestError::field(pointer, "duplicate key").into()),
            None => Err(RequestError::MalformedJson {
                pointer: String::new(),
                reason: "not valid JSON",
            }
            .into()),
        },
    }
}

/// Escapes one reference token for a JSON pointer (RFC 6901).
pub(crate) fn pointer_token(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

struct StrictValue<'a> {
    path: String,
    depth: usize,
    duplicate: &'a RefCell<Option<String>>,
}

impl<'de> DeserializeSeed<'de> for StrictValue<'_> {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StrictValue<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("non-finite number"))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        if self.depth >= MAX_DEPTH {
            return Err(de::Error::custom("nested too deeply"));
        }
        let mut out = Vec::new();
        loop {
            let child = StrictValue {
                path: format!("{}/{}", self.path, out.len()),
                depth: self.depth + 1,
                duplicate: self.duplicate,
            };
            match seq.next_element_seed(child)? {
                Some(v) => out.push(v),
                None => return Ok(Value::Array(out)),
            }
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        if self.depth >= MAX_DEPTH {
            return Err(de::Error::custom("nested too deeply"));
        }
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let path = format!("{}/{}", self.path, pointer_token(&key));
            if out.contains_key(&key) {
                *self.duplicate.borrow_mut() = Some(path);
                return Err(de::Error::custom("duplicate key"));
            }
            let child = StrictValue {
                path,
                depth: self.depth + 1,
                duplicate: self.duplicate,
            };
            let value = map.next_value_seed(child)?;
            out.insert(key, value);
        }
        Ok(Value::Object(out))
    }
}

/// The fields of one JSON object, consumed one by one. Every accessor reports errors with the
/// field's pointer; [`Fields::finish`] refuses any field nobody read.
#[derive(Debug, Clone)]
pub(crate) struct Fields {
    map: Map<String, Value>,
    /// Pointer of this object inside the body (`""` for the top level).
    prefix: String,
}

/// JSON type names for messages.
fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

impl Fields {
    /// Pointer of field `name` of this object.
    pub(crate) fn pointer(&self, name: &str) -> String {
        format!("{}/{}", self.prefix, pointer_token(name))
    }

    /// Removes a field; JSON `null` counts as absent (SDKs send `null` for unset options).
    pub(crate) fn take(&mut self, name: &str) -> Option<Value> {
        match self.map.remove(name) {
            None | Some(Value::Null) => None,
            Some(v) => Some(v),
        }
    }

    /// A required string field.
    pub(crate) fn required_str(&mut self, name: &str) -> Result<String, ApiError> {
        self.optional_str(name)?
            .ok_or_else(|| RequestError::field(self.pointer(name), "is required").into())
    }

    /// An optional string field.
    pub(crate) fn optional_str(&mut self, name: &str) -> Result<Option<String>, ApiError> {
        match self.take(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(RequestError::field(
                self.pointer(name),
                format!("must be a string, not {}", type_name(&other)),
            )
            .into()),
        }
    }

    /// An optional array of strings; element errors point at the element.
    pub(crate) fn optional_str_list(
        &mut self,
        name: &str,
    ) -> Result<Option<Vec<String>>, ApiError> {
        let pointer = self.pointer(name);
        match self.take(name) {
            None => Ok(None),
            Some(Value::Array(items)) => items
                .into_iter()
                .enumerate()
                .map(|(i, item)| match item {
                    Value::String(s) => Ok(s),
                    other @ (Value::Null
                    | Value::Bool(_)
                    | Value::Number(_)
                    | Value::Array(_)
                    | Value::Object(_)) => Err(RequestError::field(
                        format!("{pointer}/{i}"),
                        format!("must be a string, not {}", type_name(&other)),
                    )
                    .into()),
                })
                .collect::<Result<Vec<_>, ApiError>>()
                .map(Some),
            Some(other) => Err(RequestError::field(
                pointer,
                format!("must be an array of strings, not {}", type_name(&other)),
            )
            .into()),
        }
    }

    /// An optional number field, as its JSON number.
    pub(crate) fn optional_number(&mut self, name: &str) -> Result<Option<Number>, ApiError> {
        match self.take(name) {
            None => Ok(None),
            Some(Value::Number(n)) => Ok(Some(n)),
            Some(other) => Err(RequestError::field(
                self.pointer(name),
                format!("must be a number, not {}", type_name(&other)),
            )
            .into()),
        }
    }

    /// An optional array of objects, each wrapped as [`Fields`] with its own pointer.
    pub(crate) fn optional_object_list(
        &mut self,
        name: &str,
    ) -> Result<Option<Vec<Fields>>, ApiError> {
        let pointer = self.pointer(name);
        match self.take(name) {
            None => Ok(None),
            Some(Value::Array(items)) => items
                .into_iter()
                .enumerate()
                .map(|(i, item)| match item {
                    Value::Object(map) => Ok(Fields {
                        map,
                        prefix: format!("{pointer}/{i}"),
                    }),
                    other @ (Value::Null
                    | Value::Bool(_)
                    | Value::Number(_)
                    | Value::String(_)
                    | Value::Array(_)) => Err(RequestError::field(
                        format!("{pointer}/{i}"),
                        format!("must be an object, not {}", type_name(&other)),
                    )
                    .into()),
                })
                .collect::<Result<Vec<_>, ApiError>>()
                .map(Some),
            Some(other) => Err(RequestError::field(
                pointer,
                format!("must be an array, not {}", type_name(&other)),
            )
            .into()),
        }
    }

    /// An optional object field as [`Fields`].
    pub(crate) fn optional_object(&mut self, name: &str) -> Result<Option<Fields>, ApiError> {
        let pointer = self.pointer(name);
        match self.take(name) {
            None => Ok(None),
            Some(Value::Object(map)) => Ok(Some(Fields {
                map,
                prefix: pointer,
            })),
            Some(other) => Err(RequestError::field(
                pointer,
                format!("must be an object, not {}", type_name(&other)),
            )
            .into()),
        }
    }

    /// True when the object has this key (even with a `null` value).
    pub(crate) fn has(&self, name: &str) -> bool {
        self.map.contains_key(name)
    }

    /// Remaining entries, for objects whose keys are data (resource maps).
    pub(crate) fn drain(self) -> (String, Vec<(String, Value)>) {
        (self.prefix, self.map.into_iter().collect())
    }

    /// Refuses the first (in key order) field nobody read.
    pub(crate) fn finish(self) -> Result<(), ApiError> {
        match self.map.keys().next() {
            None => Ok(()),
            Some(key) => Err(RequestError::field(
                format!("{}/{}", self.prefix, pointer_token(key)),
                "unknown field",
            )
            .into()),
        }
    }
}

/// A parsed query string: each parameter at most once. Errors point at `/<name>`.
#[derive(Debug, Default)]
pub(crate) struct QueryParams {
    pairs: Vec<(String, String)>,
}

impl QueryParams {
    /// Parses `a=b&c=d` (percent- and `+`-decoded). A repeated parameter is refused.
    pub(crate) fn parse(raw: Option<&str>) -> Result<Self, ApiError> {
        let mut pairs: Vec<(String, String)> = Vec::new();
        for (k, v) in form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
            if pairs.iter().any(|(seen, _)| *seen == k) {
                return Err(RequestError::field(
                    format!("/{}", pointer_token(&k)),
                    "given more than once",
                )
                .into());
            }
            pairs.push((k.into_owned(), v.into_owned()));
        }
        Ok(Self { pairs })
    }

    /// The value of `name`, if given.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    fn pointer_of(r: Result<Fields, ApiError>) -> Option<String> {
        r.err().and_then(|e| e.pointer().map(str::to_owned))
    }

    #[test]
    fn duplicate_keys_are_refused_with_their_pointer() {
        assert_eq!(
            pointer_of(parse_object(br#"{"a":1,"a":2}"#)),
            Some("/a".into())
        );
        assert_eq!(
            pointer_of(parse_object(br#"{"p":[{"x/y":1,"x/y":1}]}"#)),
            Some("/p/0/x~1y".into())
        );
    }

    #[test]
    fn non_objects_and_garbage_are_malformed_json() {
        for body in [
            &b""[..],
            b"   ",
            b"[]",
            b"1",
            b"{",
            b"{}x",
            b"{\"a\":}",
            b"nul",
        ] {
            let err = parse_object(body).err();
            assert_eq!(
                err.as_ref().map(|e| e.code()),
                Some(crate::error::codes::MALFORMED_JSON),
                "{body:?}"
            );
            assert_eq!(err.as_ref().and_then(|e| e.pointer()), Some(""));
        }
    }

    #[test]
    fn fields_report_types_and_leftovers() {
        let Ok(mut f) = parse_object(br#"{"s":"x","n":3600.0,"l":["a",1],"z":null,"u":1}"#) else {
            panic!("valid body");
        };
        assert_eq!(f.required_str("s").ok(), Some("x".into()));
        assert!(f.optional_number("n").ok().flatten().is_some());
        let list = f.optional_str_list("l").err();
        assert_eq!(list.as_ref().and_then(|e| e.pointer()), Some("/l/1"));
        assert!(matches!(f.optional_str("z"), Ok(None)));
        let left = f.finish().err();
        assert_eq!(left.as_ref().and_then(|e| e.pointer()), Some("/u"));
    }

    #[test]
    fn repeated_query_parameters_are_refused() {
        assert!(QueryParams::parse(Some("a=1&a=2")).is_err());
        let q = QueryParams::parse(Some("cursor=abc%3D&x=a+b")).ok();
        assert_eq!(q.as_ref().and_then(|q| q.get("cursor")), Some("abc="));
        assert_eq!(q.as_ref().and_then(|q| q.get("x")), Some("a b"));
    }
}
