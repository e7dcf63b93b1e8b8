//! Kudakyar iris engine (filled by its own issue).
