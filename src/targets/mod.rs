//! Target lifecycle: dependency bootstrap, private PostgreSQL, local target
//! processes, compose and external targets, teardown.
