//! export stage (filled in by its issue).
