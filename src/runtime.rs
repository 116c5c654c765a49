//! ONNX Runtime loading.
