//! The embedded terminal: key/mouse/paste encoding, the screen model, and PTY
//! sessions (ssh to the workspace's port in a local PTY).
//!
//! Transport: `ssh -tt` through the workspace's published port, inside a PTY made by
//! portable-pty. Chosen over the engine's exec API because it gives real PTY
//! semantics end to end (window-change on resize, signals, the shell's exit
//! status, disconnect when the workspace stops), uses the pinned host key like
//! `berth ssh`, needs no docker CLI, and avoids bollard's TTY-stream decoder, which
//! takes a chunk starting with 0x00-0x02 for a multiplexed header.
//!
//! Screen model: alacritty_terminal's emulator behind `term::Term`, seen by the rest
//! of berth only through `screen`'s types.
pub mod keys;
pub mod screen;
pub mod session;
pub mod term;
mod term_cells;
mod term_events;
mod term_fixups;
mod term_handler;

#[cfg(test)]
mod term_tests;
