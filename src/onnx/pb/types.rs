//! Value types and tensor shapes.

use prost::bytes::{Buf, BufMut};
use prost::encoding::{self, wire_type::WireType, DecodeContext};
use prost::DecodeError;

/// Field number of [`TypeProto::denotation`]: the `value` oneof has members on both sides.
const DENOTATION: u32 = 6;

/// `TypeProto`: the type of a value (tensor, sequence, map, optional, sparse tensor, opaque).
///
/// `Message` is implemented by hand rather than derived: protobuf writes fields in field
/// number order, so `denotation` (6) goes between `map_type` (5) and `opaque_type` (7),
/// while a derived oneof is always written at the position of its lowest tag.
#[derive(Clone, PartialEq, Default, Debug)]
pub struct TypeProto {
    /// The kind of value (oneof `value`: fields 1, 4, 5, 7, 8, 9).
    pub value: Option<type_proto::Value>,
    /// Denotation, e.g. `IMAGE` (field 6).
    pub denotation: Option<String>,
}

impl prost::Message for TypeProto {
    fn encode_raw(&self, buf: &mut impl BufMut) {
        let value_tag = self.value.as_ref().map(type_proto::Value::tag);
        if let (Some(v), Some(tag)) = (&self.value, value_tag) {
            if tag < DENOTATION {
                v.encode(buf);
            }
        }
        if let Some(d) = &self.denotation {
            encoding::string::encode(DENOTATION, d, buf);
        }
        if let (Some(v), Some(tag)) = (&self.value, value_tag) {
            if tag > DENOTATION {
                v.encode(buf);
            }
        }
    }

    fn merge_field(
        &mut self,
        tag: u32,
        wire_type: WireType,
        buf: &mut impl Buf,
        ctx: DecodeContext,
    ) -> Result<(), DecodeError> {
        match tag {
            1 | 4 | 5 | 7 | 8 | 9 => {
                type_proto::Value::merge(&mut self.value, tag, wire_type, buf, ctx)
            }
            DENOTATION => {
                let d = self.denotation.get_or_insert_with(String::new);
                encoding::string::merge(wire_type, d, buf, ctx)
            }
            _ => encoding::skip_field(wire_type, tag, buf, ctx),
        }
    }

    fn encoded_len(&self) -> usize {
        self.value
            .as_ref()
            .map_or(0, type_proto::Value::encoded_len)
            + self
                .denotation
                .as_ref()
                .map_or(0, |d| encoding::string::encoded_len(DENOTATION, d))
    }

    fn clear(&mut self) {
        self.value = None;
        self.denotation = None;
    }
}

/// Nested types of [`TypeProto`].
pub mod type_proto {
    /// `TypeProto.Tensor`: a dense tensor's element type and shape.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Tensor {
        /// Element type, a [`super::super::tensor_proto::DataType`] (field 1).
        #[prost(int32, optional, tag = "1")]
        pub elem_type: Option<i32>,
        /// Shape; absent means unknown rank (field 2).
        #[prost(message, optional, tag = "2")]
        pub shape: Option<super::TensorShapeProto>,
    }

    /// `TypeProto.Sequence`: a sequence of values of one type.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Sequence {
        /// Element type (field 1).
        #[prost(message, optional, boxed, tag = "1")]
        pub elem_type: Option<Box<super::TypeProto>>,
    }

    /// `TypeProto.Map`: a map from a scalar key type to a value type.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Map {
        /// Key type, an integer or string [`super::super::tensor_proto::DataType`] (field 1).
        #[prost(int32, optional, tag = "1")]
        pub key_type: Option<i32>,
        /// Value type (field 2).
        #[prost(message, optional, boxed, tag = "2")]
        pub value_type: Option<Box<super::TypeProto>>,
    }

    /// `TypeProto.Optional`: a value that may be absent.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Optional {
        /// Type of the value when present (field 1).
        #[prost(message, optional, boxed, tag = "1")]
        pub elem_type: Option<Box<super::TypeProto>>,
    }

    /// `TypeProto.SparseTensor`: a sparse tensor's element type and shape.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct SparseTensor {
        /// Element type (field 1).
        #[prost(int32, optional, tag = "1")]
        pub elem_type: Option<i32>,
        /// Shape (field 2).
        #[prost(message, optional, tag = "2")]
        pub shape: Option<super::TensorShapeProto>,
    }

    /// `TypeProto.Opaque`: a type known to a custom domain only.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Opaque {
        /// Domain of the type (field 1).
        #[prost(string, optional, tag = "1")]
        pub domain: Option<String>,
        /// Name of the type (field 2).
        #[prost(string, optional, tag = "2")]
        pub name: Option<String>,
    }

    /// The `value` oneof of [`super::TypeProto`].
    #[derive(Clone, PartialEq, prost::Oneof)]
    pub enum Value {
        /// A dense tensor (field 1).
        #[prost(message, tag = "1")]
        TensorType(Tensor),
        /// A sequence (field 4).
        #[prost(message, tag = "4")]
        SequenceType(Sequence),
        /// A map (field 5).
        #[prost(message, tag = "5")]
        MapType(Map),
        /// An opaque type (field 7).
        #[prost(message, tag = "7")]
        OpaqueType(Opaque),
        /// A sparse tensor (field 8).
        #[prost(message, tag = "8")]
        SparseTensorType(SparseTensor),
        /// An optional value (field 9).
        #[prost(message, tag = "9")]
        OptionalType(Optional),
    }

    impl Value {
        /// The field number of the member that is set.
        pub fn tag(&self) -> u32 {
            match self {
                Value::TensorType(_) => 1,
                Value::SequenceType(_) => 4,
                Value::MapType(_) => 5,
                Value::OpaqueType(_) => 7,
                Value::SparseTensorType(_) => 8,
                Value::OptionalType(_) => 9,
            }
        }
    }
}

/// `TensorShapeProto`: a list of dimensions.
#[derive(Clone, PartialEq, prost::Message)]
pub struct TensorShapeProto {
    /// Dimensions, outermost first (field 1).
    #[prost(message, repeated, tag = "1")]
    pub dim: Vec<tensor_shape_proto::Dimension>,
}

/// Nested types of [`TensorShapeProto`].
pub mod tensor_shape_proto {
    /// One dimension: a fixed size, a symbolic name, or unknown.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Dimension {
        /// The size or the symbol (oneof `value`, fields 1–2).
        #[prost(oneof = "dimension::Value", tags = "1, 2")]
        pub value: Option<dimension::Value>,
        /// Denotation, e.g. `DATA_BATCH` (field 3).
        #[prost(string, optional, tag = "3")]
        pub denotation: Option<String>,
    }

    /// Nested types of [`Dimension`].
    pub mod dimension {
        /// The `value` oneof of [`super::Dimension`].
        #[derive(Clone, PartialEq, prost::Oneof)]
        pub enum Value {
            /// A fixed size (field 1).
            #[prost(int64, tag = "1")]
            DimValue(i64),
            /// A symbolic name such as `batch` (field 2).
            #[prost(string, tag = "2")]
            DimParam(String),
        }
    }
}
