//! The idempotent producer state machine (sans-IO).
