//! The MTM v1 gRPC API: generated messages, clients and servers for every `mtm.*.v1` package,
//! and the encoded file descriptor set that every server mounts for reflection.
#![allow(
    missing_docs,
    clippy::large_enum_variant,
    clippy::doc_lazy_continuation
)]

include!(concat!(env!("OUT_DIR"), "/mtm.rs"));

/// Encoded `FileDescriptorSet` of every MTM `.proto` file and its imports, for server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/mtm_descriptor.bin"));
