//! Where each pane goes for a terminal size. Pure, so drawing and mouse hit-testing
//! agree, and narrow terminals collapse panes the same way everywhere.
use super::state::Focus;
use ratatui::layout::{Constraint, Direction, Layout, Rect};

/// At least this wide to show list, status and logs all at once.
pub const WIDE: u16 = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Areas {
    pub banner: Option<Rect>,
    pub list: Rect,
    pub status: Option<Rect>,
    pub logs: Option<Rect>,
    /// The tab bar over the bottom pane (when shells are open).
    pub tabs: Option<Rect>,
    /// The active shell's pane (border included).
    pub shell: Option<Rect>,
    pub jobs: Option<Rect>,
    pub input: Option<Rect>,
    pub statusbar: Rect,
}

/// What the layout depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flags {
    pub banner: bool,
    pub jobs: usize,
    pub focus: Focus,
    pub input: bool,
    /// Shell tabs exist (a tab bar is shown).
    pub tabs: bool,
    /// The bottom pane shows a shell rather than logs.
    pub shell: bool,
    /// The shell fills everything but the status bar.
    pub fullscreen: bool,
}

pub fn areas(size: Rect, f: &Flags) -> Areas {
    let Flags {
        banner,
        jobs,
        focus,
        input,
        ..
    } = *f;
    let mut a = Areas::default();
    let jobs_h = jobs.min(3) as u16;
    let v = Layout::default()
        .direction(Direction::Vertical)
        .constraints([
            Constraint::Length(2 * u16::from(banner)),
            Constraint::Min(3),
            Constraint::Length(jobs_h),
            Constraint::Length(u16::from(input)),
            Constraint::Length(1),
        ])
        .split(size);
    a.banner = banner.then_some(v[0]);
    a.jobs = (jobs_h > 0).then_some(v[2]);
    a.input = input.then_some(v[3]);
    a.statusbar = v[4];
    let main = v[1];
    if f.fullscreen {
        a.shell = Some(main);
        return a;
    }
    if main.height < 10 {
        a.list = main;
        return a;
    }
    let rows = Layout::default()
        .direction(Direction::Vertical)
        .constraints([Constraint::Percentage(45), Constraint::Min(4)])
        .split(main);
    if size.width >= WIDE {
        let top = Layout::default()
            .direction(Direction::Horizontal)
            .constraints([Constraint::Percentage(60), Constraint::Percentage(40)])
            .split(rows[0]);
        a.list = top[0];
        a.status = Some(top[1]);
        bottom(&mut a, rows[1], f);
    } else {
        a.list = rows[0];
        if focus == Focus::Status {
            a.status = Some(rows[1]);
        } else {
            bottom(&mut a, rows[1], f);
        }
    }
    a
}

/// The pane under the list: a tab bar when shells are open, then logs or a shell.
fn bottom(a: &mut Areas, r: Rect, f: &Flags) {
    let body = if f.tabs && r.height > 4 {
        a.tabs = Some(Rect::new(r.x, r.y, r.width, 1));
        Rect::new(r.x, r.y + 1, r.width, r.height - 1)
    } else {
        r
    };
    if f.shell {
        a.shell = Some(body);
    } else {
        a.logs = Some(body);
    }
}

/// A rectangle of `w` x `h` centred in `r` (clamped).
pub fn centered(r: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(r.width);
    let h = h.min(r.height);
    Rect::new(r.x + (r.width - w) / 2, r.y + (r.height - h) / 2, w, h)
}

/// Where the help screen goes on a terminal of `size` (width, height).
pub fn help_area(size: (u16, u16)) -> Rect {
    let area = Rect::new(0, 0, size.0, size.1);
    centered(area, 70, area.height.saturating_sub(2))
}

/// The furthest the help can scroll: its last page stays full.
pub fn help_max_scroll(lines: usize, size: (u16, u16)) -> usize {
    let inner = usize::from(help_area(size).height.saturating_sub(2));
    lines.saturating_sub(inner)
}

/// The size (rows, cols) a shell gets inside its pane's border.
pub fn shell_size(r: Rect) -> (u16, u16) {
    (
        r.height.saturating_sub(2).max(1),
        r.width.saturating_sub(2).max(1),
    )
}

/// Rows of workspaces that fit in the list pane (borders and header excluded).
pub fn list_rows(list: Rect) -> usize {
    usize::from(list.height.saturating_sub(3))
}

/// Lines of log text that fit in the logs pane.
pub fn log_rows(logs: Rect) -> usize {
    usize::from(logs.height.saturating_sub(2))
}

pub fn contains(r: Rect, col: u16, row: u16) -> bool {
    col >= r.x && col < r.x + r.width && row >= r.y && row < r.y + r.height
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(banner: bool, jobs: usize, focus: Focus, input: bool) -> Flags {
        Flags {
            banner,
            jobs,
            focus,
            input,
            tabs: false,
            shell: false,
            fullscreen: false,
        }
    }

    #[test]
    fn shells_get_a_tab_bar_and_full_screen() {
        let mut f = flags(false, 0, Focus::Shell, false);
        f.tabs = true;
        f.shell = true;
        let a = areas(Rect::new(0, 0, 120, 40), &f);
        assert!(a.tabs.is_some() && a.shell.is_some() && a.logs.is_none());
        f.fullscreen = true;
        let full = areas(Rect::new(0, 0, 120, 40), &f);
        assert_eq!(full.shell, Some(Rect::new(0, 0, 120, 39)));
        assert_eq!(shell_size(full.shell.unwrap()), (37, 118));
    }

    #[test]
    fn wide_shows_three_panes_narrow_collapses() {
        let wide = areas(
            Rect::new(0, 0, 160, 48),
            &flags(false, 0, Focus::List, false),
        );
        assert!(wide.status.is_some() && wide.logs.is_some());
        let narrow = areas(
            Rect::new(0, 0, 80, 24),
            &flags(false, 0, Focus::List, false),
        );
        assert!(narrow.status.is_none() && narrow.logs.is_some());
        let narrow_status = areas(
            Rect::new(0, 0, 80, 24),
            &flags(false, 0, Focus::Status, false),
        );
        assert!(narrow_status.status.is_some() && narrow_status.logs.is_none());
        let tiny = areas(Rect::new(0, 0, 40, 8), &flags(true, 2, Focus::List, true));
        assert!(tiny.banner.is_some() && tiny.logs.is_none());
        assert_eq!(tiny.statusbar.y, 7);
        assert_eq!(tiny.banner.map(|b| b.height), Some(2));
    }
}
