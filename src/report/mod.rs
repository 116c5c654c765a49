//! report stage (filled in by its issue).
