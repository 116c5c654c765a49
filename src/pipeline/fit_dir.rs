//! Layout of the fit directory.
