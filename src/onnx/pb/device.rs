//! Multi-device configuration and sharding (IR 11+).

/// `DeviceConfigurationProto`: a named set of devices a model can be run on.
#[derive(Clone, PartialEq, prost::Message)]
pub struct DeviceConfigurationProto {
    /// Configuration name, referred to by nodes (field 1).
    #[prost(string, optional, tag = "1")]
    pub name: Option<String>,
    /// Number of devices (field 2).
    #[prost(int32, optional, tag = "2")]
    pub num_devices: Option<i32>,
    /// Optional device names (field 3).
    #[prost(string, repeated, tag = "3")]
    pub device: Vec<String>,
}

/// `NodeDeviceConfigurationProto`: how one node runs under a device configuration.
#[derive(Clone, PartialEq, prost::Message)]
pub struct NodeDeviceConfigurationProto {
    /// Name of a [`DeviceConfigurationProto`] (field 1).
    #[prost(string, optional, tag = "1")]
    pub configuration_id: Option<String>,
    /// Sharding of the node's inputs and outputs (field 2).
    #[prost(message, repeated, tag = "2")]
    pub sharding_spec: Vec<ShardingSpecProto>,
    /// Pipeline stage of the node (field 3).
    #[prost(int32, optional, tag = "3")]
    pub pipeline_stage: Option<i32>,
}

/// `ShardingSpecProto`: how one tensor is split over devices.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ShardingSpecProto {
    /// The tensor sharded (field 1).
    #[prost(string, optional, tag = "1")]
    pub tensor_name: Option<String>,
    /// Devices or device groups (field 2, unpacked).
    #[prost(int64, repeated, packed = "false", tag = "2")]
    pub device: Vec<i64>,
    /// Device group → devices (field 3).
    #[prost(message, repeated, tag = "3")]
    pub index_to_device_group_map: Vec<IntIntListEntryProto>,
    /// Sharded axes (field 4).
    #[prost(message, repeated, tag = "4")]
    pub sharded_dim: Vec<ShardedDimProto>,
}

/// `IntIntListEntryProto`: an integer key and a list of integers.
#[derive(Clone, PartialEq, prost::Message)]
pub struct IntIntListEntryProto {
    /// Key (field 1).
    #[prost(int64, optional, tag = "1")]
    pub key: Option<i64>,
    /// Values (field 2, unpacked).
    #[prost(int64, repeated, packed = "false", tag = "2")]
    pub value: Vec<i64>,
}

/// `ShardedDimProto`: the sharding of one axis.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ShardedDimProto {
    /// Axis (field 1).
    #[prost(int64, optional, tag = "1")]
    pub axis: Option<i64>,
    /// Successive splits of the axis (field 2).
    #[prost(message, repeated, tag = "2")]
    pub simple_sharding: Vec<SimpleShardedDimProto>,
}

/// `SimpleShardedDimProto`: one split of an axis into equal shards.
#[derive(Clone, PartialEq, prost::Message)]
pub struct SimpleShardedDimProto {
    /// The axis size, fixed or symbolic (oneof `dim`, fields 1–2).
    #[prost(oneof = "simple_sharded_dim_proto::Dim", tags = "1, 2")]
    pub dim: Option<simple_sharded_dim_proto::Dim>,
    /// Number of shards (field 3).
    #[prost(int64, optional, tag = "3")]
    pub num_shards: Option<i64>,
}

/// Nested types of [`SimpleShardedDimProto`].
pub mod simple_sharded_dim_proto {
    /// The `dim` oneof.
    #[derive(Clone, PartialEq, prost::Oneof)]
    pub enum Dim {
        /// A fixed size (field 1).
        #[prost(int64, tag = "1")]
        DimValue(i64),
        /// A symbolic size (field 2).
        #[prost(string, tag = "2")]
        DimParam(String),
    }
}
