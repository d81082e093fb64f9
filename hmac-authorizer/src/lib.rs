//! The originsig authorizer (work in progress).
