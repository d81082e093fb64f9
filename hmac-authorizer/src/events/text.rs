//! Serde building blocks for reading only what the decision needs from an event's JSON text.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::de::value::MapAccessDeserializer;
use serde::de::{self, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

/// A JSON string, borrowed from the event when it has no escapes (the common case), owned when
/// it had to be unescaped. Any other JSON type is an error.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Text<'a>(pub Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor<'a>(PhantomData<&'a ()>);

        impl<'de: 'a, 'a> Visitor<'de> for TextVisitor<'a> {
            type Value = Text<'a>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }

            fn visit_borrowed_str<E: de::Error>(self, value: &'de str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Borrowed(value)))
            }

            fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(value.to_owned())))
            }

            fn visit_string<E: de::Error>(self, value: String) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(value)))
            }
        }

        deserializer.deserialize_str(TextVisitor(PhantomData))
    }
}

/// The two headers the authorizer reads, picked out of a `headers` object while every other
/// header is skipped unread. Names compare case-insensitively, as HTTP header names do.
#[derive(Debug, Clone, Default)]
pub struct SelectedHeaders<'a> {
    /// Every value of `x-originsig`, in order; several if the object repeats the name.
    pub signature: Vec<Text<'a>>,
    /// The last `x-amz-cf-id`.
    pub cf_request_id: Option<Text<'a>>,
}

impl<'de: 'a, 'a> Deserialize<'de> for SelectedHeaders<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct HeadersVisitor<'a>(PhantomData<&'a ()>);

        impl<'de: 'a, 'a> Visitor<'de> for HeadersVisitor<'a> {
            type Value = SelectedHeaders<'a>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object of headers")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut headers = SelectedHeaders::default();
                while let Some(name) = map.next_key::<HeaderName>()? {
                    match name {
                        HeaderName::Signature => headers.signature.push(map.next_value()?),
                        HeaderName::CloudFrontId => headers.cf_request_id = Some(map.next_value()?),
                        HeaderName::Other => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(headers)
            }
        }

        deserializer.deserialize_map(HeadersVisitor(PhantomData))
    }
}

/// A header name, classified without copying it.
enum HeaderName {
    Signature,
    CloudFrontId,
    Other,
}

impl<'de> Deserialize<'de> for HeaderName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NameVisitor;

        impl Visitor<'_> for NameVisitor {
            type Value = HeaderName;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a header name")
            }

            fn visit_str<E: de::Error>(self, name: &str) -> Result<Self::Value, E> {
                Ok(if name.eq_ignore_ascii_case(originsig_core::HEADER_NAME) {
                    HeaderName::Signature
                } else if name.eq_ignore_ascii_case("x-amz-cf-id") {
                    HeaderName::CloudFrontId
                } else {
                    HeaderName::Other
                })
            }
        }

        deserializer.deserialize_str(NameVisitor)
    }
}

/// A JSON object read into `T`, and only an object: serde's derived structs also accept an
/// array (fields by position), which no API Gateway event contains.
#[derive(Debug, Clone, Default)]
pub struct Object<T>(pub T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Object<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ObjectVisitor<T>(PhantomData<T>);

        impl<'de, T: Deserialize<'de>> Visitor<'de> for ObjectVisitor<T> {
            type Value = Object<T>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                T::deserialize(MapAccessDeserializer::new(map)).map(Object)
            }
        }

        deserializer.deserialize_map(ObjectVisitor(PhantomData))
    }
}
