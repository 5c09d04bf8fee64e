//! Pure domain logic: no async runtime, no engine SDK, no terminal, no filesystem I/O.
pub mod create_checks;
pub mod create_options;
pub mod dotfiles;
pub mod env;
pub mod labels;
pub mod naming;
pub mod observe;
pub mod ports;
pub mod profiles;
pub mod provision;
pub mod redact;
pub mod resources;
pub mod snapshot;
pub mod ssh_forward;
pub mod text_pos;
pub mod workspace;
