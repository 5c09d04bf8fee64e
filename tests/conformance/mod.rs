//! Conformance of berth's shell pane with a reference terminal (tmux): the same
//! bytes drawn by both, compared cell by cell.
pub mod berth;
pub mod cases;
pub mod reference;
pub mod screen;
