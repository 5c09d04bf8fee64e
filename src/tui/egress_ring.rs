//! The audit view's records: a bounded ring (the oldest go first), the positions
//! of the records the filter keeps (kept up to date as records come and go, so a
//! frame only looks at the rows it draws), follow and scroll. Pure.
use crate::domain::egress::EgressRecord;
use crate::domain::egress_audit::{AuditFilter, EgressCounts};
use std::collections::VecDeque;

/// Records the view keeps by default (`[tui] egress_records`).
pub const DEFAULT_RECORDS: usize = 100_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EgressRing {
    records: VecDeque<EgressRecord>,
    capacity: usize,
    /// The number of `records[0]` (records are numbered as they arrive).
    first: u64,
    filter: AuditFilter,
    /// Numbers of the kept records the filter matches, ascending.
    matches: VecDeque<u64>,
    /// Matches between the bottom of the table and the newest (0: following).
    from_bottom: usize,
    /// Every record received (those evicted from the ring too).
    pub counts: EgressCounts,
}

impl EgressRing {
    pub fn new(capacity: usize) -> Self {
        Self {
            records: VecDeque::new(),
            capacity: capacity.max(1),
            first: 0,
            filter: AuditFilter::default(),
            matches: VecDeque::new(),
            from_bottom: 0,
            counts: EgressCounts::default(),
        }
    }

    pub fn clear(&mut self) {
        self.first += self.records.len() as u64;
        self.records.clear();
        self.matches.clear();
        self.from_bottom = 0;
        self.counts = EgressCounts::default();
    }

    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Records the filter keeps.
    pub fn matched(&self) -> usize {
        self.matches.len()
    }

    pub fn filter(&self) -> &AuditFilter {
        &self.filter
    }

    /// Rows scrolled back from the newest (0: following new records).
    pub fn from_bottom(&self) -> usize {
        self.from_bottom
    }

    pub fn following(&self) -> bool {
        self.from_bottom == 0
    }

    fn record(&self, n: u64) -> Option<&EgressRecord> {
        self.records
            .get(usize::try_from(n.checked_sub(self.first)?).ok()?)
    }

    pub fn push(&mut self, batch: Vec<EgressRecord>) {
        for r in batch {
            self.counts.add(&r);
            let n = self.first + self.records.len() as u64;
            if self.filter.matches(&r) {
                self.matches.push_back(n);
                // Scrolled back: the rows shown stay where they are.
                if self.from_bottom > 0 {
                    self.from_bottom += 1;
                }
            }
            self.records.push_back(r);
            if self.records.len() > self.capacity {
                self.records.pop_front();
                if self.matches.front() == Some(&self.first) {
                    self.matches.pop_front();
                }
                self.first += 1;
            }
        }
        self.from_bottom = self.from_bottom.min(self.matches.len());
    }

    /// Shows what `filter` keeps, following again. Narrowing (one more letter,
    /// denied only) looks only at the rows shown so far.
    pub fn set_filter(&mut self, filter: AuditFilter) {
        if filter == self.filter {
            return;
        }
        let first = self.first;
        if filter.narrows(&self.filter) {
            let records = &self.records;
            self.matches.retain(|n| {
                records
                    .get((n - first) as usize)
                    .is_some_and(|r| filter.matches(r))
            });
        } else {
            self.matches = (first..)
                .zip(&self.records)
                .filter(|(_, r)| filter.matches(r))
                .map(|(n, _)| n)
                .collect();
        }
        self.filter = filter;
        self.from_bottom = 0;
    }

    /// The `rows` matches at the bottom of the table, oldest first.
    pub fn visible(&self, rows: usize) -> impl Iterator<Item = &EgressRecord> {
        let end = self.matches.len() - self.from_bottom.min(self.matches.len());
        let start = end.saturating_sub(rows);
        self.matches
            .range(start..end)
            .filter_map(|n| self.record(*n))
    }

    /// Scrolls back `n` rows (never past the first page of a table `rows` high).
    pub fn scroll_up(&mut self, n: usize, rows: usize) {
        let max = self.matches.len().saturating_sub(rows.max(1));
        self.from_bottom = (self.from_bottom + n).min(max);
    }

    pub fn scroll_down(&mut self, n: usize) {
        self.from_bottom = self.from_bottom.saturating_sub(n);
    }

    pub fn top(&mut self, rows: usize) {
        self.scroll_up(usize::MAX / 2, rows);
    }

    pub fn follow(&mut self) {
        self.from_bottom = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::egress_audit::tests::rec;
    use proptest::prelude::*;

    fn ring(n: usize, cap: usize) -> EgressRing {
        let mut r = EgressRing::new(cap);
        r.push(
            (0..n)
                .map(|i| rec(&format!("h{i}.test"), i % 3 != 0, Some(200)))
                .collect(),
        );
        r
    }

    fn hosts<'a>(it: impl Iterator<Item = &'a EgressRecord>) -> Vec<String> {
        it.map(|r| r.host.clone()).collect()
    }

    #[test]
    fn bounded_following_and_counting_every_record() {
        let r = ring(25, 10);
        assert_eq!(r.len(), 10);
        assert_eq!(hosts(r.visible(2)), ["h23.test", "h24.test"]);
        assert_eq!(r.counts.requests, 25);
        assert_eq!(r.counts.denied, 9);
    }

    #[test]
    fn scrolled_back_rows_stay_put_while_records_arrive() {
        let mut r = ring(20, 100);
        r.scroll_up(5, 3);
        let before = hosts(r.visible(3));
        r.push(vec![rec("new.test", true, None)]);
        assert_eq!(hosts(r.visible(3)), before);
        r.follow();
        assert_eq!(hosts(r.visible(1)), ["new.test"]);
    }

    #[test]
    fn filters_narrow_and_widen() {
        let mut r = ring(30, 100);
        r.set_filter(AuditFilter::new(true, ""));
        assert_eq!(r.matched(), 10);
        r.set_filter(AuditFilter::new(true, "h2"));
        assert_eq!(hosts(r.visible(10)), ["h21.test", "h24.test", "h27.test"]);
        r.set_filter(AuditFilter::new(false, "h2"));
        assert_eq!(r.matched(), 11);
        // New records are matched as they come.
        r.push(vec![rec("h2x.test", true, None), rec("other", true, None)]);
        assert_eq!(r.matched(), 12);
    }

    proptest! {
        #[test]
        fn matches_are_what_the_filter_keeps_of_the_ring(
            cap in 1usize..40, n in 0usize..120, q in "h[0-9]?", denied in any::<bool>(),
            ups in 0usize..50, rows in 1usize..20, narrow_first in any::<bool>(),
        ) {
            let mut r = EgressRing::new(cap);
            let f = AuditFilter::new(denied, &q);
            if narrow_first {
                r.set_filter(AuditFilter::new(false, "h"));
            }
            for i in 0..n {
                r.push(vec![rec(&format!("h{i}"), i % 2 == 0, None)]);
                if i == n / 2 {
                    r.set_filter(f.clone());
                }
            }
            r.set_filter(f.clone());
            let want: Vec<String> = r.records.iter().filter(|x| f.matches(x)).map(|x| x.host.clone()).collect();
            prop_assert_eq!(r.matched(), want.len());
            prop_assert!(r.len() <= cap);
            prop_assert_eq!(r.counts.requests, n as u64);
            r.scroll_up(ups, rows);
            let shown = hosts(r.visible(rows));
            prop_assert!(shown.len() <= rows);
            let end = want.len() - r.from_bottom();
            prop_assert_eq!(&shown[..], &want[end.saturating_sub(rows)..end]);
        }
    }
}
