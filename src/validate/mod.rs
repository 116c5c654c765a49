//! validate stage (filled in by its issue).
