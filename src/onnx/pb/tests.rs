//! Wire-level checks of the proto2 semantics, with bytes worked out from the protobuf
//! encoding rules (key = field << 3 | wire type; 0 varint, 1 fixed64, 2 length-delimited,
//! 5 fixed32).

use prost::Message;

use super::tensor_proto::DataType;
use super::tensor_shape_proto::{dimension, Dimension};
use super::type_proto::{self, Value};
use super::*;

#[test]
fn explicit_zero_and_empty_values_are_kept() {
    let a = AttributeProto {
        name: Some(String::new()),
        i: Some(0),
        ..Default::default()
    };
    // name: key 0x0a, length 0; i: key 0x18, varint 0.
    assert_eq!(a.encode_to_vec(), [0x0a, 0x00, 0x18, 0x00]);
    assert_eq!(
        AttributeProto::decode(&[0x0a, 0x00, 0x18, 0x00][..]).unwrap(),
        a
    );
    // Absent stays absent.
    assert!(AttributeProto::default().encode_to_vec().is_empty());
}

#[test]
fn dims_and_attribute_lists_are_unpacked_tensor_payloads_packed() {
    let t = TensorProto {
        dims: vec![2, 3],
        float_data: vec![1.0],
        ..Default::default()
    };
    let mut want = vec![0x08, 0x02, 0x08, 0x03]; // dims: one key per element
    want.extend([0x22, 0x04]); // float_data: key 4 / wire 2, 4 bytes
    want.extend(1.0f32.to_le_bytes());
    assert_eq!(t.encode_to_vec(), want);
    let a = AttributeProto {
        ints: vec![1, -1],
        ..Default::default()
    };
    let mut want = vec![0x40, 0x01, 0x40]; // ints: key 8 / wire 0 per element
    want.extend([0xff; 9]);
    want.push(0x01); // -1 as a 10-byte varint
    assert_eq!(a.encode_to_vec(), want);
}

#[test]
fn decoders_accept_both_encodings_of_repeated_scalars() {
    // dims packed (key 1 / wire 2), float_data unpacked (key 4 / wire 5).
    let mut bytes = vec![0x0a, 0x02, 0x02, 0x03, 0x25];
    bytes.extend(1.5f32.to_le_bytes());
    let t = TensorProto::decode(&bytes[..]).unwrap();
    assert_eq!(t.dims, [2, 3]);
    assert_eq!(t.float_data, [1.5]);
    // Re-encoded in the schema's own form.
    let mut want = vec![0x08, 0x02, 0x08, 0x03, 0x22, 0x04];
    want.extend(1.5f32.to_le_bytes());
    assert_eq!(t.encode_to_vec(), want);
}

#[test]
fn type_proto_writes_denotation_between_the_oneof_members() {
    let optional = TypeProto {
        value: Some(Value::OptionalType(type_proto::Optional::default())),
        denotation: Some("x".into()),
    };
    // denotation (6) before optional_type (9), as protobuf orders fields.
    let bytes = optional.encode_to_vec();
    assert_eq!(bytes, [0x32, 0x01, b'x', 0x4a, 0x00]);
    assert_eq!(TypeProto::decode(&bytes[..]).unwrap(), optional);
    let tensor = TypeProto {
        value: Some(Value::TensorType(type_proto::Tensor {
            elem_type: Some(DataType::Float as i32),
            shape: None,
        })),
        denotation: Some("x".into()),
    };
    // tensor_type (1) before denotation (6).
    assert_eq!(
        tensor.encode_to_vec(),
        [0x0a, 0x02, 0x08, 0x01, 0x32, 0x01, b'x']
    );
    assert_eq!(tensor.encoded_len(), 7);
    let mut cleared = tensor.clone();
    cleared.clear();
    assert_eq!(cleared, TypeProto::default());
}

#[test]
fn nested_types_and_dimensions_round_trip() {
    let dim = |v| Dimension {
        value: Some(v),
        denotation: None,
    };
    let seq = TypeProto {
        value: Some(Value::SequenceType(type_proto::Sequence {
            elem_type: Some(Box::new(TypeProto {
                value: Some(Value::TensorType(type_proto::Tensor {
                    elem_type: Some(DataType::Float16 as i32),
                    shape: Some(TensorShapeProto {
                        dim: vec![
                            dim(dimension::Value::DimParam("batch".into())),
                            dim(dimension::Value::DimValue(0)),
                        ],
                    }),
                })),
                denotation: None,
            })),
        })),
        denotation: None,
    };
    let bytes = seq.encode_to_vec();
    assert_eq!(TypeProto::decode(&bytes[..]).unwrap(), seq);
}

#[test]
fn unknown_fields_are_skipped_and_malformed_bytes_rejected() {
    // Field 99 (varint) is not in the schema: skipped, the known field kept.
    let bytes = [0x98, 0x06, 0x05, 0x0a, 0x01, b'n'];
    let v = ValueInfoProto::decode(&bytes[..]).unwrap();
    assert_eq!(v.name.as_deref(), Some("n"));
    // A length running past the end, and a name that is not UTF-8.
    assert!(ValueInfoProto::decode(&[0x0a, 0x05, b'n'][..]).is_err());
    assert!(ValueInfoProto::decode(&[0x0a, 0x01, 0xff][..]).is_err());
}
