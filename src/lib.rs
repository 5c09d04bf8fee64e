//! berth: a terminal workspace manager for isolated Docker dev and agent environments.
//!
//! Layers point one way: `cli` -> `backend` -> `engine` -> `domain`.
pub mod backend;
pub mod cli;
pub mod config;
pub mod domain;
pub mod engine;
pub mod mcp;
pub mod private_fs;
pub mod ssh_client;
pub mod ssh_identity;
pub mod store;
pub mod terminal;
pub mod tui;
