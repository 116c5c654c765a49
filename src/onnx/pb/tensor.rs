//! Dense and sparse constant tensors.

use super::StringStringEntryProto;

/// `TensorProto`: a constant tensor, its bytes inline (`raw_data` or a typed list) or in
/// a side file (`data_location = EXTERNAL`).
#[derive(Clone, PartialEq, prost::Message)]
pub struct TensorProto {
    /// Shape (field 1, unpacked).
    #[prost(int64, repeated, packed = "false", tag = "1")]
    pub dims: Vec<i64>,
    /// Element type, a [`tensor_proto::DataType`] (field 2).
    #[prost(int32, optional, tag = "2")]
    pub data_type: Option<i32>,
    /// Part of a chunked tensor (field 3).
    #[prost(message, optional, tag = "3")]
    pub segment: Option<tensor_proto::Segment>,
    /// FLOAT / COMPLEX64 payload (field 4, packed).
    #[prost(float, repeated, packed = "true", tag = "4")]
    pub float_data: Vec<f32>,
    /// Payload of the integer types narrower than 64 bits, BOOL, FLOAT16, BFLOAT16 and
    /// the 8-, 6-, 4- and 2-bit types, as bit patterns (field 5, packed).
    #[prost(int32, repeated, packed = "true", tag = "5")]
    pub int32_data: Vec<i32>,
    /// STRING payload (field 6).
    #[prost(bytes = "vec", repeated, tag = "6")]
    pub string_data: Vec<Vec<u8>>,
    /// INT64 payload (field 7, packed).
    #[prost(int64, repeated, packed = "true", tag = "7")]
    pub int64_data: Vec<i64>,
    /// Tensor name (field 8).
    #[prost(string, optional, tag = "8")]
    pub name: Option<String>,
    /// Fixed-width little-endian payload of any non-string type (field 9).
    #[prost(bytes = "vec", optional, tag = "9")]
    pub raw_data: Option<Vec<u8>>,
    /// DOUBLE / COMPLEX128 payload (field 10, packed).
    #[prost(double, repeated, packed = "true", tag = "10")]
    pub double_data: Vec<f64>,
    /// UINT32 / UINT64 payload (field 11, packed).
    #[prost(uint64, repeated, packed = "true", tag = "11")]
    pub uint64_data: Vec<u64>,
    /// Free text (field 12).
    #[prost(string, optional, tag = "12")]
    pub doc_string: Option<String>,
    /// Where external bytes are: `location`, `offset`, `length`, `checksum` (field 13).
    #[prost(message, repeated, tag = "13")]
    pub external_data: Vec<StringStringEntryProto>,
    /// A [`tensor_proto::DataLocation`] (field 14).
    #[prost(enumeration = "tensor_proto::DataLocation", optional, tag = "14")]
    pub data_location: Option<i32>,
    /// Named string metadata (field 16).
    #[prost(message, repeated, tag = "16")]
    pub metadata_props: Vec<StringStringEntryProto>,
}

/// Nested types of [`TensorProto`].
pub mod tensor_proto {
    /// `TensorProto.Segment`: the element range `[begin, end)` this chunk holds.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Segment {
        /// First element (field 1).
        #[prost(int64, optional, tag = "1")]
        pub begin: Option<i64>,
        /// One past the last element (field 2).
        #[prost(int64, optional, tag = "2")]
        pub end: Option<i64>,
    }

    /// `TensorProto.DataType`: element types.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
    #[repr(i32)]
    pub enum DataType {
        /// Not set.
        Undefined = 0,
        /// 32-bit IEEE float.
        Float = 1,
        /// Unsigned 8-bit integer.
        Uint8 = 2,
        /// Signed 8-bit integer.
        Int8 = 3,
        /// Unsigned 16-bit integer.
        Uint16 = 4,
        /// Signed 16-bit integer.
        Int16 = 5,
        /// Signed 32-bit integer.
        Int32 = 6,
        /// Signed 64-bit integer.
        Int64 = 7,
        /// UTF-8 string.
        String = 8,
        /// Boolean.
        Bool = 9,
        /// IEEE half.
        Float16 = 10,
        /// 64-bit IEEE float.
        Double = 11,
        /// Unsigned 32-bit integer.
        Uint32 = 12,
        /// Unsigned 64-bit integer.
        Uint64 = 13,
        /// Two f32 (real, imaginary).
        Complex64 = 14,
        /// Two f64 (real, imaginary).
        Complex128 = 15,
        /// bfloat16.
        Bfloat16 = 16,
        /// 8-bit float E4M3, NaN but no infinity.
        Float8e4m3fn = 17,
        /// 8-bit float E4M3, NaN, no infinity, no negative zero.
        Float8e4m3fnuz = 18,
        /// 8-bit float E5M2 (IEEE-like).
        Float8e5m2 = 19,
        /// 8-bit float E5M2, no infinity, no negative zero.
        Float8e5m2fnuz = 20,
        /// Unsigned 4-bit integer, two per byte.
        Uint4 = 21,
        /// Signed 4-bit integer, two per byte.
        Int4 = 22,
        /// 4-bit float E2M1, two per byte.
        Float4e2m1 = 23,
        /// 8-bit exponent-only float E8M0.
        Float8e8m0 = 24,
        /// Unsigned 2-bit integer, four per byte.
        Uint2 = 25,
        /// Signed 2-bit integer, four per byte.
        Int2 = 26,
        /// 6-bit float E2M3.
        Float6e2m3 = 27,
        /// 6-bit float E3M2.
        Float6e3m2 = 28,
    }

    /// `TensorProto.DataLocation`: where the bytes of a tensor are.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
    #[repr(i32)]
    pub enum DataLocation {
        /// In this message.
        Default = 0,
        /// In a side file described by `external_data`.
        External = 1,
    }
}

/// `SparseTensorProto`: a sparse tensor as the values at a list of indices.
#[derive(Clone, PartialEq, prost::Message)]
pub struct SparseTensorProto {
    /// The non-default values, a 1-D tensor of NNZ elements (field 1).
    #[prost(message, optional, tag = "1")]
    pub values: Option<TensorProto>,
    /// INT64 indices, `[NNZ]` linearized or `[NNZ, rank]` (field 2).
    #[prost(message, optional, tag = "2")]
    pub indices: Option<TensorProto>,
    /// Dense shape (field 3, unpacked).
    #[prost(int64, repeated, packed = "false", tag = "3")]
    pub dims: Vec<i64>,
}
