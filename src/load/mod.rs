//! load stage (filled in by its issue).
