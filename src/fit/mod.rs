//! fit stage (filled in by its issue).
