//! SSH port leases: a port reserved by a create in progress, under an exclusive
//! write transaction so concurrent berth processes never get the same port. A lease
//! lives only while its create runs: it is released when the create ends, and a
//! lease whose creating process has ended (killed, power cut) is free at once.
//! Leases are per engine: each host has its own ports, so the same port may be
//! leased on two engines at once.
use super::process::Creator;
use crate::domain::ports::{lowest_free, PortRange, Taken};
use anyhow::Result;
use rusqlite::{params, Connection, TransactionBehavior};
use std::collections::BTreeSet;
use std::net::IpAddr;

/// What a reservation needs to know, read from the engine just before.
#[derive(Debug, Clone)]
pub struct LeaseRequest {
    /// berth's name of the engine the port is on (`domain::engines`).
    pub engine: String,
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
        let mut st =
            tx.prepare("SELECT port, pid, pid_start FROM port_leases WHERE engine = ?1")?;
        let rows = st.query_map(params![req.engine], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?;
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
            tx.execute(
                "DELETE FROM port_leases WHERE engine = ?1 AND port = ?2",
                params![req.engine, port],
            )?;
        }
    }
    let probe = req.probe;
    let port = lowest_free(req.range, &taken, |p| {
        probe.is_some_and(|addr| std::net::TcpListener::bind((addr, p)).is_err())
    })?;
    tx.execute(
        "INSERT INTO port_leases (engine, port, name, token, created_at, pid, pid_start)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            req.engine,
            port,
            req.name,
            req.token,
            super::now(),
            me.pid,
            me.start
        ],
    )?;
    tx.commit()?;
    Ok(port)
}

pub(super) fn release(conn: &Connection, token: &str) -> Result<()> {
    conn.execute("DELETE FROM port_leases WHERE token = ?1", params![token])?;
    Ok(())
}

/// The leases table keyed by (engine, port). A store from before several
/// engines (keyed by port alone) is moved over in one transaction, its leases
/// kept as leases on the `default` engine.
pub(super) const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS port_leases (
     engine TEXT NOT NULL DEFAULT 'default',
     port INTEGER NOT NULL,
     name TEXT NOT NULL,
     token TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     pid INTEGER,
     pid_start INTEGER,
     PRIMARY KEY (engine, port));";

/// Moves a port-keyed leases table (with or without the creator columns) onto
/// [`SCHEMA`]; nothing to do when it has the `engine` column already.
pub(super) fn migrate(conn: &Connection) -> rusqlite::Result<()> {
    if super::has_column(conn, "port_leases", "engine")? {
        return Ok(());
    }
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let moved = move_by_port(conn);
    let end = match moved {
        Ok(()) => conn.execute_batch("COMMIT"),
        Err(e) => Err(e),
    };
    end.inspect_err(|_| {
        let _ = conn.execute_batch("ROLLBACK");
    })
}

/// Inside the migration's transaction: another process may have moved it since
/// the first look.
fn move_by_port(conn: &Connection) -> rusqlite::Result<()> {
    if super::has_column(conn, "port_leases", "engine")? {
        return Ok(());
    }
    let vals = match super::has_column(conn, "port_leases", "pid")? {
        true => "pid, pid_start",
        false => "NULL, NULL",
    };
    conn.execute_batch(&format!(
        "ALTER TABLE port_leases RENAME TO port_leases_by_port;
         {SCHEMA}
         INSERT INTO port_leases (engine, port, name, token, created_at, pid, pid_start)
             SELECT 'default', port, name, token, created_at, {vals} FROM port_leases_by_port;
         DROP TABLE port_leases_by_port;"
    ))
}

#[cfg(test)]
mod tests {
    use super::super::tests::conn;
    use super::*;

    fn req(name: &str, range: (u16, u16)) -> LeaseRequest {
        LeaseRequest {
            engine: "default".into(),
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
            "INSERT INTO port_leases (engine, port, name, token, created_at) VALUES ('default', 3001, 'old', 't', 0)",
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

    #[test]
    fn the_same_port_is_leased_on_two_engines() {
        let mut c = conn();
        let mut a = req("a", (3000, 3001));
        a.engine = "build".into();
        let b = req("b", (3000, 3001));
        assert_eq!(reserve(&mut c, &a, ME, &alive_unless_dead).unwrap(), 3000);
        assert_eq!(reserve(&mut c, &b, ME, &alive_unless_dead).unwrap(), 3000);
        let mut a2 = req("a2", (3000, 3001));
        a2.engine = "build".into();
        assert_eq!(reserve(&mut c, &a2, ME, &alive_unless_dead).unwrap(), 3001);
        // An ended create's lease on one engine frees only that engine's port.
        let mut gone = req("gone", (3005, 3005));
        gone.engine = "build".into();
        reserve(&mut c, &gone, DEAD, &alive_unless_dead).unwrap();
        let mut on_default = req("x", (3005, 3005));
        on_default.token = "tok-x".into();
        reserve(&mut c, &on_default, ME, &alive_unless_dead).unwrap();
        let err = reserve(&mut c, &req("y", (3005, 3005)), ME, &alive_unless_dead).unwrap_err();
        assert!(err.to_string().contains("1 reserved"), "{err}");
    }

    #[test]
    fn a_store_from_before_engines_keeps_its_leases_on_default() {
        for creator in [false, true] {
            let c = Connection::open_in_memory().unwrap();
            let extra = if creator {
                ", pid INTEGER, pid_start INTEGER"
            } else {
                ""
            };
            c.execute_batch(&format!(
                "CREATE TABLE port_leases (port INTEGER PRIMARY KEY, name TEXT NOT NULL, token TEXT NOT NULL, created_at INTEGER NOT NULL{extra});
                 INSERT INTO port_leases (port, name, token, created_at) VALUES (2200, 'old', 't1', 5);"
            ))
            .unwrap();
            if creator {
                c.execute("UPDATE port_leases SET pid = 10, pid_start = 1", [])
                    .unwrap();
            }
            crate::store::setup(&c).unwrap();
            crate::store::setup(&c).unwrap(); // twice: nothing left to do
            let row: (String, u16, String, Option<u32>) = c
                .query_row("SELECT engine, port, name, pid FROM port_leases", [], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
                })
                .unwrap();
            assert_eq!(
                row,
                ("default".into(), 2200, "old".into(), creator.then_some(10))
            );
            let mut c = c;
            // Kept as a live lease (creator alive) on default, free on another engine.
            let mut other = req("n", (2200, 2200));
            other.engine = "build".into();
            assert_eq!(
                reserve(&mut c, &other, ME, &alive_unless_dead).unwrap(),
                2200
            );
            let on_default = reserve(&mut c, &req("d", (2200, 2200)), ME, &alive_unless_dead);
            assert_eq!(on_default.is_err(), creator, "{on_default:?}");
        }
    }
}
