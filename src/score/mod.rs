//! score stage (filled in by its issue).
