//! SSH port leases: a port reserved by a create in progress, under an exclusive
//! write transaction so concurrent berth processes never get the same port. A lease
//! lives only while its create runs: it is released when the create ends, and a
//! lease whose creating process has ended (killed, power cut) is free at once.
use super::process::Creator;
use crate::domain::ports::{lowest_free, PortRange, Taken};
use anyhow::Result;
use rusqlite::{params, Connection, TransactionBehavior};
use std::collections::BTreeSet;
use std::net::IpAddr;

/// What a reservation needs to know, read from the engine just before.
#[derive(Debug, Clone)]
pub struct LeaseRequest {
    pub name: String,
    /// Identifies this create's lease (released by token).
    pub token: String,
    pub range: PortRange,
    /// Ports recorded on existing workspaces.
    pub workspaces: BTreeSet<u16>,
    /// Ports the engine refused moments ago.
    pub skip: BTreeSet<u16>,
    /// Skip ports another program holds on this address (bind probe); None: no probe.
    pub probe: Option<IpAddr>,
}

pub(super) fn reserve(
    conn: &mut Connection,
    req: &LeaseRequest,
    me: Creator,
    alive: &dyn Fn(&Creator) -> bool,
) -> Result<u16> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let leases: Vec<(u16, Option<u32>, Option<u64>)> = {
        let mut st = tx.prepare("SELECT port, pid, pid_start FROM port_leases")?;
        let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let mut taken = Taken {
        workspaces: req.workspaces.clone(),
        reserved: req.skip.clone(),
    };
    for (port, pid, start) in leases {
        let creator = pid.zip(start).map(|(pid, start)| Creator { pid, start });
        if creator.is_some_and(|c| alive(&c)) {
            taken.reserved.insert(port);
        } else {
            // Its create ended without releasing it: the workspace, if it was made,
            // holds the port through its label; otherwise nothing does.
            tx.execute("DELETE FROM port_leases WHERE port = ?1", params![port])?;
        }
    }
    let probe = req.probe;
    let port = lowest_free(req.range, &taken, |p| {
        probe.is_some_and(|addr| std::net::TcpListener::bind((addr, p)).is_err())
    })?;
    tx.execute(
        "INSERT INTO port_leases (port, name, token, created_at, pid, pid_start)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![port, req.name, req.token, super::now(), me.pid, me.start],
    )?;
    tx.commit()?;
    Ok(port)
}

pub(super) fn release(conn: &Connection, token: &str) -> Result<()> {
    conn.execute("DELETE FROM port_leases WHERE token = ?1", params![token])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::tests::conn;
    use super::*;

    fn req(name: &str, range: (u16, u16)) -> LeaseRequest {
        LeaseRequest {
            name: name.into(),
            token: format!("tok-{name}"),
            range: PortRange::new(range.0, range.1).unwrap(),
            workspaces: BTreeSet::new(),
            skip: BTreeSet::new(),
            probe: None,
        }
    }

    const ME: Creator = Creator { pid: 10, start: 1 };
    const DEAD: Creator = Creator { pid: 11, start: 1 };

    fn alive_unless_dead(c: &Creator) -> bool {
        *c != DEAD
    }

    #[test]
    fn leases_are_distinct_and_released_by_token() {
        let mut c = conn();
        let a = reserve(&mut c, &req("a", (3000, 3002)), ME, &alive_unless_dead).unwrap();
        let b = reserve(&mut c, &req("b", (3000, 3002)), ME, &alive_unless_dead).unwrap();
        assert_eq!((a, b), (3000, 3001));
        release(&c, "wrong").unwrap();
        release(&c, "tok-a").unwrap();
        assert_eq!(
            reserve(&mut c, &req("c", (3000, 3002)), ME, &alive_unless_dead).unwrap(),
            3000
        );
        reserve(&mut c, &req("d", (3000, 3002)), ME, &alive_unless_dead).unwrap();
        let err = reserve(&mut c, &req("e", (3000, 3002)), ME, &alive_unless_dead)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("3000-3002") && err.contains("3 reserved by creates in progress"),
            "{err}"
        );
    }

    #[test]
    fn engine_ports_skips_and_busy_ports_are_respected() {
        let mut c = conn();
        let held = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
        let busy = held.local_addr().unwrap().port();
        let mut r = req("a", (busy - 3, busy));
        r.workspaces = [busy - 3].into();
        r.skip = [busy - 2].into();
        r.probe = Some("127.0.0.1".parse().unwrap());
        assert_eq!(
            reserve(&mut c, &r, ME, &alive_unless_dead).unwrap(),
            busy - 1
        );
        let err = reserve(&mut c, &r, ME, &alive_unless_dead)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(
                "1 used by workspaces, 2 reserved by creates in progress, 1 held by other programs"
            ),
            "{err}"
        );
    }

    #[test]
    fn a_lease_of_an_ended_create_is_free_at_once() {
        let mut c = conn();
        let r = req("gone", (3000, 3000));
        reserve(&mut c, &r, DEAD, &alive_unless_dead).unwrap();
        // Legacy rows (no pid) count as ended too.
        c.execute(
            "INSERT INTO port_leases (port, name, token, created_at) VALUES (3001, 'old', 't', 0)",
            [],
        )
        .unwrap();
        let got = reserve(&mut c, &req("n", (3000, 3001)), ME, &alive_unless_dead).unwrap();
        assert_eq!(got, 3000);
        let got = reserve(&mut c, &req("m", (3000, 3001)), ME, &alive_unless_dead).unwrap();
        assert_eq!(got, 3001);
        // A live create's lease is kept.
        let err = reserve(&mut c, &req("x", (3000, 3001)), ME, &alive_unless_dead).unwrap_err();
        assert!(err.to_string().contains("2 reserved"), "{err}");
    }
}
