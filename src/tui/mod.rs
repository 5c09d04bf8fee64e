//! The terminal UI. `app` runs the loop; `update` is the pure state machine; `panes`
//! draw; `keymap` and `theme` are data loaded from config.
pub mod agents_view;
#[cfg(test)]
mod agents_view_tests;
#[cfg(test)]
mod alerts_tests;
pub mod app;
pub mod chord;
pub mod copy_form;
#[cfg(test)]
mod dialog_tests;
pub mod diff_view;
pub mod effects;
pub mod egress_ring;
pub mod egress_view;
#[cfg(test)]
mod egress_view_tests;
pub mod engines;
#[cfg(test)]
mod engines_tests;
pub mod form;
pub mod form_memory;
#[cfg(test)]
mod form_tests;
pub mod jobs_status;
#[cfg(test)]
mod jobs_status_tests;
pub mod keymap;
pub mod layout;
pub mod logbuf;
pub mod mcp_view;
#[cfg(test)]
mod mcp_view_tests;
pub mod panes;
#[cfg(test)]
mod runtime_tests;
pub mod screen_out;
#[cfg(test)]
mod shell_tests;
pub mod shell_use;
pub mod snapshot_view;
#[cfg(test)]
mod snapshot_view_tests;
pub mod state;
pub mod theme;
pub mod update;
mod update_copy;
mod update_input;
mod update_pointer;
mod update_shell;
#[cfg(test)]
pub(crate) mod update_tests;
#[cfg(test)]
mod vm_view_tests;
