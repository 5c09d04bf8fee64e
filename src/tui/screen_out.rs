//! The real terminal berth draws on: each frame leaves in one write, between the
//! synchronized-update marks (DEC mode 2026), so a terminal (or tmux, or a test
//! reading the screen) never shows half a frame: rows of the new frame over the
//! status bar of the old one.
//!
//! `ratatui::init` draws through `Stdout`, whose line buffer is 1 KiB: a frame
//! of a wide screen went out in dozens of writes. Here the buffer holds a whole
//! frame and is flushed once, at the end of `draw`. Terminals that do not know
//! mode 2026 ignore its marks.
use crossterm::terminal::{BeginSynchronizedUpdate, EndSynchronizedUpdate};
use crossterm::{execute, queue};
use ratatui::backend::CrosstermBackend;
use ratatui::{Frame, Terminal};
use std::io::{BufWriter, Stdout, Write};

/// Big enough for a full frame of a large screen with colours (flushed per frame).
const FRAME_BUFFER: usize = 256 * 1024;

pub type Screen = Terminal<CrosstermBackend<BufWriter<Stdout>>>;

/// Raw mode, the alternate screen, and a panic hook that restores the terminal
/// (what `ratatui::init` does), over a buffered backend.
pub fn init() -> std::io::Result<Screen> {
    let prev = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        ratatui::restore();
        prev(info);
    }));
    crossterm::terminal::enable_raw_mode()?;
    execute!(std::io::stdout(), crossterm::terminal::EnterAlternateScreen)?;
    let out = BufWriter::with_capacity(FRAME_BUFFER, std::io::stdout());
    Terminal::new(CrosstermBackend::new(out))
}

/// Draws one frame as one synchronized update. The end mark is sent even when
/// the draw fails, so the terminal never waits for it.
pub fn draw(screen: &mut Screen, render: impl FnOnce(&mut Frame)) -> std::io::Result<()> {
    queue!(screen.backend_mut(), BeginSynchronizedUpdate)?;
    let drawn = screen.draw(render).map(|_| ());
    let ended = queue!(screen.backend_mut(), EndSynchronizedUpdate)
        .and_then(|()| screen.backend_mut().flush());
    drawn.and(ended)
}
